//! Answers the player's requests for stored entries from IndexedDB:
//! `{scope}__offline__/{entry}/manifest.mpd`, `{scope}__offline__/{entry}/{track}/{index}`, and
//! ClearKey licence requests (POST) at `{scope}__offline__/{entry}/license`.
//! Bodies are Blobs (or `Blob.slice` for ranges) so a response outlives a stopped worker.

use crate::idb::IdbStore;
use engine::ports::Store;
use engine::range::{answer, RangeAnswer};
use engine::OFFLINE_PREFIX;
use wasm_bindgen::JsValue;
use web_sys::{Blob, Headers, Request, Response, ResponseInit};

/// A parsed local URL.
#[derive(Debug, PartialEq)]
pub enum Route {
    /// The local manifest of an entry.
    Manifest(String),
    /// One stored segment.
    Segment(String, String, u32),
    /// The entry's ClearKey licence endpoint.
    License(String),
}

/// Maps a path below the scope (`__offline__/...`) to a route.
pub fn route(rest: &str) -> Option<Route> {
    let rest = rest.split(['?', '#']).next()?;
    let mut parts = rest
        .strip_prefix(OFFLINE_PREFIX)?
        .strip_prefix('/')?
        .split('/');
    let entry = decode(parts.next()?)?;
    match (parts.next()?, parts.next(), parts.next()) {
        ("manifest.mpd", None, _) => Some(Route::Manifest(entry)),
        ("license", None, _) => Some(Route::License(entry)),
        (track, Some(index), None) => Some(Route::Segment(
            entry,
            track.to_string(),
            index.parse().ok()?,
        )),
        _ => None,
    }
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Builds the response for a local request.
pub async fn respond(store: &IdbStore, rest: &str, request: &Request) -> Result<Response, JsValue> {
    match route(rest) {
        Some(Route::Manifest(entry)) => match store.manifest(&entry).await.map_err(store_err)? {
            Some(text) => text_response(200, &text, "application/dash+xml"),
            None => not_found(&format!(
                "9003: entry {entry} has no stored manifest; download it first"
            )),
        },
        Some(Route::Segment(entry, track, index)) => match store
            .segment(&entry, &track, index)
            .await
            .map_err(store_err)?
        {
            Some((blob, kind)) => blob_response(blob, kind, request),
            None => not_found(&format!(
                "9003: segment {track}/{index} of entry {entry} is not stored"
            )),
        },
        Some(Route::License(entry)) => {
            let body = match request.text() {
                Ok(p) => wasm_bindgen_futures::JsFuture::from(p)
                    .await?
                    .as_string()
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            let stored = store.licenses(&entry).await.map_err(store_err)?;
            let (status, text) =
                engine::drm::answer_license_request(&entry, &body, &stored, js_sys::Date::now());
            text_response(status, &text, "application/json")
        }
        None => not_found("9004: this offline URL does not name a stored manifest or segment"),
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
    Some(match crate::idb::join_records(records) {
        Ok(Some((blob, kind))) => blob_response(blob, kind, request),
        Ok(None) => not_found(&format!(
            "9003: segment {track}/{index} of entry {entry} is not stored"
        )),
        Err(e) => Err(store_err(e)),
    })
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

fn text_response(status: u16, text: &str, kind: &str) -> Result<Response, JsValue> {
    let headers = Headers::new()?;
    headers.set("Content-Type", kind)?;
    let init = ResponseInit::new();
    init.set_status(status);
    init.set_headers(&headers);
    Response::new_with_opt_str_and_init(Some(text), &init)
}

fn not_found(message: &str) -> Result<Response, JsValue> {
    text_response(404, message, "text/plain")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_and_segment_paths_route() {
        assert_eq!(
            route("__offline__/0_ab/manifest.mpd"),
            Some(Route::Manifest("0_ab".into()))
        );
        assert_eq!(
            route("__offline__/a%20b/p0a0r1/12?x=1"),
            Some(Route::Segment("a b".into(), "p0a0r1".into(), 12))
        );
        assert_eq!(
            route("__offline__/0_ab/license"),
            Some(Route::License("0_ab".into()))
        );
    }

    #[test]
    fn other_paths_do_not_route() {
        for p in [
            "__offline__/x",
            "__offline__/x/t/notanumber",
            "__offline__/x/t/1/extra",
            "other/x/manifest.mpd",
            "__offline__/%zz/manifest.mpd",
        ] {
            assert_eq!(route(p), None, "{p}");
        }
    }
}
