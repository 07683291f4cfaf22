//! The offline manager's service worker: the engine wired to fetch, IndexedDB and clients.
//!
//! The JS bootstrap (`sw/js/bootstrap.js`) registers the worker's listeners synchronously and
//! calls these exports once the module is instantiated.

mod body;
mod host;
mod idb;
mod net;
mod serve;

use engine::{parse_request, JobConfig, Manager, Reply};
use host::WebHost;
use idb::IdbStore;
use net::WebFetcher;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{MessagePort, Request, Response};

/// The manager as the worker runs it.
pub(crate) type WorkerManager = Manager<WebFetcher, IdbStore, WebHost>;

thread_local! {
    static MANAGER: RefCell<Option<Rc<WorkerManager>>> = const { RefCell::new(None) };
    static STORE: RefCell<Option<Rc<IdbStore>>> = const { RefCell::new(None) };
}

fn manager() -> Result<Rc<WorkerManager>, JsValue> {
    MANAGER
        .with(|m| m.borrow().clone())
        .ok_or_else(|| JsValue::from_str("the worker is not initialised"))
}

fn store() -> Result<Rc<IdbStore>, JsValue> {
    STORE
        .with(|m| m.borrow().clone())
        .ok_or_else(|| JsValue::from_str("the worker is not initialised"))
}

/// Opens the database and builds the manager; `scope` is the registration scope (ends in `/`).
#[wasm_bindgen]
pub async fn boot(scope: String) -> Result<(), JsValue> {
    if MANAGER.with(|m| m.borrow().is_some()) {
        return Ok(());
    }
    let store = Rc::new(
        IdbStore::open()
            .await
            .map_err(|e| JsValue::from_str(&format!("{e:?}")))?,
    );
    let manager = Manager::new(
        Rc::new(WebFetcher),
        store.clone(),
        Rc::new(WebHost),
        scope,
        JobConfig::default(),
    );
    STORE.with(|s| *s.borrow_mut() = Some(store));
    MANAGER.with(|m| *m.borrow_mut() = Some(manager));
    Ok(())
}

/// Resumes unfinished jobs; called on every event that wakes the worker.
#[wasm_bindgen]
pub async fn wake() -> Result<u32, JsValue> {
    let started = manager()?
        .resume_unfinished()
        .await
        .map_err(|e| JsValue::from_str(&e.to_string()))?;
    Ok(started as u32)
}

/// Handles one page message and answers on `port` (or via the returned value when there is none).
#[wasm_bindgen]
pub async fn handle_message(data: JsValue, port: Option<MessagePort>) -> Result<JsValue, JsValue> {
    let text = js_sys::JSON::stringify(&data)
        .map(String::from)
        .unwrap_or_default();
    let reply = match parse_request(&text) {
        Ok(req) => {
            let result = manager()?.handle(req.command).await;
            Reply::from_result(req.id, result)
        }
        Err((id, err)) => Reply::from_result(id, Err(err)),
    };
    let json = serde_json::to_string(&reply).map_err(|e| JsValue::from_str(&e.to_string()))?;
    let value = js_sys::JSON::parse(&json)?;
    if let Some(port) = port {
        port.post_message(&value)?;
    }
    Ok(value)
}

/// Answers a segment request from records the bootstrap already read (cold start: the read ran
/// while the wasm was instantiating), without waiting for `boot`. `undefined` when `rest` is not
/// a segment route or the records are not its own: the bootstrap then calls `handle_fetch`.
#[wasm_bindgen]
pub fn handle_fetch_from_records(
    rest: String,
    request: Request,
    records: js_sys::Array,
) -> Result<JsValue, JsValue> {
    let records: Vec<JsValue> = records.iter().collect();
    match serve::respond_from_records(&rest, &records, &request) {
        Some(response) => response.map(JsValue::from),
        None => Ok(JsValue::UNDEFINED),
    }
}

/// Answers a request whose URL lies under `{scope}__offline__/`; `rest` is the path below the scope.
#[wasm_bindgen]
pub async fn handle_fetch(rest: String, request: Request) -> Result<Response, JsValue> {
    serve::respond(&*store()?, &manager()?, &rest, &request).await
}
