//! The command handler: turns page requests into entry changes and running jobs.
//!
//! One manager lives in the worker. It owns the map of running jobs (so one entry never runs
//! twice in a worker) and resumes unfinished jobs whenever an event wakes the worker. Its parts:
//! `commands` (what each command does), `entries` (reading and saving entries, summaries),
//! `jobs` (starting, stopping and finishing download jobs), `planning` (manifest and index
//! fetches) and `licences` (keys of encrypted entries).

mod background;
mod commands;
mod entries;
mod integrity;
mod jobs;
mod licences;
mod planning;
mod playback;

pub use background::{HANDOVER_WAIT_MS, LOST_AFTER_MS, NO_BACKGROUND_FETCH};
pub use commands::RECOUNT_MS;
pub use integrity::PROBE_DELAY_MS;
pub use jobs::Resumed;
pub use playback::Playback;

use crate::entry::Entry;
use crate::error::KalturaError;
use crate::job::{BackgroundLimits, Claims, JobConfig, BACKGROUND_LIMITS};
use crate::layout;
use crate::ports::{Fetcher, Host, Store};
use crate::protocol::{Answer, Command, Ping};
use crate::watched::Watched;
use futures::future::AbortHandle;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Handles commands; generic over the platform so tests run it natively.
pub struct Manager<F: Fetcher, S: Store<F::Body>, H: Host> {
    fetcher: Rc<F>,
    store: Rc<Watched<S>>,
    host: Rc<H>,
    scope: String,
    cfg: JobConfig,
    /// Running jobs by entry id, with the generation that started them (a job stopped and
    /// started again is a new generation; the old one's end must not touch the entry).
    running: RefCell<HashMap<String, (u64, AbortHandle)>>,
    generation: Cell<u64>,
    /// Entries paused by a network failure that a timer retries while the worker lives.
    waiting: RefCell<HashSet<String>>,
    /// Entries whose last state change a full disk refused to save (even the entry record can
    /// be over quota): pages see this state, and wakes do not restart a job paused for quota.
    unsaved: RefCell<HashMap<String, Entry>>,
    /// What a running job and playback of the same entry share.
    claims: RefCell<HashMap<String, Rc<Claims>>>,
    /// Entries with background fetches out that this worker knows of: pages keep it awake for
    /// them, so that the browser's progress reaches them.
    in_background: RefCell<HashSet<String>>,
    /// Entries whose last delivery this worker is finishing (completing them, or handing the
    /// rest to the foreground): wakes leave them to it, and pages keep the worker awake for them.
    finishing: RefCell<HashSet<String>>,
    /// Per entry, whether a delivery being stored may go on (a pause or removal says no).
    ingesting: RefCell<HashMap<String, Rc<Cell<bool>>>>,
    /// Bytes the browser downloaded so far per background fetch id (its progress events).
    browser_progress: RefCell<HashMap<String, u64>>,
    /// When the last progress event from the browser's figures went out, ms since the epoch.
    last_browser_progress: Cell<f64>,
    /// How big one background fetch may be.
    background_limits: Cell<BackgroundLimits>,
    /// Whether `resume_unfinished` ran in this worker instance.
    woken: Cell<bool>,
    /// Whether this worker instance probed the completed entries' records.
    probed: Cell<bool>,
    /// Entries removed since this worker started (until prepared again): a check that read an
    /// entry before its removal must not write it back.
    removed: RefCell<HashSet<String>>,
    /// When this manager (so this worker instance) started, in ms since the epoch: a page sees a
    /// stopped and restarted worker as a new value in `ping`.
    started_at: f64,
    /// Writes to the store so far (each counts as it starts and as it ends), and changes to
    /// `unsaved`: what a listing's tag records.
    changes: Rc<Cell<u64>>,
    /// Names this worker instance in listing tags, so a page's tag from an earlier instance
    /// (which may have seen other writes) never matches.
    instance: String,
    /// The manifest the last `protection` answer described, for the download that follows.
    described: RefCell<Option<planning::Described>>,
    /// The last count of segment records a listing read, and when (ms since the epoch).
    record_count: Cell<Option<(f64, u64)>>,
}

/// What a command handler gives.
type Res = Result<Answer, KalturaError>;

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
        let changes = Rc::new(Cell::new(0));
        let instance = format!("{started_at}-{}", host.random());
        Rc::new(Manager {
            started_at,
            fetcher,
            store: Rc::new(Watched::new(store, changes.clone())),
            changes,
            instance,
            host,
            scope,
            cfg,
            running: RefCell::default(),
            generation: Cell::new(0),
            waiting: RefCell::default(),
            unsaved: RefCell::default(),
            claims: RefCell::default(),
            in_background: RefCell::default(),
            finishing: RefCell::default(),
            ingesting: RefCell::default(),
            browser_progress: RefCell::default(),
            last_browser_progress: Cell::new(0.0),
            background_limits: Cell::new(BACKGROUND_LIMITS),
            woken: Cell::new(false),
            probed: Cell::new(false),
            removed: RefCell::default(),
            described: RefCell::default(),
            record_count: Cell::new(None),
        })
    }

    /// Other background fetch limits (tests cut small titles into several fetches with them).
    pub fn set_background_limits(&self, limits: BackgroundLimits) {
        self.background_limits.set(limits);
    }

    /// Counts a change listings see that is not a store write (the store counts its own).
    fn changed(&self) {
        self.changes.set(self.changes.get().wrapping_add(1));
    }

    /// Drops the state a full disk kept in memory for an entry.
    fn forget_unsaved(&self, id: &str) {
        if self.unsaved.borrow_mut().remove(id).is_some() {
            self.changed();
        }
    }

    /// The worker's registration scope.
    fn scope(&self) -> &str {
        &self.scope
    }

    /// The URL the player loads for a stored entry.
    pub fn local_manifest_url(&self, entry_id: &str) -> String {
        layout::manifest_url(&self.scope, entry_id)
    }

    /// The claims of an entry's job and playback.
    fn claims(&self, entry_id: &str) -> Rc<Claims> {
        self.claims
            .borrow_mut()
            .entry(entry_id.to_string())
            .or_default()
            .clone()
    }

    /// Forgets what job and playback shared for an entry (it was removed, or planned anew).
    fn forget_claims(&self, entry_id: &str) {
        self.claims.borrow_mut().remove(entry_id);
    }

    /// Entries this worker downloads, finishes, waits on the network for, or knows the browser
    /// downloads: pages keep the worker alive while this is not zero.
    pub fn active_jobs(&self) -> usize {
        let running = self.running.borrow();
        let waiting = self.waiting.borrow();
        let background = self.in_background.borrow();
        let finishing = self.finishing.borrow();
        let counted = |id: &String| running.contains_key(id) || waiting.contains(id);
        running.len()
            + waiting
                .iter()
                .filter(|id| !running.contains_key(*id))
                .count()
            + background.iter().filter(|id| !counted(id)).count()
            + finishing
                .iter()
                .filter(|id| !counted(id) && !background.contains(*id))
                .count()
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
            Command::Remove { entry_id } => self.remove(&entry_id).await.map(Answer::Removed),
            Command::PauseAll => self.pause_all().await,
            Command::RemoveAll => self.remove_all().await,
            Command::Get { entry_id } => self.get(&entry_id).await,
            Command::List => self.list().await.map(Answer::Entries),
            Command::Listing { since } => self.listing(since).await,
            Command::Renew { entry_id, config } => self.renew(&entry_id, config).await,
            Command::Protection { entry_id, options } => {
                self.protection(&entry_id, options.unwrap_or_default())
                    .await
            }
            Command::KeepSessions { entry_id, sessions } => {
                self.keep_sessions(&entry_id, sessions).await
            }
            Command::BackgroundPlan { entry_id } => self.background_plan(&entry_id).await,
            Command::BackgroundStarted {
                entry_id,
                started,
                refused,
            } => self.background_started(&entry_id, started, refused).await,
            Command::Verify { entry_id, repair } => {
                self.verify(&entry_id, repair.unwrap_or(false)).await
            }
            Command::Ping => {
                // Every ping resumes first, so that the count keeps the page pinging for all
                // that should run: a worker stopped between two steps of a download (storing
                // its last delivery, say) has nothing running until a wake starts it again.
                let downloading = self.resume_unfinished().await.map_or(0, |r| r.downloading);
                self.ping(downloading)
            }
        }
    }

    /// The worker's state, for the keep-alive: `downloading` entries a wake just left to run.
    fn ping(&self, downloading: usize) -> Res {
        Ok(Answer::Ping(Ping {
            active_jobs: self.active_jobs().max(downloading),
            wasm_memory_bytes: self.host.memory_bytes(),
            started_at: self.started_at,
        }))
    }
}
