//! A whole small file fetched into memory (a `SegmentTemplate@index` file): no `Range`
//! header, the same CORS, no-store, status, redirect and timeout rules as every request, and a
//! size cap kept while the body streams in, so a large file is refused without being read whole
//! (a missing Content-Length is fine; the bytes that arrive are counted).

use super::{body_deadline_ms, js_err, send, within_inactivity, AbortOnDrop};
use engine::FetchError;
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::AbortController;

fn network(e: JsValue) -> FetchError {
    FetchError::Network(js_err(e))
}

/// Fetches `url` whole, refusing a body over `limit` bytes with [`FetchError::TooLarge`].
pub(super) async fn fetch_whole(url: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
    let controller = AbortController::new().ok();
    let signal = controller.as_ref().map(AbortController::signal);
    // Dropped on every early return: a refused body stops downloading.
    let mut abort = AbortOnDrop(controller);
    let resp = send(url, signal.as_ref()).await?;
    let headers = resp.headers();
    let declared = headers
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    let encoded = headers
        .get("Content-Encoding")
        .ok()
        .flatten()
        .is_some_and(|v| !v.eq_ignore_ascii_case("identity"));
    let too_large = || FetchError::TooLarge { limit };
    if declared.is_some_and(|len| len > limit && !encoded) {
        return Err(too_large());
    }
    let body = Reflect::get(&resp, &JsValue::from_str("body")).map_err(network)?;
    let mut out = Vec::new();
    if !body.is_null() && !body.is_undefined() {
        let get_reader: Function = Reflect::get(&body, &JsValue::from_str("getReader"))
            .map_err(network)?
            .dyn_into()
            .map_err(network)?;
        let reader = get_reader.call0(&body).map_err(network)?;
        let read: Function = Reflect::get(&reader, &JsValue::from_str("read"))
            .map_err(network)?
            .dyn_into()
            .map_err(network)?;
        let started = js_sys::Date::now();
        let deadline = f64::from(body_deadline_ms(declared.unwrap_or(limit) as f64));
        loop {
            let promise: Promise = read
                .call0(&reader)
                .map_err(network)?
                .dyn_into()
                .map_err(network)?;
            let chunk = within_inactivity(promise).await?;
            let done = Reflect::get(&chunk, &JsValue::from_str("done"))
                .map_err(network)?
                .as_bool()
                .unwrap_or(true);
            if done {
                break;
            }
            let value: Uint8Array = Reflect::get(&chunk, &JsValue::from_str("value"))
                .map_err(network)?
                .dyn_into()
                .map_err(network)?;
            let start = out.len();
            let end = start.saturating_add(value.length() as usize);
            if end as u64 > limit {
                return Err(too_large());
            }
            out.resize(end, 0);
            value.copy_to(&mut out[start..]);
            if js_sys::Date::now() - started > deadline {
                return Err(FetchError::Network(format!(
                    "the body did not arrive within {} s",
                    (deadline / 1000.0) as u64
                )));
            }
        }
    }
    if let (Some(len), false) = (declared, encoded) {
        if len != out.len() as u64 {
            return Err(FetchError::Integrity(format!(
                "Content-Length says {len} bytes but {} arrived",
                out.len()
            )));
        }
    }
    abort.disarm();
    Ok(out)
}
