//! Download jobs: started for an entry (never twice), stopped on pause or removal, finished
//! into the entry's new state, restarted when the worker wakes or the network comes back.

use super::Manager;
use crate::entry::{Entry, Mode, State, StopReason};
use crate::error::{Code, KalturaError};
use crate::job::{self, JobError, Outcome};
use crate::ports::{Fetcher, Host, Store};
use crate::protocol::Event;
use futures::future::{AbortHandle, Abortable};
use std::rc::Rc;

/// What a wake found, for the keep-alive's count and for tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resumed {
    /// Jobs the wake started.
    pub started: usize,
    /// Entries left downloading: those started, those already running or being finished, and
    /// those the browser downloads in the background.
    pub downloading: usize,
}

impl<F: Fetcher, S: Store<F::Body>, H: Host> Manager<F, S, H> {
    /// Starts every job that should be running but is not: those the worker was stopped in the
    /// middle of, and those paused by a network failure once the device is online again (never
    /// those paused by the user, or by a full disk, which waits for the user to free space).
    pub async fn resume_unfinished(self: &Rc<Self>) -> Result<Resumed, KalturaError> {
        self.woken.set(true);
        // Every ping comes here: it reads the small entry records, and a plan (every segment of
        // a title) only for an entry it acts on, so a large library costs a ping little.
        let entries = self.entries_light().await?;
        if !self.probed.replace(true) {
            self.probe_later();
        }
        let mut resumed = Resumed::default();
        // The browser's background fetches, asked once per wake and only if an entry has some.
        let mut active: Option<Option<Vec<String>>> = None;
        let busy = |id: &str| {
            self.running.borrow().contains_key(id) || self.finishing.borrow().contains(id)
        };
        for light in entries {
            if busy(&light.id) {
                resumed.downloading += 1;
                continue;
            }
            let acts = light.state == State::Downloading
                || (light.state == State::Paused && light.stop_reason == Some(StopReason::Network));
            if !acts {
                continue;
            }
            // With its plan, which the writes below keep and the job needs.
            let mut e = match light.plan {
                Some(_) => light,
                None => match self.entry(&light.id).await {
                    Ok(e) => e,
                    Err(e) if e.code == Code::EntryDoesNotExist.number() => continue, // removed meanwhile
                    Err(e) => return Err(e),
                },
            };
            if busy(&e.id) {
                // Another wake started it while this one read the plan.
                resumed.downloading += 1;
                continue;
            }
            let network_back = e.state == State::Paused
                && e.stop_reason == Some(StopReason::Network)
                && self.host.online();
            if network_back {
                self.set_state(&mut e, State::Downloading, None, None)
                    .await?;
            }
            if e.state == State::Downloading && !e.background_fetches.is_empty() {
                let active = match &active {
                    Some(a) => a,
                    None => active.insert(self.fetcher.background_active().await),
                };
                if self.background_still_out(&mut e, active).await? {
                    resumed.downloading += 1;
                    continue; // the browser downloads it, or the foreground took over
                }
            }
            if e.state == State::Downloading {
                self.waiting.borrow_mut().remove(&e.id);
                self.start_job(e);
                resumed.started += 1;
                resumed.downloading += 1;
            }
        }
        Ok(resumed)
    }

    /// While the worker lives, retries an entry paused by the network with growing delays
    /// (5 s doubling to 60 s, for about ten minutes). Pages keep pinging meanwhile (it counts in `active_jobs`), and
    /// any page event after a worker restart resumes it through `resume_unfinished`.
    fn retry_when_online(self: &Rc<Self>, id: String) {
        if !self.waiting.borrow_mut().insert(id.clone()) {
            return;
        }
        let me = self.clone();
        self.host.spawn(Box::pin(async move {
            let mut delay = 5_000u32;
            // About ten minutes of tries; after that pages stop keeping the worker alive for it
            // and their next 'online' event (or any other) resumes it.
            for _ in 0..14 {
                me.host.sleep(delay).await;
                delay = (delay * 2).min(60_000);
                if !me.waiting.borrow().contains(&id) {
                    return; // resumed, paused, or removed meanwhile
                }
                let entry = match me.store.get_entry(&id).await {
                    Ok(Some(e)) => e,
                    _ => break,
                };
                if entry.state != State::Paused || entry.stop_reason != Some(StopReason::Network) {
                    break;
                }
                if me.host.online() {
                    let _ = me.resume_unfinished().await;
                    return;
                }
            }
            me.waiting.borrow_mut().remove(&id);
        }));
    }

    /// The database went away under the worker: another context needs it (a newer release's
    /// upgrade, a page deleting it) or the browser closed it. Every running job stops without
    /// touching its entry, which stays `downloading`, so the next wake resumes whatever still
    /// exists once the database opens again. `vanished`: the reopened database was empty where
    /// this worker had one, so the browser deleted the site's storage, and every page is told.
    pub fn storage_lost(&self, vanished: bool) {
        // What the next open finds may differ from what any page's listing shows.
        self.changed();
        let running: Vec<_> = self.running.borrow_mut().drain().collect();
        for (_, (_, handle)) in running {
            handle.abort();
        }
        self.waiting.borrow_mut().clear();
        self.claims.borrow_mut().clear();
        if vanished {
            self.host.emit(Event::Error(KalturaError::new(
                Code::IndexedDbError,
                "the browser deleted this site's offline storage (its data was cleared, or it was \
                 evicted under storage pressure): the stored titles are gone; download them \
                 again, and ask for persistent storage (navigator.storage.persist()) so the \
                 browser keeps them",
                None,
            )));
        }
    }

    pub(super) fn stop_job(&self, id: &str) {
        self.waiting.borrow_mut().remove(id);
        if let Some((_, handle)) = self.running.borrow_mut().remove(id) {
            handle.abort();
        }
    }

    /// Starts downloading an entry in its mode: a background round, or the foreground job.
    pub(super) fn start_job(self: &Rc<Self>, entry: Entry) {
        self.waiting.borrow_mut().remove(&entry.id);
        match entry.mode {
            Mode::Background => self.start_background(entry),
            Mode::Foreground => self.start_foreground(entry),
        }
    }

    /// Starts the worker's own download job for an entry.
    pub(super) fn start_foreground(self: &Rc<Self>, entry: Entry) {
        self.waiting.borrow_mut().remove(&entry.id);
        let Some(plan) = entry.plan.clone() else {
            return;
        };
        let (handle, registration) = AbortHandle::new_pair();
        let gen = self.generation.get() + 1;
        self.generation.set(gen);
        self.running
            .borrow_mut()
            .insert(entry.id.clone(), (gen, handle));
        let me = self.clone();
        let id = entry.id;
        let allowed = entry.options.redirect_origins.unwrap_or_default();
        let concurrency = entry.options.concurrency;
        self.host.spawn(Box::pin(async move {
            let mine = |me: &Self| me.running.borrow().get(&id).map(|(g, _)| *g) == Some(gen);
            // Another worker of this origin (a second registration, or the old version during
            // an update) may run this job already: then this one leaves it alone.
            let lock = me.host.try_lock(&format!("offline-manager:job:{id}")).await;
            // With the lock, the entry is read again: the worker that held it may have finished
            // (or removed) the entry since this one read it.
            let current = match lock {
                Some(_) => me.store.get_entry(&id).await.ok().flatten(),
                None => None,
            };
            let wanted = current
                .is_some_and(|e| e.state == State::Downloading && e.plan.as_ref() == Some(&plan));
            if !wanted {
                if mine(&me) {
                    me.running.borrow_mut().remove(&id);
                }
                return;
            }
            let policy = job::RedirectPolicy::new(&plan, &allowed);
            let mut cfg = me.cfg;
            if let Some(c) = concurrency {
                cfg.concurrency = c.clamp(1, job::MAX_CONCURRENCY) as usize;
            }
            let claims = me.claims(&id);
            let job = job::run(
                &id,
                &plan,
                (&policy, &claims),
                me.fetcher.clone(),
                me.store.clone(),
                me.host.clone(),
                cfg,
            );
            let result = Abortable::new(job, registration).await;
            if !mine(&me) {
                return; // paused, removed or replaced: whoever stopped it set the state
            }
            me.running.borrow_mut().remove(&id);
            if let Ok(result) = result {
                me.finish(&id, result).await;
            }
            drop(lock);
        }));
    }

    pub(super) async fn finish(self: &Rc<Self>, id: &str, result: Result<Outcome, JobError>) {
        if matches!(result, Err(JobError::Network(_))) {
            self.retry_when_online(id.to_string());
        }
        let Ok(mut entry) = self.entry(id).await else {
            return;
        };
        let (state, reason, error, counted) = match result {
            Ok(Outcome::Completed(c)) => (State::Completed, None, None, Some(c)),
            Err(JobError::Network(e)) => (State::Paused, Some(StopReason::Network), Some(e), None),
            Err(JobError::Quota(e)) => (State::Paused, Some(StopReason::Quota), Some(e), None),
            Err(JobError::Fatal(e)) => (State::Failed, Some(StopReason::Error), Some(e), None),
        };
        if self
            .write_state(&mut entry, (state, reason, error.clone()), counted)
            .await
            .is_ok()
        {
            if let Some(e) = error {
                self.host.emit(Event::Error(e));
            }
        }
    }
}
