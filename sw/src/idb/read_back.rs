//! Reading records back to tell whether the browser can still read them: a Blob whose file it
//! lost fails (`NotReadableError`) only once its bytes are read, so the first byte of a few
//! records (`Probe`) or every byte of every record (`Full`) is read.

use super::{other, segment_key, FIELD, SEGMENTS};
use engine::ports::{ReadBack, ReadBackReport, RecordKey};
use engine::StoreError;
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The records of entry `id` at `keys` that are stored, in one transaction.
pub(super) async fn probe(
    db: &Database,
    id: &str,
    keys: &[RecordKey],
) -> Result<Vec<JsValue>, StoreError> {
    let tx = db.transaction(SEGMENTS).build().map_err(other)?;
    let store = tx.object_store(SEGMENTS).map_err(other)?;
    let mut found = Vec::new();
    for k in keys {
        let rec: Option<JsValue> = store
            .get(segment_key(id, &k.track, k.index, k.chunk))
            .primitive()
            .map_err(other)?
            .await
            .map_err(other)?;
        found.extend(rec);
    }
    Ok(found)
}

/// Reads `records` as deep as `depth` says: how many, how many bytes, and which failed.
pub(super) async fn report(records: &[JsValue], depth: ReadBack<'_>) -> ReadBackReport {
    let mut report = ReadBackReport::default();
    for record in records {
        report.records += 1;
        match read_record(record, depth).await {
            Some(read) => report.bytes += read,
            None => report.faults.push(key_of_record(record)),
        }
    }
    report
}

/// A record's key below its entry, from its fields.
fn key_of_record(record: &JsValue) -> RecordKey {
    let field = |k: &str| Reflect::get(record, &k.into()).unwrap_or_default();
    RecordKey {
        track: field(FIELD.track).as_string().unwrap_or_default(),
        index: field(FIELD.index).as_f64().unwrap_or(0.0) as u32,
        chunk: field(FIELD.chunk).as_f64().unwrap_or(0.0) as u32,
    }
}

/// Reads a record's bytes (`Probe`: its first byte) and gives how many were read; `None` when
/// they cannot be read (the browser lost the Blob's file) or are not as many as recorded.
async fn read_record(record: &JsValue, depth: ReadBack<'_>) -> Option<u64> {
    let field = |k: &str| Reflect::get(record, &k.into()).unwrap_or_default();
    let recorded = field(FIELD.size).as_f64()?;
    let bytes = field(FIELD.bytes);
    if let Some(buffer) = bytes.dyn_ref::<js_sys::ArrayBuffer>() {
        let len = f64::from(buffer.byte_length());
        return (len == recorded).then_some(len as u64);
    }
    let blob = field(FIELD.blob).dyn_into::<web_sys::Blob>().ok()?;
    if blob.size() != recorded {
        return None;
    }
    let read = match depth {
        ReadBack::Full => blob.clone(),
        ReadBack::Probe(_) => blob
            .slice_with_f64_and_f64(0.0, 1.0_f64.min(recorded))
            .ok()?,
    };
    let buffer = JsFuture::from(read.array_buffer()).await.ok()?;
    let len = f64::from(buffer.dyn_into::<js_sys::ArrayBuffer>().ok()?.byte_length());
    (len == read.size()).then_some(len as u64)
}
