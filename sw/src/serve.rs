//! Answers the player's requests for stored entries from IndexedDB: the local manifest, stored
//! segments, and ClearKey licence requests (POST), at the URLs `engine::layout` defines.
//! Bodies are Blobs (or `Blob.slice` for ranges) so a response outlives a stopped worker.

use crate::idb::IdbStore;
use crate::WorkerManager;
use engine::layout::{route, Route};
use engine::manager::Playback;
use engine::ports::Store;
use engine::range::{answer, RangeAnswer};
use engine::{Code, KalturaError};
use std::rc::Rc;
use wasm_bindgen::JsValue;
use web_sys::{Blob, Headers, Request, Response, ResponseInit};

/// Builds the response for a local request. A segment the store lacks, of an entry still
/// downloading or paused, comes from the network through the manager (and is stored once).
pub async fn respond(
    store: &IdbStore,
    manager: &Rc<WorkerManager>,
    rest: &str,
    request: &Request,
) -> Result<Response, JsValue> {
    match route(rest) {
        Some(Route::Manifest(entry)) => match store.manifest(&entry).await.map_err(store_err)? {
            Some(text) => text_response(200, &text, "application/dash+xml"),
            None => no_manifest(&entry),
        },
        Some(Route::StoredManifest(entry)) => {
            let Some(text) = store.manifest(&entry).await.map_err(store_err)? else {
                return no_manifest(&entry);
            };
            match manager.stored_only_manifest(&entry, &text).await {
                Ok(cut) => text_response(200, &cut, "application/dash+xml"),
                Err(error) => not_found(error),
            }
        }
        Some(Route::Segment(entry, track, index)) => {
            if let Some((blob, kind)) = store
                .segment(&entry, &track, index)
                .await
                .map_err(store_err)?
            {
                return blob_response(blob, kind, request);
            }
            from_network(store, manager, &entry, &track, index, request).await
        }
        Some(Route::License(entry)) => {
            let body = match request.text() {
                Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
                    .await?
                    .as_string()
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            let stored = store.licenses(&entry).await.map_err(store_err)?;
            let (status, text) = engine::license::answer_license_request(
                &entry,
                &body,
                &stored,
                js_sys::Date::now(),
            );
            text_response(status, &text, "application/json")
        }
        None => not_found(KalturaError::new(
            Code::MalformedOfflineUri,
            "this offline URL does not name a stored manifest, segment or licence",
            None,
        )),
    }
}

/// Answers a segment request from records the bootstrap read while the wasm was starting (a cold
/// worker's first request); `None` when `rest` is not a segment route, so the caller falls back to
/// `respond`.
pub fn respond_from_records(
    rest: &str,
    records: &[JsValue],
    request: &Request,
) -> Option<Result<Response, JsValue>> {
    let Some(Route::Segment(entry, track, index)) = route(rest) else {
        return None;
    };
    let field = |r: &JsValue, k: &str| js_sys::Reflect::get(r, &k.into()).unwrap_or_default();
    let ours = records.iter().all(|r| {
        field(r, "entryId").as_string().as_deref() == Some(entry.as_str())
            && field(r, "track").as_string().as_deref() == Some(track.as_str())
            && field(r, "index").as_f64() == Some(f64::from(index))
    });
    if !ours {
        return None;
    }
    // Not stored (yet): `respond` asks the network for it.
    match crate::idb::join_records(records) {
        Ok(Some((blob, kind))) => Some(blob_response(blob, kind, request)),
        Ok(None) => None,
        Err(e) => Some(Err(store_err(e))),
    }
}

/// A segment the store lacks: fetched for the player (an entry still downloading or paused), or
/// read from the store once the download job, which was fetching it, stored it.
async fn from_network(
    store: &IdbStore,
    manager: &Rc<WorkerManager>,
    entry: &str,
    track: &str,
    index: u32,
    request: &Request,
) -> Result<Response, JsValue> {
    let mut after_wait = false;
    loop {
        match manager
            .playback_segment(entry, track, index, after_wait)
            .await
        {
            Ok(Playback::Fetched { body, content_type }) => {
                let kind = Some(content_type).filter(|k| !k.is_empty());
                return blob_response(body.0, kind, request);
            }
            Ok(Playback::Stored) if !after_wait => {
                if let Some((blob, kind)) = store
                    .segment(entry, track, index)
                    .await
                    .map_err(store_err)?
                {
                    return blob_response(blob, kind, request);
                }
                after_wait = true;
            }
            Ok(Playback::Stored) => return not_stored(entry, track, index),
            Err((status, error)) => return error_response(status, &error),
        }
    }
}

fn store_err(e: engine::StoreError) -> JsValue {
    JsValue::from_str(&format!("{e:?}"))
}

fn blob_response(blob: Blob, kind: Option<String>, request: &Request) -> Result<Response, JsValue> {
    let size = blob.size() as u64;
    let headers = Headers::new()?;
    headers.set(
        "Content-Type",
        kind.as_deref().unwrap_or("application/octet-stream"),
    )?;
    headers.set("Accept-Ranges", "bytes")?;
    // shaka-player leaves responses marked so out of its bandwidth estimate.
    headers.set(FROM_CACHE, "true")?;
    let range = request.headers().get("Range")?;
    let init = ResponseInit::new();
    let body = match answer(range.as_deref(), size) {
        RangeAnswer::Full => {
            headers.set("Content-Length", &size.to_string())?;
            init.set_status(200);
            blob
        }
        RangeAnswer::Partial { start, end } => {
            headers.set("Content-Range", &format!("bytes {start}-{end}/{size}"))?;
            // `answer` keeps `start <= end < size`, so the length is never 0 and never wraps.
            let len = mpd::range_len([start, end]).unwrap_or(0);
            headers.set("Content-Length", &len.to_string())?;
            init.set_status(206);
            blob.slice_with_f64_and_f64(start as f64, end as f64 + 1.0)?
        }
        RangeAnswer::Unsatisfiable => {
            headers.set("Content-Range", &format!("bytes */{size}"))?;
            init.set_status(416);
            init.set_headers(&headers);
            return Response::new_with_opt_str_and_init(None, &init);
        }
    };
    init.set_headers(&headers);
    Response::new_with_opt_blob_and_init(Some(&body), &init)
}

/// The header shaka-player reads to leave a response out of its bandwidth estimate (dash.js
/// needs none: it measures throughput from the response timing, and local answers are fast).
const FROM_CACHE: &str = "X-Shaka-From-Cache";

fn text_response(status: u16, text: &str, kind: &str) -> Result<Response, JsValue> {
    let headers = Headers::new()?;
    headers.set("Content-Type", kind)?;
    headers.set(FROM_CACHE, "true")?;
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&headers);
    Response::new_with_opt_str_and_init(Some(text), &init)
}

/// A 404 whose body is the error as `{code}: {message}`.
fn not_found(error: KalturaError) -> Result<Response, JsValue> {
    error_response(404, &error)
}

/// An HTTP error whose body is the error as `{code}: {message}`.
fn error_response(status: u16, error: &KalturaError) -> Result<Response, JsValue> {
    text_response(status, &error.to_string(), "text/plain")
}

fn no_manifest(entry: &str) -> Result<Response, JsValue> {
    not_found(KalturaError::new(
        Code::RequestedItemNotFound,
        format!("entry {entry} has no stored manifest; download it first"),
        Some(entry),
    ))
}

fn not_stored(entry: &str, track: &str, index: u32) -> Result<Response, JsValue> {
    not_found(KalturaError::new(
        Code::RequestedItemNotFound,
        format!("segment {track}/{index} of entry {entry} is not stored"),
        Some(entry),
    ))
}
