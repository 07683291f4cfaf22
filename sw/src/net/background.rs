//! The browser's Background Fetch as the worker reaches it (`registration.backgroundFetch`,
//! Chromium only, so through `Reflect`: web-sys has no bindings): whether it is there, the ids
//! still out, and aborting one. Starting one is for pages only (Chromium throws
//! `NotAllowedError` in service workers); the page shim does it.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::ServiceWorkerGlobalScope;

/// `registration.backgroundFetch`, when the browser has it.
fn manager() -> Option<JsValue> {
    let scope: ServiceWorkerGlobalScope = js_sys::global().dyn_into().ok()?;
    let m = Reflect::get(&scope.registration(), &JsValue::from_str("backgroundFetch")).ok()?;
    (m.is_object()).then_some(m)
}

/// Calls `target[name](...args)` and awaits the promise it returns.
async fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Option<JsValue> {
    let f: Function = Reflect::get(target, &JsValue::from_str(name))
        .ok()?
        .dyn_into()
        .ok()?;
    let array: js_sys::Array = args.iter().collect();
    let value = f.apply(target, &array).ok()?;
    match value.dyn_into::<Promise>() {
        Ok(p) => JsFuture::from(p).await.ok(),
        Err(v) => Some(v),
    }
}

/// Whether the browser has Background Fetch.
pub(super) fn available() -> bool {
    manager().is_some()
}

/// How long `getIds()` may take: it waits while the registration is still activating (so an
/// `activate` handler awaiting it would wait for ever).
const GET_IDS_MS: u32 = 3_000;

/// The ids of the background fetches still out (`getIds()`); none without Background Fetch;
/// `None` when the browser did not answer in time.
pub(super) async fn active() -> Option<Vec<String>> {
    let Some(m) = manager() else {
        return Some(Vec::new());
    };
    let ask = Box::pin(call(&m, "getIds", &[]));
    let timer = gloo_timers::future::TimeoutFuture::new(GET_IDS_MS);
    let ids = match futures::future::select(ask, timer).await {
        futures::future::Either::Left((ids, _)) => ids?,
        futures::future::Either::Right(_) => return None,
    };
    Some(
        js_sys::Array::from(&ids)
            .iter()
            .filter_map(|v| v.as_string())
            .collect(),
    )
}

/// Aborts background fetch `id` if it is still out.
pub(super) async fn abort(id: &str) {
    let Some(m) = manager() else { return };
    let Some(registration) = call(&m, "get", &[JsValue::from_str(id)]).await else {
        return;
    };
    if registration.is_object() {
        let _ = call(&registration, "abort", &[]).await;
    }
}
