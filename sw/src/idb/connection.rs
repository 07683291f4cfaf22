//! The worker's connection to its database. An open has a deadline: one that another tab's
//! connection blocks, or that the browser never answers, ends in an error that says what to do
//! instead of hanging every command (a leaked connection once wedged shaka's storage this way).
//! Migrations run step by step, and a failing one is rolled back by IndexedDB, so the titles
//! stay readable at the old version. The connection is closed as soon as another context needs
//! the database (`versionchange`: a newer release upgrading it, a page deleting it) and dropped
//! when the browser closes it (`close`: site data cleared); the next use opens it again.

use engine::layout::{DB_NAME, DB_VERSION, ENTRY_KEY, MANIFEST_KEY, STORES};
use engine::StoreError;
use futures::future::{select, Either, FutureExt, LocalBoxFuture, Shared};
use indexed_db_futures::database::Database;
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// How long an open may take before it ends in an error.
pub const OPEN_TIMEOUT_MS: u32 = 10_000;

/// What the connection tells the worker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lost {
    /// Another context needs the database, or the browser closed it: jobs writing to it stop.
    Closed,
    /// An open found no database where this worker had one: the browser deleted it.
    Vanished,
}

type Opening = Shared<LocalBoxFuture<'static, Result<Database, StoreError>>>;

struct State {
    db: RefCell<Option<Database>>,
    opening: RefCell<Option<Opening>>,
    /// Counts opens, so a late event of an old connection leaves the current one alone.
    generation: Cell<u32>,
    on_lost: Box<dyn Fn(Lost)>,
}

/// The database connection, opened again after it was closed.
pub struct Connection(Rc<State>);

impl Connection {
    /// Opens (and migrates) the database; `on_lost` hears when it goes away under the worker.
    pub async fn open(on_lost: Box<dyn Fn(Lost)>) -> Result<Connection, StoreError> {
        let conn = Connection(Rc::new(State {
            db: RefCell::new(None),
            opening: RefCell::new(None),
            generation: Cell::new(0),
            on_lost,
        }));
        conn.db().await?;
        Ok(conn)
    }

    /// The open database, opened again if it was closed. Concurrent callers share one open.
    pub async fn db(&self) -> Result<Database, StoreError> {
        if let Some(db) = self.0.db.borrow().clone() {
            return Ok(db);
        }
        let opening = self
            .0
            .opening
            .borrow_mut()
            .get_or_insert_with(|| open_once(Rc::downgrade(&self.0)).boxed_local().shared())
            .clone();
        let result = opening.await;
        self.0.opening.borrow_mut().take();
        result
    }
}

/// One open: installs the connection in `state` and watches it.
async fn open_once(state: Weak<State>) -> Result<Database, StoreError> {
    let had_one = state.upgrade().is_some_and(|s| s.generation.get() > 0);
    let blocked = Rc::new(Cell::new(false));
    let fresh = Rc::new(Cell::new(false));
    let (b, f) = (blocked.clone(), fresh.clone());
    let request = Database::open(DB_NAME)
        .with_version(DB_VERSION)
        .with_on_blocked(move |_| {
            b.set(true);
            Ok(())
        })
        .with_on_upgrade_needed(move |event, db| {
            let old = event.old_version() as u32;
            f.set(old == 0);
            migrate(old, &db)
        })
        .build()
        .map_err(|e| {
            StoreError::Unavailable(format!("IndexedDB refused to open the database: {e}"))
        })?;
    let raw: web_sys::IdbOpenDbRequest = request.as_sys().clone();
    let deadline = gloo_timers::future::TimeoutFuture::new(OPEN_TIMEOUT_MS);
    let db = match select(request, deadline).await {
        Either::Left((Ok(db), _)) => db,
        Either::Left((Err(e), _)) => return Err(open_error(&e.to_string()).await),
        Either::Right(((), request)) => {
            drop(request);
            // The open may still go through once unblocked: that connection is closed at once,
            // so it blocks no one.
            let late = Closure::once_into_js(move |event: web_sys::Event| {
                let db = event
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::IdbOpenDbRequest>().ok())
                    .and_then(|r| r.result().ok())
                    .and_then(|r| r.dyn_into::<web_sys::IdbDatabase>().ok());
                if let Some(db) = db {
                    db.close();
                }
            });
            raw.set_onsuccess(Some(late.unchecked_ref()));
            // Nor may it upgrade once unblocked: without the migrations (their listener went
            // with the request) it would leave a database at today's version missing stores.
            let abort = Closure::once_into_js(move |event: web_sys::Event| {
                let tx = event
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::IdbOpenDbRequest>().ok())
                    .and_then(|r| r.transaction());
                if let Some(tx) = tx {
                    let _ = tx.abort();
                }
            });
            raw.set_onupgradeneeded(Some(abort.unchecked_ref()));
            return Err(StoreError::Unavailable(if blocked.get() {
                "the offline database is held open by another tab of this app at an older \
                 version; close the app's other tabs, then reload the page"
                    .to_string()
            } else {
                format!(
                    "the browser did not open the offline database within {} s; reload the \
                     page, and restart the browser if it persists",
                    OPEN_TIMEOUT_MS / 1000
                )
            }));
        }
    };
    let Some(state) = state.upgrade() else {
        return Ok(db);
    };
    let generation = state.generation.get() + 1;
    state.generation.set(generation);
    watch(&state, &db, generation);
    *state.db.borrow_mut() = Some(db.clone());
    if had_one && fresh.get() {
        (state.on_lost)(Lost::Vanished);
    }
    Ok(db)
}

/// The migrations, step by step from `old`. An error thrown here aborts the upgrade: IndexedDB
/// keeps the database as it was.
fn migrate(old: u32, db: &Database) -> indexed_db_futures::Result<()> {
    if old < 1 {
        db.create_object_store(STORES.entries)
            .with_key_path(ENTRY_KEY.into())
            .build()?;
        db.create_object_store(STORES.segments).build()?;
        db.create_object_store(STORES.manifests)
            .with_key_path(MANIFEST_KEY.into())
            .build()?;
    }
    if old < 2 {
        db.create_object_store(STORES.licenses).build()?;
    }
    if old < 3 {
        // Entries written before keep their plan inline until they are next written.
        db.create_object_store(STORES.plans).build()?;
    }
    Ok(())
}

/// Closes the connection when another context needs the database, and forgets it when the
/// browser closed it; either way the jobs writing to it are told.
fn watch(state: &Rc<State>, db: &Database, generation: u32) {
    for event in ["versionchange", "close"] {
        let weak = Rc::downgrade(state);
        let conn = db.clone();
        let handler = Closure::once_into_js(move || {
            conn.close();
            let Some(state) = weak.upgrade() else { return };
            if state.generation.get() == generation {
                state.db.borrow_mut().take();
                (state.on_lost)(Lost::Closed);
            }
        });
        let sys: &web_sys::IdbDatabase = db.as_sys().unchecked_ref();
        match event {
            "versionchange" => sys.set_onversionchange(Some(handler.unchecked_ref())),
            _ => sys.set_onclose(Some(handler.unchecked_ref())),
        }
    }
}

/// What a failed open means for the user. A database newer than this worker's (a newer release
/// ran, then the app was rolled back) is left alone: its titles are readable again once the
/// newer release is back.
async fn open_error(what: &str) -> StoreError {
    if let Some(found) = stored_version()
        .await
        .filter(|v| *v > f64::from(DB_VERSION))
    {
        return StoreError::Unavailable(format!(
            "the offline database was written by a newer release of this app (database version \
             {found}, this worker reads up to {DB_VERSION}); reload the page to get the new \
             release. Do not clear the site's data: the stored titles are kept"
        ));
    }
    StoreError::Unavailable(format!(
        "upgrading the offline database to version {DB_VERSION} failed ({what}); the stored \
         titles are kept as they were: reload the page to try again, and do not clear the \
         site's data"
    ))
}

/// The version of the stored database, from `indexedDB.databases()`, which opens nothing (an
/// open could create an empty database where there is none).
async fn stored_version() -> Option<f64> {
    let factory = js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into()).ok()?;
    let databases: js_sys::Function = js_sys::Reflect::get(&factory, &"databases".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let promise: js_sys::Promise = databases.call0(&factory).ok()?.dyn_into().ok()?;
    let list: js_sys::Array = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    list.iter().find_map(|d| {
        let name = js_sys::Reflect::get(&d, &"name".into()).ok()?.as_string()?;
        (name == DB_NAME)
            .then(|| js_sys::Reflect::get(&d, &"version".into()).ok()?.as_f64())
            .flatten()
    })
}
