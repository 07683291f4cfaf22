//! The engine's `Fetcher` on the worker's `fetch()`: CORS mode, byte ranges, and checks that the
//! body is what was asked for; segment decryption with WebCrypto in [`sea`]; whole index files
//! fetched into memory under a cap in [`whole`]; the browser's Background Fetch in
//! [`background`].

mod background;
mod sea;
mod whole;

use crate::body::BlobBody;
use engine::ports::{DecryptError, Fetched, Fetcher, KeyError};
use engine::FetchError;
use futures::future::{FutureExt, LocalBoxFuture};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Blob, Request, RequestInit, RequestMode, Response};

/// Fetches with the worker's global `fetch`.
pub struct WebFetcher;

fn scope() -> web_sys::WorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn js_err(e: wasm_bindgen::JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| format!("{e:?}"))
}

/// A request whose headers take longer than this is aborted and retried; its body gets this
/// much grace on top of the time its size needs (see `body_deadline_ms`).
const INACTIVITY_MS: u32 = 30_000;

fn inactive() -> FetchError {
    FetchError::Network(format!("no data for {} s", INACTIVITY_MS / 1000))
}

/// Awaits `promise`, or fails when it takes longer than the inactivity timeout (`omWithin`'s
/// race; `promise` never resolves to null).
async fn within_inactivity(promise: js_sys::Promise) -> Result<wasm_bindgen::JsValue, FetchError> {
    let settled = JsFuture::from(om_within(&promise, INACTIVITY_MS))
        .await
        .map_err(|e| FetchError::Network(js_err(e)))?;
    if settled.is_null() {
        return Err(inactive());
    }
    Ok(settled)
}

/// Why a response's body is refused before it is read, if it is: an opaque one cannot be
/// checked, and an error status carries no media.
fn refused(opaque: bool, ok: bool, status: u16) -> Result<(), FetchError> {
    if opaque {
        return Err(FetchError::Opaque);
    }
    if !ok {
        return Err(FetchError::Status { status });
    }
    Ok(())
}

/// Aborts its request when dropped: a paused or removed job drops its fetches, and the browser
/// then stops downloading their bodies instead of finishing them for nothing.
struct AbortOnDrop(Option<AbortController>);

impl AbortOnDrop {
    /// Forgets the request once its body is read whole: nothing is left to abort, and aborting
    /// a finished request still costs the worker an abort event on its signal (about 0.1 ms a
    /// segment, 16-26 ms of worker time over a 220 MB download).
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = &self.0 {
            controller.abort();
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// What `omFetchSegment` resolves to (`OmFetchedSegment` in sw/js/globals.d.ts).
    type FetchedSegment;
    #[wasm_bindgen(method, getter)]
    fn late(this: &FetchedSegment) -> u8;
    #[wasm_bindgen(method, getter)]
    fn status(this: &FetchedSegment) -> u16;
    #[wasm_bindgen(method, getter)]
    fn ok(this: &FetchedSegment) -> bool;
    #[wasm_bindgen(method, getter)]
    fn opaque(this: &FetchedSegment) -> bool;
    #[wasm_bindgen(method, getter)]
    fn url(this: &FetchedSegment) -> String;
    #[wasm_bindgen(method, getter, js_name = contentLength)]
    fn content_length(this: &FetchedSegment) -> Option<String>;
    #[wasm_bindgen(method, getter, js_name = contentEncoding)]
    fn content_encoding(this: &FetchedSegment) -> Option<String>;
    #[wasm_bindgen(method, getter, js_name = contentType)]
    fn content_type(this: &FetchedSegment) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    fn blob(this: &FetchedSegment) -> Option<Blob>;
    #[wasm_bindgen(method, getter, js_name = deadlineMs)]
    fn deadline_ms(this: &FetchedSegment) -> f64;
    #[wasm_bindgen(method, getter, js_name = elapsedMs)]
    fn elapsed_ms(this: &FetchedSegment) -> f64;

    /// `promise`, or null once `ms` passed first (sw/js/requests.js).
    #[wasm_bindgen(js_name = omWithin)]
    fn om_within(promise: &js_sys::Promise, ms: u32) -> js_sys::Promise;

    /// The response is opaque or an opaque redirect (sw/js/requests.js).
    #[wasm_bindgen(js_name = omOpaque)]
    fn om_opaque(response: &Response) -> bool;

    /// A GET as every request of the worker is sent (sw/js/requests.js): resolves to the
    /// Response, or to null when its headers took longer than `headers_ms`.
    #[wasm_bindgen(js_name = omSend)]
    fn om_send(
        url: &str,
        range: Option<String>,
        signal: Option<AbortSignal>,
        headers_ms: u32,
    ) -> js_sys::Promise;

    /// `om_send` and the body as a Blob within its deadline, in one call (sw/js/requests.js).
    #[wasm_bindgen(js_name = omFetchSegment)]
    fn om_fetch_segment(
        url: &str,
        range: Option<String>,
        signal: Option<AbortSignal>,
        grace_ms: u32,
        bytes_per_ms: f64,
        expected_bytes: f64,
    ) -> js_sys::Promise;
}

/// The Range header value for the inclusive byte range `[a, b]`.
fn range_header(range: Option<[u64; 2]>) -> Option<String> {
    range.map(|[a, b]| format!("bytes={a}-{b}"))
}

/// A request whose body is read whole (a manifest, key or index file); segments go through
/// `omFetchSegment`.
async fn send(url: &str, signal: Option<&AbortSignal>) -> Result<Response, FetchError> {
    let sent = om_send(url, None, signal.cloned(), INACTIVITY_MS);
    let resp = JsFuture::from(sent)
        .await
        .map_err(|e| FetchError::Network(js_err(e)))?;
    if resp.is_null() {
        return Err(inactive());
    }
    let resp: Response = resp.unchecked_into();
    refused(om_opaque(&resp), resp.ok(), resp.status())?;
    Ok(resp)
}

thread_local! {
    /// Bytes per ms one request's body has been arriving at lately (moving average).
    static BODY_RATE: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// Slowest body rate assumed before any request has finished: 4 KB/s.
const FLOOR_BYTES_PER_MS: f64 = 4.0;

/// The body rate deadlines assume: a quarter of the recent rate, never less than 4 KB/s.
fn assumed_rate() -> f64 {
    BODY_RATE.with(|r| r.get() / 4.0).max(FLOOR_BYTES_PER_MS)
}

/// How long a body of `bytes` may take: the grace period plus what the assumed rate predicts
/// (`omFetchSegment` in sw/js/requests.js applies the same rule to a segment's body). A body
/// read whole reports no progress, so a stall is noticed by this deadline, which adapts to the
/// network: about 30 s on a fast one, minutes on a slow one.
fn body_deadline_ms(bytes: f64) -> u32 {
    (f64::from(INACTIVITY_MS) + bytes / assumed_rate()).min(f64::from(u32::MAX)) as u32
}

fn record_rate(bytes: f64, elapsed_ms: f64) {
    if bytes > 64_000.0 && elapsed_ms > 0.0 {
        let now = bytes / elapsed_ms;
        BODY_RATE.with(|r| {
            let old = r.get();
            r.set(if old == 0.0 {
                now
            } else {
                old * 0.7 + now * 0.3
            });
        });
    }
}

/// One segment request with its checks: the deadlines, Content-Length, and the byte range asked
/// for (a 200 answered to a Range request is cut to the range). The bytes never enter wasm
/// memory: the body is a Blob.
async fn fetch_checked(
    url: &str,
    range: Option<[u64; 2]>,
    signal: Option<&AbortSignal>,
) -> Result<Fetched<BlobBody>, FetchError> {
    // The engine refuses a range out of bounds before fetching it (`mpd::checked_range`), so
    // its length and `b + 1` fit a JavaScript number; the checks here only keep a stray one from
    // wrapping.
    let want = match range {
        Some(r) => Some(mpd::range_len(r).ok_or_else(|| {
            FetchError::Integrity(format!("the byte range {}-{} is out of bounds", r[0], r[1]))
        })?),
        None => None,
    };
    let expected = want.map_or(8.0 * 1024.0 * 1024.0, |w| w as f64);
    let sent = om_fetch_segment(
        url,
        range_header(range),
        signal.cloned(),
        INACTIVITY_MS,
        assumed_rate(),
        expected,
    );
    let got: FetchedSegment = JsFuture::from(sent)
        .await
        .map_err(|e| FetchError::Network(js_err(e)))?
        .unchecked_into();
    match got.late() {
        0 => {}
        1 => return Err(inactive()),
        _ => {
            return Err(FetchError::Network(format!(
                "the body did not arrive within {} s",
                (got.deadline_ms() / 1000.0) as u64
            )))
        }
    }
    let status = got.status();
    refused(got.opaque(), got.ok(), status)?;
    let Some(mut blob) = got.blob() else {
        return Err(FetchError::Network("the response had no body".into()));
    };
    record_rate(blob.size(), got.elapsed_ms());
    let declared = got
        .content_length()
        .and_then(|v| v.trim().parse::<f64>().ok());
    let encoded = got
        .content_encoding()
        .is_some_and(|v| !v.eq_ignore_ascii_case("identity"));
    let content_type = got.content_type();
    let final_url = Some(got.url()).filter(|u| !u.is_empty());
    if let (Some(len), false) = (declared, encoded) {
        if (blob.size() - len).abs() > 0.5 {
            return Err(FetchError::Integrity(format!(
                "Content-Length says {len} bytes but {} arrived",
                blob.size()
            )));
        }
    }
    if let (Some([a, b]), Some(want)) = (range, want) {
        let want = want as f64;
        let end = b as f64 + 1.0;
        if status == 200 {
            // The server ignored Range and sent the whole file: keep only the part asked for.
            if blob.size() < end {
                return Err(FetchError::Integrity(format!(
                    "asked for bytes {a}-{b} but the whole file is {} bytes",
                    blob.size()
                )));
            }
            blob = blob
                .slice_with_f64_and_f64(a as f64, end)
                .map_err(|e| FetchError::Integrity(js_err(e)))?;
        } else if blob.size() > want {
            return Err(FetchError::Integrity(format!(
                "asked for {want} bytes, got {}",
                blob.size()
            )));
        }
    }
    Ok(Fetched {
        body: BlobBody(blob),
        content_type,
        final_url,
    })
}

impl Fetcher for WebFetcher {
    type Body = BlobBody;
    type Key = web_sys::CryptoKey;

    fn fetch<'a>(
        &'a self,
        url: &'a str,
        range: Option<[u64; 2]>,
    ) -> LocalBoxFuture<'a, Result<Fetched<BlobBody>, FetchError>> {
        async move {
            let controller = AbortController::new().ok();
            let signal = controller.as_ref().map(AbortController::signal);
            let mut abort = AbortOnDrop(controller);
            let fetched = fetch_checked(url, range, signal.as_ref()).await;
            if fetched.is_ok() {
                abort.disarm();
            }
            fetched
        }
        .boxed_local()
    }

    fn fetch_bytes<'a>(
        &'a self,
        url: &'a str,
        range: Option<[u64; 2]>,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, FetchError>> {
        async move {
            let Some(range) = range else {
                return whole::fetch_whole(url, mpd::MAX_INDEX_FILE_BYTES).await;
            };
            let body = self.fetch(url, Some(range)).await?.body.0;
            let promise = body.array_buffer();
            let buffer = JsFuture::from(promise)
                .await
                .map_err(|e| FetchError::Network(js_err(e)))?;
            Ok(js_sys::Uint8Array::new(&buffer).to_vec())
        }
        .boxed_local()
    }

    fn post_license<'a>(
        &'a self,
        url: &'a str,
        body: String,
    ) -> LocalBoxFuture<'a, Result<(String, Option<String>), FetchError>> {
        async move {
            let init = RequestInit::new();
            init.set_mode(RequestMode::Cors);
            init.set_method("POST");
            init.set_body(&body.into());
            let req = Request::new_with_str_and_init(url, &init)
                .map_err(|e| FetchError::Network(js_err(e)))?;
            req.headers()
                .set("Content-Type", "application/json")
                .map_err(|e| FetchError::Network(js_err(e)))?;
            let resp: Response = within_inactivity(scope().fetch_with_request(&req))
                .await?
                .unchecked_into();
            refused(om_opaque(&resp), resp.ok(), resp.status())?;
            let expiration = resp.headers().get("X-License-Expiration").ok().flatten();
            let promise = resp.text().map_err(|e| FetchError::Network(js_err(e)))?;
            let text = within_inactivity(promise)
                .await?
                .as_string()
                .unwrap_or_default();
            Ok((text, expiration))
        }
        .boxed_local()
    }

    fn fetch_text<'a>(
        &'a self,
        url: &'a str,
    ) -> LocalBoxFuture<'a, Result<(String, String), FetchError>> {
        async move {
            let resp = send(url, None).await?;
            let final_url = resp.url();
            let promise = resp.text().map_err(|e| FetchError::Network(js_err(e)))?;
            let text = within_inactivity(promise).await?;
            let text = text
                .as_string()
                .ok_or_else(|| FetchError::Integrity("the manifest is not text".into()))?;
            Ok((
                if final_url.is_empty() {
                    url.to_string()
                } else {
                    final_url
                },
                text,
            ))
        }
        .boxed_local()
    }

    fn fetch_key<'a>(
        &'a self,
        url: &'a str,
    ) -> LocalBoxFuture<'a, Result<web_sys::CryptoKey, KeyError>> {
        sea::fetch_key(url).boxed_local()
    }

    fn decrypt<'a>(
        &'a self,
        body: BlobBody,
        key: &'a web_sys::CryptoKey,
        iv: [u8; 16],
    ) -> LocalBoxFuture<'a, Result<BlobBody, DecryptError>> {
        async move { sea::decrypt(&body, key, iv).await }.boxed_local()
    }

    fn background_available(&self) -> bool {
        background::available()
    }

    fn background_abort<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, ()> {
        background::abort(id).boxed_local()
    }

    fn background_active(&self) -> LocalBoxFuture<'_, Option<Vec<String>>> {
        background::active().boxed_local()
    }
}
