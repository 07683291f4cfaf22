//! The command handler: turns page requests into entry changes and running jobs.
//!
//! One manager lives in the worker. It owns the map of running jobs (so one entry never runs
//! twice in a worker) and resumes unfinished jobs whenever an event wakes the worker.

use crate::entry::{Entry, State, StopReason};
use crate::error::{Code, KalturaError, StoreError};
use crate::job::{self, JobConfig, JobError, Outcome};
use crate::planning::plan_error;
use crate::ports::{Fetcher, Host, NewSegment, Store};
use crate::progress::Totals;
use crate::protocol::{Command, EntrySummary, Event, StateDetail};
use futures::future::{AbortHandle, Abortable};
use mpd::SelectOptions;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// The path segment under the worker scope where stored entries are served.
pub const OFFLINE_PREFIX: &str = "__offline__";
/// The pseudo-track under which an entry's poster image is stored (index 0).
pub const POSTER_TRACK: &str = "poster";

/// Handles commands; generic over the platform so tests run it natively.
pub struct Manager<F: Fetcher, S: Store<F::Body>, H: Host> {
    pub(crate) fetcher: Rc<F>,
    pub(crate) store: Rc<S>,
    pub(crate) host: Rc<H>,
    scope: String,
    cfg: JobConfig,
    running: RefCell<HashMap<String, (u64, AbortHandle)>>,
    generation: Cell<u64>,
    /// Entries paused by a network failure that a timer retries while the worker lives.
    waiting: RefCell<HashSet<String>>,
    /// Entries whose last state change a full disk refused to save (even the entry record can
    /// be over quota): pages see this state, and wakes do not restart a job paused for quota.
    unsaved: RefCell<HashMap<String, Entry>>,
    /// When this manager (so this worker instance) started, in ms since the epoch: a page sees a
    /// stopped and restarted worker as a new value in `ping`.
    started_at: f64,
}

type Res = Result<Value, KalturaError>;

impl<F: Fetcher, S: Store<F::Body>, H: Host> Manager<F, S, H> {
    /// A manager serving local URLs under `scope` (the worker's registration scope, ending in `/`).
    pub fn new(
        fetcher: Rc<F>,
        store: Rc<S>,
        host: Rc<H>,
        scope: String,
        cfg: JobConfig,
    ) -> Rc<Self> {
        let started_at = host.now_ms();
        Rc::new(Manager {
            started_at,
            fetcher,
            store,
            host,
            scope,
            cfg,
            running: RefCell::default(),
            generation: Cell::new(0),
            waiting: RefCell::default(),
            unsaved: RefCell::default(),
        })
    }

    /// The worker's registration scope.
    pub(crate) fn scope(&self) -> &str {
        &self.scope
    }

    /// The URL the player loads for a stored entry.
    pub fn local_manifest_url(&self, entry_id: &str) -> String {
        format!(
            "{}{OFFLINE_PREFIX}/{}/manifest.mpd",
            self.scope,
            encode_segment(entry_id)
        )
    }

    /// The URL of an entry's stored poster.
    pub fn local_poster_url(&self, entry_id: &str) -> String {
        format!(
            "{}{OFFLINE_PREFIX}/{}/{POSTER_TRACK}/0",
            self.scope,
            encode_segment(entry_id)
        )
    }

    /// Stores the config's poster image so it shows offline. A poster that cannot be fetched is
    /// not a reason to refuse the download: the remote URL is kept.
    async fn store_poster(&self, id: &str, config: &Value) {
        let url = config
            .pointer("/sources/poster")
            .or_else(|| config.get("poster"))
            .and_then(Value::as_str)
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
        let Some(url) = url else { return };
        if let Ok(fetched) = self.fetcher.fetch(url, None).await {
            let item = NewSegment {
                track: POSTER_TRACK.to_string(),
                index: 0,
                chunk: 0,
                chunks: 1,
                body: fetched.body,
                url: url.to_string(),
                range: None,
            };
            // Best effort, as above: playback does not depend on the poster.
            let _ = self.store.put_segments(id, vec![item]).await;
        }
    }

    /// Jobs running now, plus entries waiting for the network to come back: pages keep the
    /// worker alive while this is not zero.
    pub fn active_jobs(&self) -> usize {
        self.running.borrow().len() + self.waiting.borrow().len()
    }

    /// Executes one command.
    pub async fn handle(self: &Rc<Self>, command: Command) -> Res {
        match command {
            Command::Prepare { entry_id, config } => self.prepare(&entry_id, config).await,
            Command::Download { entry_id, options } => {
                self.download(&entry_id, options.unwrap_or_default()).await
            }
            Command::Pause { entry_id } => self.pause(&entry_id).await,
            Command::Resume { entry_id } => self.resume(&entry_id).await,
            Command::Remove { entry_id } => self.remove(&entry_id).await,
            Command::PauseAll => self.pause_all().await,
            Command::RemoveAll => self.remove_all().await,
            Command::Get { entry_id } => self.get(&entry_id).await,
            Command::List => self.list().await,
            Command::Renew { entry_id, config } => self.renew(&entry_id, config).await,
            Command::Protection { entry_id, options } => {
                self.protection(&entry_id, options.unwrap_or_default())
                    .await
            }
            Command::KeepSessions { entry_id, sessions } => {
                self.keep_sessions(&entry_id, sessions).await
            }
            Command::Ping => Ok(json!({
                "activeJobs": self.active_jobs(),
                "wasmMemoryBytes": self.host.memory_bytes(),
                "startedAt": self.started_at,
            })),
        }
    }

    /// Starts every job that should be running but is not: those the worker was stopped in the
    /// middle of, and those paused by a network failure once the device is online again (never
    /// those paused by the user, or by a full disk, which waits for the user to free space).
    pub async fn resume_unfinished(self: &Rc<Self>) -> Result<usize, KalturaError> {
        let entries = self.entries().await?;
        let mut started = 0;
        for mut e in entries {
            if self.running.borrow().contains_key(&e.id) {
                continue;
            }
            let network_back = e.state == State::Paused
                && e.stop_reason == Some(StopReason::Network)
                && self.host.online();
            if network_back {
                self.set_state(&mut e, State::Downloading, None, None)
                    .await?;
            }
            if e.state == State::Downloading {
                self.waiting.borrow_mut().remove(&e.id);
                self.start_job(e);
                started += 1;
            }
        }
        Ok(started)
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

    async fn prepare(self: &Rc<Self>, id: &str, config: Value) -> Res {
        if !config.is_object()
            || config
                .pointer("/sources/dash/0/url")
                .and_then(Value::as_str)
                .is_none()
        {
            return Err(KalturaError::new(
                Code::ContentUnsupportedByBrowser,
                "the media config has no DASH source (sources.dash[0].url); only DASH can be stored offline",
                Some(id),
            ));
        }
        let entry = match self.store.get_entry(id).await.map_err(db_error)? {
            Some(mut e) if e.state == State::Prepared => {
                e.config = config;
                e.updated_at = self.host.now_ms();
                e
            }
            Some(e) => return self.summary_value(&e).await,
            None => Entry::prepared(id, config, self.host.now_ms()),
        };
        self.store.put_entry(&entry).await.map_err(db_error)?;
        self.summary_value(&entry).await
    }

    async fn download(self: &Rc<Self>, id: &str, options: SelectOptions) -> Res {
        let mut entry = self.entry(id).await?;
        if self.running.borrow().contains_key(id) {
            return Err(KalturaError::new(
                Code::StoreAlreadyInProgress,
                format!("entry {id} is already downloading; pause or remove it first"),
                Some(id),
            ));
        }
        if entry.state == State::Completed {
            return Err(KalturaError::new(
                Code::EntryAlreadyExists,
                format!("entry {id} is already downloaded; remove it to download again"),
                Some(id),
            ));
        }
        let (plan, local) = self.fetch_plan(&entry, &options).await?;
        // Before any segment: encrypted content is stored only with its licences.
        self.acquire_licenses(&mut entry, &plan).await?;
        // A licence the worker keeps (ClearKey) is answered at the local endpoint: the manifest
        // names it, so players start the entry with no DRM configuration of their own.
        let local = if entry.protected && entry.sessions.is_empty() {
            mpd::local::with_local_clearkey(&local, &self.local_license_url(id))
                .map_err(|e| plan_error(id, e))?
        } else {
            local
        };
        if entry.plan.as_ref() != Some(&plan) {
            self.store.clear_segments(id).await.map_err(db_error)?;
        }
        self.store
            .put_manifest(id, &local)
            .await
            .map_err(db_error)?;
        self.store_poster(id, &entry.config).await;
        entry.plan = Some(plan);
        entry.options = options;
        self.set_state(&mut entry, State::Downloading, None, None)
            .await?;
        self.start_job(entry.clone());
        self.summary_value(&entry).await
    }

    async fn pause(self: &Rc<Self>, id: &str) -> Res {
        let mut entry = self.entry(id).await?;
        match entry.state {
            State::Completed => Err(KalturaError::new(
                Code::PauseFailed,
                format!("entry {id} is already downloaded; there is nothing to pause"),
                Some(id),
            )),
            State::Prepared => Err(KalturaError::new(
                Code::PauseFailed,
                format!("entry {id} has not started downloading; call download first"),
                Some(id),
            )),
            _ => {
                self.stop_job(id);
                if entry.state != State::Paused || entry.stop_reason != Some(StopReason::User) {
                    let error = entry.error.clone();
                    self.set_state(&mut entry, State::Paused, Some(StopReason::User), error)
                        .await?;
                }
                self.summary_value(&entry).await
            }
        }
    }

    async fn resume(self: &Rc<Self>, id: &str) -> Res {
        let mut entry = self.entry(id).await?;
        match entry.state {
            State::Completed => self.summary_value(&entry).await,
            State::Prepared => Err(KalturaError::new(
                Code::ResumeFailed,
                format!("entry {id} has not been downloaded before; call download first"),
                Some(id),
            )),
            _ => {
                if !self.running.borrow().contains_key(id) {
                    self.set_state(&mut entry, State::Downloading, None, None)
                        .await?;
                    self.start_job(entry.clone());
                }
                self.summary_value(&entry).await
            }
        }
    }

    /// The answer names the entry's persistent-license sessions: the page releases them from
    /// the CDM (workers have no EME).
    async fn remove(self: &Rc<Self>, id: &str) -> Res {
        let sessions = self.entry(id).await?.sessions;
        self.stop_job(id);
        self.unsaved.borrow_mut().remove(id);
        self.store.delete_entry(id).await.map_err(|e| {
            KalturaError::new(
                Code::RemoveFailed,
                format!("could not delete entry {id} ({}); try again", store_msg(&e)),
                Some(id),
            )
        })?;
        Ok(if sessions.is_empty() {
            json!({ "entryId": id })
        } else {
            json!({ "entryId": id, "sessions": sessions })
        })
    }

    async fn pause_all(self: &Rc<Self>) -> Res {
        let mut ids = Vec::new();
        for e in self.entries().await? {
            if e.state == State::Downloading {
                self.pause(&e.id).await?;
                ids.push(e.id);
            }
        }
        Ok(json!({ "entryIds": ids }))
    }

    async fn remove_all(self: &Rc<Self>) -> Res {
        let mut ids = Vec::new();
        let mut sessions = Vec::new();
        for e in self.entries().await? {
            self.remove(&e.id).await?;
            ids.push(e.id);
            sessions.extend(e.sessions);
        }
        Ok(if sessions.is_empty() {
            json!({ "entryIds": ids })
        } else {
            json!({ "entryIds": ids, "sessions": sessions })
        })
    }

    async fn get(self: &Rc<Self>, id: &str) -> Res {
        let entry = self.entry(id).await?;
        let mut v = self.summary_value(&entry).await?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("config".into(), entry.config.clone());
            obj.insert(
                "localManifestUrl".into(),
                Value::String(self.local_manifest_url(id)),
            );
            if entry.protected && entry.sessions.is_empty() {
                obj.insert(
                    "localLicenseUrl".into(),
                    Value::String(self.local_license_url(id)),
                );
            }
            if !entry.sessions.is_empty() {
                obj.insert("sessions".into(), json!(entry.sessions));
            }
        }
        Ok(v)
    }

    async fn list(self: &Rc<Self>) -> Res {
        let mut out = Vec::new();
        for e in self.entries().await? {
            out.push(self.summary_value(&e).await?);
        }
        Ok(Value::Array(out))
    }

    /// Every entry, with the states a full disk kept from being saved.
    async fn entries(&self) -> Result<Vec<Entry>, KalturaError> {
        let mut all = self.store.list_entries().await.map_err(db_error)?;
        let unsaved = self.unsaved.borrow();
        for e in all.iter_mut() {
            if let Some(newer) = unsaved.get(&e.id) {
                *e = newer.clone();
            }
        }
        Ok(all)
    }

    pub(crate) async fn entry(&self, id: &str) -> Result<Entry, KalturaError> {
        if let Some(e) = self.unsaved.borrow().get(id) {
            return Ok(e.clone());
        }
        self.store
            .get_entry(id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| {
                KalturaError::new(
                    Code::EntryDoesNotExist,
                    format!("no entry {id}; call getMediaConfig for it first"),
                    Some(id),
                )
            })
    }

    /// The summary pages see, with progress read from the store.
    pub async fn summary(&self, entry: &Entry) -> Result<EntrySummary, KalturaError> {
        let stored = match &entry.plan {
            Some(_) => self
                .store
                .stored_segments(&entry.id)
                .await
                .map_err(db_error)?,
            None => Vec::new(),
        };
        let totals = match &entry.plan {
            Some(plan) => Totals::of(plan, &stored),
            None => Totals::default(),
        };
        let local_poster = stored
            .iter()
            .any(|s| s.track == POSTER_TRACK)
            .then(|| Value::String(self.local_poster_url(&entry.id)));
        // Kaltura providers put id, poster, metadata and duration inside `sources`; plain
        // configs may put them at the top level.
        let field = |k: &str| {
            entry
                .config
                .get("sources")
                .and_then(|s| s.get(k))
                .or_else(|| entry.config.get(k))
                .cloned()
                .unwrap_or(Value::Null)
        };
        Ok(EntrySummary {
            id: entry.id.clone(),
            state: entry.state,
            stop_reason: entry.stop_reason,
            metadata: field("metadata"),
            poster: local_poster.unwrap_or_else(|| field("poster")),
            duration: field("duration"),
            expected_size: totals.bytes_total,
            size: totals.bytes_done,
            segments_done: totals.items_done,
            segments_total: totals.items_total,
            progress: totals.percent(),
            expiration: entry.expiration,
            error: entry.error.clone(),
        })
    }

    pub(crate) async fn summary_value(&self, entry: &Entry) -> Res {
        serde_json::to_value(self.summary(entry).await?)
            .map_err(|e| KalturaError::new(Code::OperationAborted, e.to_string(), Some(&entry.id)))
    }

    /// Writes an entry changed outside a state change; once on disk it supersedes any state a
    /// full disk kept in memory.
    pub(crate) async fn save_entry(&self, entry: &mut Entry) -> Result<(), KalturaError> {
        entry.updated_at = self.host.now_ms();
        self.store.put_entry(entry).await.map_err(db_error)?;
        self.unsaved.borrow_mut().remove(&entry.id);
        Ok(())
    }

    pub(crate) async fn set_state(
        &self,
        entry: &mut Entry,
        state: State,
        reason: Option<StopReason>,
        error: Option<KalturaError>,
    ) -> Result<(), KalturaError> {
        entry.state = state;
        entry.stop_reason = reason;
        entry.error = error;
        entry.updated_at = self.host.now_ms();
        match self.store.put_entry(entry).await {
            Ok(()) => {
                self.unsaved.borrow_mut().remove(&entry.id);
            }
            // The disk is full (the entry record itself is refused): the state holds in memory
            // until a later write succeeds, and pages are told as usual.
            Err(StoreError::Quota(_)) if state != State::Downloading => {
                self.unsaved
                    .borrow_mut()
                    .insert(entry.id.clone(), entry.clone());
            }
            Err(e) => return Err(db_error(e)),
        }
        self.host.emit(Event::Statechange(StateDetail {
            entry_id: entry.id.clone(),
            state,
            stop_reason: reason,
        }));
        Ok(())
    }

    fn stop_job(&self, id: &str) {
        self.waiting.borrow_mut().remove(id);
        if let Some((_, handle)) = self.running.borrow_mut().remove(id) {
            handle.abort();
        }
    }

    fn start_job(self: &Rc<Self>, entry: Entry) {
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
            if lock.is_none() {
                if mine(&me) {
                    me.running.borrow_mut().remove(&id);
                }
                return;
            }
            let policy = job::RedirectPolicy::new(&plan, &allowed);
            let mut cfg = me.cfg;
            if let Some(c) = concurrency {
                cfg.concurrency = c.clamp(1, 16) as usize;
            }
            let job = job::run(
                &id,
                &plan,
                &policy,
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

    async fn finish(self: &Rc<Self>, id: &str, result: Result<Outcome, JobError>) {
        if matches!(result, Err(JobError::Network(_))) {
            self.retry_when_online(id.to_string());
        }
        let Ok(mut entry) = self.entry(id).await else {
            return;
        };
        let (state, reason, error) = match result {
            Ok(Outcome::Completed) => (State::Completed, None, None),
            Err(JobError::Network(e)) => (State::Paused, Some(StopReason::Network), Some(e)),
            Err(JobError::Quota(e)) => (State::Paused, Some(StopReason::Quota), Some(e)),
            Err(JobError::Fatal(e)) => (State::Failed, Some(StopReason::Error), Some(e)),
        };
        if self
            .set_state(&mut entry, state, reason, error.clone())
            .await
            .is_ok()
        {
            if let Some(e) = error {
                self.host.emit(Event::Error(e));
            }
        }
    }
}

/// Percent-encodes an entry id for use as one URL path segment.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn store_msg(e: &StoreError) -> &str {
    match e {
        StoreError::Quota(m) | StoreError::Other(m) => m,
    }
}

pub(crate) fn db_error(e: StoreError) -> KalturaError {
    match e {
        StoreError::Quota(m) => KalturaError::new(
            Code::DownloadFailed,
            "the device's storage for this site is full; free space and try again",
            None,
        )
        .with("name", "QuotaExceededError")
        .with("detail", m),
        StoreError::Other(m) => KalturaError::new(
            Code::IndexedDbError,
            format!(
                "IndexedDB failed ({m}); reload the page, or clear the site's data if it persists"
            ),
            None,
        ),
    }
}
