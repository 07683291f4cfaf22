//! Segment records: how a batch of fetched segments is written (one transaction, the records
//! built in JS, then a nudge to the collector) and how a segment's records are joined back into
//! one Blob for an answer.

use super::keys::segment_key;
use super::requests::{commit, other, write};
use super::{BytesForm, FIELD, SEGMENTS};
use crate::body::BlobBody;
use engine::ports::NewSegment;
use engine::StoreError;
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Writes `items` of entry `id` in one readwrite transaction, as `form` says their bytes go.
pub(super) async fn put(
    db: &Database,
    form: BytesForm,
    id: &str,
    items: Vec<NewSegment<BlobBody>>,
) -> Result<(), StoreError> {
    // ArrayBuffers are read before the transaction opens: one left waiting on a read
    // would commit early.
    let mut buffers = Vec::new();
    if form == BytesForm::ArrayBuffer {
        for s in &items {
            let buffer = JsFuture::from(s.body.0.array_buffer())
                .await
                .map_err(|e| StoreError::Other(format!("reading a segment: {e:?}")))?;
            buffers.push(buffer);
        }
    }
    let tx = write(db, SEGMENTS)?;
    let store = tx.object_store(SEGMENTS).map_err(other)?;
    for (k, s) in items.iter().enumerate() {
        let [start, end] = s.range.map_or([-1.0, -1.0], |[a, b]| [a as f64, b as f64]);
        let rec = segment_record(
            id,
            &s.track,
            s.index,
            s.chunk,
            s.chunks,
            &s.body.0,
            buffers.get(k).cloned(),
            &s.url,
            start,
            end,
        );
        store
            .put(rec)
            .with_key(segment_key(id, &s.track, s.index, s.chunk))
            .primitive()
            .map_err(other)?;
    }
    let bytes: f64 = items.iter().map(|s| s.body.0.size()).sum();
    drop(items);
    drop(buffers);
    let committed = commit(tx).await;
    hint_gc(bytes);
    committed
}

/// One segment's records (its chunks, in key order) as one Blob and its MIME type; `None`
/// unless every chunk is there. Shared by the store and the cold-start path, where the worker's
/// JS reads the records while the wasm starts.
pub fn join_records(
    records: &[JsValue],
) -> Result<Option<(web_sys::Blob, Option<String>)>, StoreError> {
    let field = |r: &JsValue, k: &str| Reflect::get(r, &k.into()).unwrap_or_default();
    let Some(first) = records.first() else {
        return Ok(None);
    };
    let chunks = field(first, FIELD.chunks).as_f64().unwrap_or(1.0) as usize;
    if records.len() < chunks.max(1) {
        return Ok(None);
    }
    let kind = field(first, FIELD.kind)
        .as_string()
        .filter(|t| !t.is_empty());
    let bytes = |r: &JsValue| {
        let blob = field(r, FIELD.blob);
        if blob.is_instance_of::<web_sys::Blob>() {
            Ok(blob)
        } else {
            let buffer = field(r, FIELD.bytes);
            if buffer.is_instance_of::<js_sys::ArrayBuffer>() {
                Ok(buffer)
            } else {
                Err(bad_record())
            }
        }
    };
    if records.len() == 1 {
        if let Ok(blob) = field(first, FIELD.blob).dyn_into::<web_sys::Blob>() {
            return Ok(Some((blob, kind)));
        }
    }
    // A Blob made of ArrayBuffers or other Blobs: the browser owns it, so a response built on
    // it outlives a stopped worker.
    let parts: Array = records.iter().map(bytes).collect::<Result<_, _>>()?;
    let blob = web_sys::Blob::new_with_blob_sequence(&parts).map_err(|_| bad_record())?;
    Ok(Some((blob, kind)))
}

fn bad_record() -> StoreError {
    StoreError::Other("a stored segment record has neither a Blob nor an ArrayBuffer".into())
}

#[wasm_bindgen]
extern "C" {
    /// One `segments` record with the layout's field names (`FIELD`), built in JS in one call
    /// (sw/js/requests.js) rather than property by property across the wasm boundary. `bytes`
    /// is stored instead of the Blob when given; a `range_start` below 0 means no byte range.
    #[wasm_bindgen(js_name = omSegmentRecord)]
    #[allow(clippy::too_many_arguments, reason = "one argument per record field")]
    fn segment_record(
        entry_id: &str,
        track: &str,
        index: u32,
        chunk: u32,
        chunks: u32,
        blob: &web_sys::Blob,
        bytes: Option<JsValue>,
        url: &str,
        range_start: f64,
        range_end: f64,
    ) -> JsValue;
}

/// Tells V8 the Blobs just handed to IndexedDB hold memory: it sees only their small handles,
/// so without this it rarely collects them, and the browser process keeps every downloaded byte
/// until it does (+1.2 GB for a 1 GB download in the benchmark). A JS ArrayBuffer counts as
/// external memory and brings the next collection closer; it is never touched, so its pages are
/// never backed by RAM. `GC_HINT_FACTOR` times the batch's bytes makes about every commit end in
/// a collection (V8 collects once external memory grew by ~64 MB; a batch is ~16 MB).
fn hint_gc(bytes: f64) {
    if bytes >= 1.0 {
        let hint = (bytes * GC_HINT_FACTOR).min(GC_HINT_MAX);
        let _ = js_sys::ArrayBuffer::new(hint as u32);
    }
}

/// Measured on the 1 GB benchmark download (browser RSS growth, 3 trials each): ×1 +114…+180 MB,
/// ×2 +108…+146 MB, ×4 +70…+96 MB, ×8 +75…+87 MB, throughput within the trials' noise.
const GC_HINT_FACTOR: f64 = 8.0;
/// Far below any engine's ArrayBuffer limit, so the allocation cannot throw.
const GC_HINT_MAX: f64 = 256.0 * 1024.0 * 1024.0;
