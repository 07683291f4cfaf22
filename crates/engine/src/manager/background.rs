//! Background mode: what is left of an entry handed to the browser's Background Fetch (which
//! goes on with every page closed), its deliveries stored, and the fall back to the foreground
//! engine when the browser has no Background Fetch, refuses one or fails it.
//!
//! Browsers let only pages call `backgroundFetch.fetch()`, so a hand-over takes a page: after
//! `download` or `resume` in background mode the page asks `backgroundPlan` (what is left, cut
//! into fetches within [`job::BACKGROUND_LIMITS`]), starts them, and says which the browser took
//! (`backgroundStarted`). The entry lists the fetches still out; only their deliveries are
//! stored. When the last one is delivered the entry is complete, or (a fetch failed, or a
//! delivery was lost with a killed worker) the rest downloads in the foreground from the stored
//! records on.

use super::{Manager, Res};
use crate::entry::{Entry, Mode, State};
use crate::error::{Code, KalturaError};
use crate::job::{self, JobError, Ports, RedirectPolicy};
use crate::layout;
use crate::ports::{BackgroundEnd, Delivered, Fetcher, Host, Store};
use crate::progress::{held, Totals};
use crate::protocol::{Answer, BackgroundPlan, BackgroundRequest, Event};
use mpd::SelectOptions;
use serde_json::Value;
use std::cell::Cell;
use std::rc::Rc;

/// The mode reason of a download that asked for background mode in a browser without it.
pub const NO_BACKGROUND_FETCH: &str =
    "this browser has no Background Fetch: the download runs while a page of the app is open";

impl<F: Fetcher, S: Store<F::Body>, H: Host> Manager<F, S, H> {
    /// The mode a download with `options` runs in, and why not in the background when that
    /// was asked for and cannot be.
    pub(super) fn choose_mode(&self, options: &SelectOptions) -> (Mode, Option<String>) {
        match options.background {
            Some(true) if self.fetcher.background_available() => (Mode::Background, None),
            Some(true) => (Mode::Foreground, Some(NO_BACKGROUND_FETCH.to_string())),
            _ => (Mode::Foreground, None),
        }
    }

    /// When the entry waits for a page's hand-over: now, if it is in background mode.
    pub(super) fn handover_if_background(&self, entry: &Entry) -> Option<f64> {
        (entry.mode == Mode::Background).then(|| self.host.now_ms())
    }

    /// For an entry in background mode: waits for a page's hand-over (asked for less than
    /// [`HANDOVER_WAIT_MS`] ago) or the browser's deliveries; with neither, the entry downloads
    /// in the foreground.
    pub(super) fn start_background(self: &Rc<Self>, entry: Entry) {
        let now = self.host.now_ms();
        let waiting = entry
            .background_handover
            .is_some_and(|t| now - t < HANDOVER_WAIT_MS);
        if waiting || !entry.background_fetches.is_empty() {
            self.in_background.borrow_mut().insert(entry.id.clone());
            return;
        }
        let me = self.clone();
        self.host.spawn(Box::pin(async move {
            if entry.background_handover.is_none() {
                // Its fetches were handed over and have all been delivered: a worker stopped
                // before it ended the round leaves this, and the round ends now.
                return me.finish_round(entry).await;
            }
            let reason = "no page handed the download to the browser's Background Fetch: it runs while a page of the app is open".to_string();
            me.fall_back(entry, reason).await;
        }));
    }

    /// `backgroundPlan`: what is left of the entry as background fetches for the page to start,
    /// with fresh ids. Empty unless the entry waits for a hand-over; when everything is stored
    /// already, the foreground job checks that and completes the entry.
    pub(super) async fn background_plan(self: &Rc<Self>, id: &str) -> Res {
        let mut entry = self.entry(id).await?;
        let answer = |fetches| {
            Ok(Answer::BackgroundPlan(BackgroundPlan {
                entry_id: id.to_string(),
                fetches,
            }))
        };
        let waiting = entry.state == State::Downloading
            && entry.mode == Mode::Background
            && entry.background_handover.is_some();
        let Some(plan) = entry.plan.clone().filter(|_| waiting) else {
            return answer(Vec::new());
        };
        let stored = self
            .store
            .stored_segments(id)
            .await
            .map_err(|e| e.to_kaltura(Some(id)))?;
        let batches = job::background_batches(
            id,
            &plan,
            &held(&stored),
            self.cfg.chunk_bytes,
            self.background_limits.get(),
        )
        .map_err(JobError::into_kaltura)?;
        if batches.is_empty() {
            entry.background_handover = None;
            self.save_entry(&mut entry).await?;
            self.start_foreground(entry);
            return answer(Vec::new());
        }
        let title = title_of(&entry);
        let mut fetches = Vec::with_capacity(batches.len());
        for batch in batches {
            fetches.push(BackgroundRequest {
                id: layout::background_fetch_id(id, entry.background_next),
                urls: batch.urls,
                title: title.clone(),
            });
            entry.background_next = entry.background_next.saturating_add(1);
        }
        // A page that asks again gets new ids: an id is never handed out twice.
        entry.background_handover = Some(self.host.now_ms());
        self.save_entry(&mut entry).await?;
        answer(fetches)
    }

    /// `backgroundStarted`: the fetches the browser took are the entry's; with none, it
    /// downloads in the foreground, saying why.
    pub(super) async fn background_started(
        self: &Rc<Self>,
        id: &str,
        started: Vec<String>,
        refused: Option<String>,
    ) -> Res {
        let mut entry = self.entry(id).await?;
        let waiting = entry.state == State::Downloading
            && entry.mode == Mode::Background
            && entry.background_handover.is_some();
        if !waiting {
            // Paused or removed meanwhile: what the page started is not wanted.
            for f in &started {
                self.fetcher.background_abort(f).await;
            }
            return self.summary_answer(&entry).await;
        }
        let next = entry.background_next;
        let ours = |f: &String| {
            layout::background_fetch_parts(f).is_some_and(|(e, n)| e == entry.id && n < next)
        };
        entry.background_handover = None;
        for f in started.into_iter().filter(ours) {
            if !entry.background_fetches.contains(&f) {
                entry.background_fetches.push(f);
            }
        }
        if entry.background_fetches.is_empty() {
            let why = refused.unwrap_or_else(|| "the page started none".to_string());
            let reason = format!(
                "the browser refused Background Fetch ({why}): the download runs while a page of the app is open"
            );
            self.fall_back(entry.clone(), reason).await;
            return self.summary_answer(&self.entry(id).await?).await;
        }
        self.save_entry(&mut entry).await?;
        self.in_background.borrow_mut().insert(id.to_string());
        self.summary_answer(&entry).await
    }

    /// Switches an entry to the foreground engine, saying why, and starts it.
    async fn fall_back(self: &Rc<Self>, mut entry: Entry, reason: String) {
        self.in_background.borrow_mut().remove(&entry.id);
        entry.mode = Mode::Foreground;
        entry.mode_reason = Some(reason);
        if self.save_entry(&mut entry).await.is_ok() {
            self.emit_state(&entry);
            self.start_foreground(entry);
        }
    }

    /// Stores what background fetch `fetch_id` delivered when it ended (`backgroundfetchsuccess`,
    /// `...fail` or `...abort`), then ends the round if it was the last one out. A delivery for
    /// an entry that is gone, or for a fetch that a pause or removal dropped, stores nothing.
    pub async fn background_delivered(
        self: &Rc<Self>,
        fetch_id: &str,
        end: BackgroundEnd,
        delivered: Vec<Delivered<F::Body>>,
    ) -> Result<(), KalturaError> {
        let Some(id) = layout::background_fetch_entry(fetch_id) else {
            return Ok(());
        };
        let Some(entry) = self
            .store
            .get_entry(id)
            .await
            .map_err(|e| e.to_kaltura(Some(id)))?
        else {
            return Ok(()); // removed: nothing is stored
        };
        // A fetch the entry no longer lists (aborted by a pause, or taken for lost and left to
        // the foreground) still has good segments: they are stored, and the round is not
        // touched.
        let listed = entry.background_fetches.iter().any(|f| f == fetch_id);
        let Some(plan) = entry
            .plan
            .clone()
            .filter(|_| entry.state != State::Completed)
        else {
            return Ok(());
        };
        self.browser_progress.borrow_mut().remove(fetch_id);
        let wanted = self.ingest_flag(id);
        let allowed = entry.options.redirect_origins.clone().unwrap_or_default();
        let policy = RedirectPolicy::new(&plan, &allowed);
        let ports = Ports {
            fetcher: &*self.fetcher,
            store: &*self.store,
            host: &*self.host,
        };
        let flag = wanted.clone();
        let result = job::ingest(id, &plan, &policy, ports, self.cfg, delivered, &move || {
            flag.get()
        })
        .await;
        // The entry may have been paused or removed while the delivery was stored.
        let current = self
            .store
            .get_entry(id)
            .await
            .map_err(|e| e.to_kaltura(Some(id)))?;
        let Some(mut entry) = current else {
            // Removed meanwhile: whatever was written after the removal goes too.
            self.store
                .delete_entry(id)
                .await
                .map_err(|e| e.to_kaltura(Some(id)))?;
            return Ok(());
        };
        if !listed {
            return result.map(|_| ()).map_err(JobError::into_kaltura);
        }
        entry.background_fetches.retain(|f| f != fetch_id);
        entry.background_missing_since = None;
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                self.abort_background(&mut entry).await;
                self.save_entry(&mut entry).await?;
                self.end_round(id, Err(e)).await;
                return Ok(());
            }
        };
        if entry.state != State::Downloading || !wanted.get() {
            return self.save_entry(&mut entry).await;
        }
        let failed = match (&end, report.refused.first()) {
            (BackgroundEnd::Success, None) => None,
            (BackgroundEnd::Success, Some((url, e))) => Some(format!(
                "the background fetch delivered {url} unusable ({e:?})"
            )),
            (BackgroundEnd::Failed(why), _) => {
                Some(format!("the browser's background fetch failed ({why})"))
            }
            (BackgroundEnd::Aborted, _) => {
                Some("the background fetch was cancelled in the browser".to_string())
            }
        };
        if let Some(why) = failed {
            entry.mode = Mode::Foreground;
            entry.mode_reason = Some(format!(
                "{why}: the rest downloads while a page of the app is open"
            ));
        }
        self.save_entry(&mut entry).await?;
        if entry.background_fetches.is_empty() {
            if entry.mode == Mode::Foreground {
                self.emit_state(&entry);
            }
            self.finish_round(entry).await;
        }
        Ok(())
    }

    /// Ends a round whose fetches have all been delivered; until it has, wakes leave the entry
    /// to it and pages keep pinging.
    async fn finish_round(self: &Rc<Self>, entry: Entry) {
        let id = entry.id.clone();
        self.finishing.borrow_mut().insert(id.clone());
        self.in_background.borrow_mut().remove(&id);
        self.next_round(entry).await;
        self.finishing.borrow_mut().remove(&id);
    }

    /// After the last delivery: complete the entry if everything is stored, else the foreground
    /// engine fetches the rest. Awaited, so that a worker woken only to take a delivery completes
    /// the entry before it may stop.
    async fn next_round(self: &Rc<Self>, mut entry: Entry) {
        let Some(plan) = entry.plan.clone() else {
            return;
        };
        let Ok(stored) = self.store.stored_segments(&entry.id).await else {
            return self.start_foreground(entry);
        };
        let totals = Totals::of(&plan, &stored);
        if totals.items_done == totals.items_total {
            self.host
                .emit(Event::Progress(totals.detail(&entry.id, 0.0)));
            let error = None;
            if self
                .set_state(&mut entry, State::Completed, None, error)
                .await
                .is_ok()
            {
                return;
            }
        }
        // A worker may not start background fetches: the rest is the foreground's.
        if entry.mode == Mode::Background {
            let reason = "the background fetches ended with segments missing: the rest downloads while a page of the app is open".to_string();
            return self.fall_back(entry, reason).await;
        }
        self.start_foreground(entry);
    }

    /// A round ended in an error the entry stops on (a full disk, a plan the job cannot run):
    /// the same end as a foreground job's.
    async fn end_round(self: &Rc<Self>, id: &str, result: Result<job::Outcome, JobError>) {
        self.in_background.borrow_mut().remove(id);
        self.finish(id, result).await;
    }

    /// Aborts the entry's background fetches still out (a pause or removal) and stops storing a
    /// delivery in progress: what was stored stays.
    pub(super) async fn abort_background(&self, entry: &mut Entry) {
        if let Some(flag) = self.ingesting.borrow_mut().remove(&entry.id) {
            flag.set(false);
        }
        self.in_background.borrow_mut().remove(&entry.id);
        for fetch_id in std::mem::take(&mut entry.background_fetches) {
            self.browser_progress.borrow_mut().remove(&fetch_id);
            self.fetcher.background_abort(&fetch_id).await;
        }
    }

    /// On a wake: which of an entry's background fetches the browser still has. `true` when
    /// some are still out (the browser is downloading it: nothing to start); when all are gone
    /// without a delivery (the worker was stopped while it stored one: the browser delivers
    /// once), the entry goes on in the foreground from what is stored, and this says `true` too.
    pub(super) async fn background_still_out(
        self: &Rc<Self>,
        entry: &mut Entry,
        active: &Option<Vec<String>>,
    ) -> Result<bool, KalturaError> {
        let Some(active) = active else {
            // The browser did not say: take every fetch for still out.
            self.in_background.borrow_mut().insert(entry.id.clone());
            return Ok(true);
        };
        self.in_background.borrow_mut().insert(entry.id.clone());
        let out = entry
            .background_fetches
            .iter()
            .any(|f| active.iter().any(|a| a == f));
        if out {
            if entry.background_missing_since.take().is_some() {
                self.save_entry(entry).await?;
            }
            return Ok(true);
        }
        // None is out: the browser is about to deliver the last one (it leaves the list before
        // its event runs), or it delivered it to a worker that was stopped before it stored it
        // all (the browser delivers once). After LOST_AFTER_MS the foreground takes over.
        let now = self.host.now_ms();
        match entry.background_missing_since {
            None => {
                entry.background_missing_since = Some(now);
                self.save_entry(entry).await?;
            }
            Some(since) if now - since >= LOST_AFTER_MS => {
                entry.background_fetches.clear();
                entry.background_missing_since = None;
                let reason = "the browser ended its background fetch while the worker was stopped, before everything was stored: the rest downloads while a page of the app is open".to_string();
                self.fall_back(entry.clone(), reason).await;
            }
            Some(_) => {}
        }
        Ok(true)
    }

    /// The browser's progress on background fetch `fetch_id` (`downloaded` bytes): pages get a
    /// progress event counting them beside what is stored, at most every progress interval.
    pub async fn background_progress(&self, fetch_id: &str, downloaded: u64) {
        let Some(id) = layout::background_fetch_entry(fetch_id) else {
            return;
        };
        self.browser_progress
            .borrow_mut()
            .insert(fetch_id.to_string(), downloaded);
        let now = self.host.now_ms();
        if now - self.last_browser_progress.get() < self.cfg.progress_interval_ms {
            return;
        }
        self.last_browser_progress.set(now);
        let Ok(Some(entry)) = self.store.get_entry(id).await else {
            return;
        };
        let (Some(plan), Ok(stored)) = (&entry.plan, self.store.stored_segments(id).await) else {
            return;
        };
        let in_flight: u64 = entry
            .background_fetches
            .iter()
            .filter_map(|f| self.browser_progress.borrow().get(f).copied())
            .fold(0u64, u64::saturating_add);
        let mut totals = Totals::of(plan, &stored);
        totals.bytes_done = totals
            .bytes_done
            .saturating_add(in_flight)
            .min(totals.bytes_total.saturating_sub(1));
        self.host.emit(Event::Progress(totals.detail(id, 0.0)));
    }

    /// The flag a delivery of `id` being stored checks before each commit.
    fn ingest_flag(&self, id: &str) -> Rc<Cell<bool>> {
        self.ingesting
            .borrow_mut()
            .entry(id.to_string())
            .or_insert_with(|| Rc::new(Cell::new(true)))
            .clone()
    }

    /// Refuses a download or resume of an entry whose background fetches are still out.
    pub(super) fn refuse_if_background(entry: &Entry) -> Result<(), KalturaError> {
        if entry.state == State::Downloading && !entry.background_fetches.is_empty() {
            return Err(KalturaError::new(
                Code::StoreAlreadyInProgress,
                format!(
                    "entry {} is downloading in the background; pause or remove it first",
                    entry.id
                ),
                Some(&entry.id),
            ));
        }
        Ok(())
    }
}

/// How long a wake leaves an entry waiting for a page's hand-over before it downloads in the
/// foreground: the page asks `backgroundPlan` and answers `backgroundStarted` within
/// milliseconds, unless it was closed in between.
pub const HANDOVER_WAIT_MS: f64 = 60_000.0;

/// How long an entry's background fetches may be missing from the browser's list, with no
/// delivery, before the rest is downloaded in the foreground.
pub const LOST_AFTER_MS: f64 = 30_000.0;

/// What the browser's download UI shows: the entry's name, else its id.
fn title_of(entry: &Entry) -> String {
    let name = entry
        .config
        .pointer("/sources/metadata/name")
        .or_else(|| entry.config.pointer("/metadata/name"))
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty());
    name.unwrap_or(&entry.id).chars().take(200).collect()
}
