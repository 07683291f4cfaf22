//! The keys of the `segments` store (`[entry id, track, index, chunk]`) and what a record's
//! fields say of it.

use super::FIELD;
use engine::ports::{RecordKey, StoredSegment};
use indexed_db_futures::KeyRange;
use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

/// A record's key in `segments`.
pub(super) fn segment_key(id: &str, track: &str, index: u32, chunk: u32) -> JsValue {
    Array::of4(&id.into(), &track.into(), &index.into(), &chunk.into()).into()
}

/// Every key of one entry in `segments`: `[id]` sorts before `[id, ...]`, and `[id, []]` after
/// any `[id, track, ...]` (arrays sort after strings).
pub(super) fn entry_range(id: &str) -> KeyRange<JsValue> {
    let lower: JsValue = Array::of1(&id.into()).into();
    let upper: JsValue = Array::of2(&id.into(), &Array::new()).into();
    KeyRange::Bound(lower, false, upper, false)
}

/// A `segments` key (`[id, track, index, chunk]`) as the record's key below its entry.
pub(super) fn record_key(key: &JsValue) -> Option<RecordKey> {
    let part = |i: u32| Reflect::get_u32(key, i).ok();
    Some(RecordKey {
        track: part(1)?.as_string()?,
        index: part(2)?.as_f64()? as u32,
        chunk: part(3)?.as_f64()? as u32,
    })
}

/// What a segment record says of itself; `None` for a record missing a field.
pub(super) fn stored_segment(r: &JsValue) -> Option<StoredSegment> {
    let field = |k: &str| Reflect::get(r, &k.into()).ok();
    Some(StoredSegment {
        track: field(FIELD.track)?.as_string()?,
        index: field(FIELD.index)?.as_f64()? as u32,
        chunk: field(FIELD.chunk)?.as_f64().unwrap_or(0.0) as u32,
        chunks: field(FIELD.chunks)?.as_f64().unwrap_or(1.0) as u32,
        size: field(FIELD.size)?.as_f64()? as u64,
    })
}
