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
    // The manager exists by the time the connection can be lost (it is built right after).
    let on_lost = Box::new(|lost: idb::Lost| {
        if let Ok(manager) = manager() {
            manager.storage_lost(lost == idb::Lost::Vanished);
        }
    });
    let store = Rc::new(IdbStore::open(on_lost).await.map_err(|e| {
        // A KalturaError object: the bootstrap passes it to the page as the command's error.
        serde_json::to_string(&e.to_kaltura(None))
            .ok()
            .and_then(|json| js_sys::JSON::parse(&json).ok())
            .unwrap_or_else(|| JsValue::from_str(e.message()))
    })?);
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
    let resumed = manager()?
        .resume_unfinished()
        .await
        .map_err(|e| JsValue::from_str(&e.to_string()))?;
    Ok(resumed.started as u32)
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

/// Stores what background fetch `id` delivered. `end` is `success`, `fail` or `abort` (the
/// event that ended it), `failure_reason` the registration's; each record is
/// `{url, finalUrl, status, contentType, body: Blob | null, error: string | null}`, read by
/// the bootstrap from `registration.matchAll()`.
#[wasm_bindgen]
pub async fn background_delivered(
    id: String,
    end: String,
    failure_reason: String,
    records: js_sys::Array,
) -> Result<(), JsValue> {
    let end = match end.as_str() {
        "success" => engine::ports::BackgroundEnd::Success,
        "abort" => engine::ports::BackgroundEnd::Aborted,
        _ => engine::ports::BackgroundEnd::Failed(failure_reason),
    };
    let delivered = records.iter().filter_map(|r| delivered(&r)).collect();
    manager()?
        .background_delivered(&id, end, delivered)
        .await
        .map_err(|e| JsValue::from_str(&e.to_string()))
}

/// The browser's progress on background fetch `id` (its `progress` event).
#[wasm_bindgen]
pub async fn background_progress(id: String, downloaded: f64) -> Result<(), JsValue> {
    // A byte count from the browser: non-negative and finite, else nothing is counted.
    let downloaded = if downloaded.is_finite() && downloaded > 0.0 {
        downloaded as u64
    } else {
        0
    };
    manager()?.background_progress(&id, downloaded).await;
    Ok(())
}

/// One record as the engine takes it; `None` for a value that is no record.
fn delivered(r: &JsValue) -> Option<engine::ports::Delivered<body::BlobBody>> {
    use engine::ports::{Delivered, Fetched};
    use engine::FetchError;
    use wasm_bindgen::JsCast;
    let get = |k: &str| js_sys::Reflect::get(r, &JsValue::from_str(k)).ok();
    let url = get("url")?.as_string()?;
    let text = |k: &str| get(k).and_then(|v| v.as_string()).filter(|s| !s.is_empty());
    let response = if let Some(error) = text("error") {
        Err(FetchError::Network(error))
    } else {
        let status = get("status").and_then(|v| v.as_f64()).unwrap_or(0.0);
        match get("body").and_then(|b| b.dyn_into::<web_sys::Blob>().ok()) {
            Some(blob) if (200.0..300.0).contains(&status) => Ok(Fetched {
                body: body::BlobBody(blob),
                content_type: text("contentType"),
                final_url: text("finalUrl"),
            }),
            _ => Err(FetchError::Status {
                status: status as u16,
            }),
        }
    };
    Some(Delivered { url, response })
}
