//! The engine's `Store` on IndexedDB (indexed_db_futures), laid out to be readable in devtools.
//! The names (database, stores, key paths, record fields) are `engine::layout`'s:
//!
//! Database `offline-manager`, version 3:
//! - `entries` (keyPath `id`): one record per entry, the engine's `Entry` as a plain object
//!   without its plan (`entries`; records of older releases hold it inline).
//! - `plans` (key: the entry id, version 3): the entry's plan, every track and segment.
//! - `segments` (key `[entryId, track, index, chunk]`): `{entryId, track, index, chunk, chunks,
//!   blob, size, url, range, type}`; index 0 is the init segment; a segment longer than 8 MiB
//!   is chunks `0..chunks` whose bytes, joined, are the segment. Where IndexedDB refuses Blobs
//!   (WebKit private sessions keep no files), the record holds `bytes` (an ArrayBuffer) instead
//!   of `blob`; readers accept either.
//! - `manifests` (keyPath `entryId`): `{entryId, text}`, the local MPD.
//! - `licenses` (key `[entryId, keyId]`, version 2): `{entryId, keyId, key, expiration,
//!   licenseUrl, acquiredAt}`, the ClearKey keys kept for offline playback.
//!
//! Migrations run step by step (`connection::migrate`): 0→1 creates the first three stores;
//! 1→2 adds `licenses` (version 1 segment records lack `chunks`, which is read as 1); 2→3 adds
//! `plans`. The connection (`connection`) opens with a deadline, gives way to other contexts
//! and reopens; `requests` issues the transactions and reads; `segments` writes a batch of
//! segment records and joins a segment's records back into one Blob.

mod connection;
mod entries;
mod keys;
mod read_back;
mod requests;
mod segments;

use connection::Connection;
pub use connection::Lost;
use keys::{entry_range, record_key, segment_key, stored_segment};
use requests::{collected, commit, other, pipelined, values, write};
pub use segments::join_records;

use crate::body::BlobBody;
use engine::license::StoredLicense;
use engine::ports::{NewSegment, ReadBack, ReadBackReport, RecordKey, Store, StoredSegment};
use engine::{Entry, StoreError};
use futures::future::{FutureExt, LocalBoxFuture};
use indexed_db_futures::iter::ArrayMapIter;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::KeyRange;
use js_sys::{Array, Object, Reflect};
use mpd::Plan;
use std::cell::Cell;
use wasm_bindgen::JsValue;

use engine::layout::{BLOB_PROBE, MANIFEST_KEY, MANIFEST_TEXT, SEGMENT_RECORD as FIELD, STORES};

const ENTRIES: &str = STORES.entries;
const SEGMENTS: &str = STORES.segments;
const MANIFESTS: &str = STORES.manifests;
const LICENSES: &str = STORES.licenses;
const PLANS: &str = STORES.plans;

/// How segment bytes go into IndexedDB: decided once per opened database by a probe at the
/// first segment write, not per segment.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BytesForm {
    /// Blob records: the browser keeps the bytes as files and never copies them into JS memory.
    Blob,
    /// ArrayBuffer records: WebKit's private sessions refuse Blobs ("Error preparing Blob/File
    /// data to be stored"), as they have no files; ArrayBuffers store fine there.
    ArrayBuffer,
}

/// IndexedDB-backed store.
pub struct IdbStore {
    conn: Connection,
    form: Cell<Option<BytesForm>>,
}

impl IdbStore {
    /// Opens (and migrates) the database; `on_lost` hears when the connection goes away under
    /// the worker (see `connection`).
    pub async fn open(on_lost: Box<dyn Fn(Lost)>) -> Result<IdbStore, StoreError> {
        Ok(IdbStore {
            conn: Connection::open(on_lost).await?,
            form: Cell::new(None),
        })
    }

    /// The form segment bytes take in this database. A one-byte Blob written and deleted under
    /// a key no entry range covers (`[[], "blob-probe"]`: arrays sort after every entry id)
    /// tells whether IndexedDB keeps Blobs here. A full disk decides nothing: the real write
    /// then reports it.
    async fn bytes_form(&self) -> Result<BytesForm, StoreError> {
        if let Some(form) = self.form.get() {
            return Ok(form);
        }
        let db = self.conn.db().await?;
        let key: JsValue = Array::of2(&Array::new(), &BLOB_PROBE.into()).into();
        let probe = web_sys::Blob::new_with_str_sequence(&Array::of1(&"x".into()))
            .map_err(|e| StoreError::Other(format!("{e:?}")))?;
        let tx = write(&db, SEGMENTS)?;
        let put = tx
            .object_store(SEGMENTS)
            .map_err(other)?
            .put(JsValue::from(probe))
            .with_key(key.clone())
            .primitive()
            .map(|_| ())
            .map_err(other);
        let form = match put {
            Ok(()) => match commit(tx).await {
                Ok(()) => BytesForm::Blob,
                Err(StoreError::Quota(q)) => return Err(StoreError::Quota(q)),
                Err(_) => BytesForm::ArrayBuffer,
            },
            Err(_) => BytesForm::ArrayBuffer,
        };
        if form == BytesForm::Blob {
            let tx = write(&db, SEGMENTS)?;
            tx.object_store(SEGMENTS)
                .map_err(other)?
                .delete(key)
                .primitive()
                .map_err(other)?;
            commit(tx).await?;
        }
        self.form.set(Some(form));
        Ok(form)
    }

    /// The local manifest text of an entry.
    pub async fn manifest(&self, id: &str) -> Result<Option<String>, StoreError> {
        let db = self.conn.db().await?;
        let tx = db.transaction(MANIFESTS).build().map_err(other)?;
        let store = tx.object_store(MANIFESTS).map_err(other)?;
        let rec: Option<JsValue> = store
            .get(JsValue::from_str(id))
            .primitive()
            .map_err(other)?
            .await
            .map_err(other)?;
        Ok(rec
            .and_then(|r| Reflect::get(&r, &MANIFEST_TEXT.into()).ok())
            .and_then(|t| t.as_string()))
    }

    /// A stored segment as one Blob (its chunks joined, still without copying bytes) and its
    /// MIME type; `None` unless every chunk is stored.
    pub async fn segment(
        &self,
        id: &str,
        track: &str,
        index: u32,
    ) -> Result<Option<(web_sys::Blob, Option<String>)>, StoreError> {
        let lower: JsValue = Array::of3(&id.into(), &track.into(), &index.into()).into();
        let upper: JsValue =
            Array::of4(&id.into(), &track.into(), &index.into(), &Array::new()).into();
        let records = self
            .read_all(SEGMENTS, KeyRange::Bound(lower, false, upper, false))
            .await?;
        join_records(&records)
    }

    /// Every record of `store` whose key lies in `range`, in key order.
    async fn read_all(
        &self,
        store: &str,
        range: KeyRange<JsValue>,
    ) -> Result<Vec<JsValue>, StoreError> {
        let db = self.conn.db().await?;
        let tx = db.transaction(store).build().map_err(other)?;
        let store = tx.object_store(store).map_err(other)?;
        values(store.get_all().with_query::<JsValue, _>(range).primitive()).await
    }
    /// One request per entry over its `segments` records, in one transaction (see `pipelined`).
    async fn per_entry<R, O, T>(
        &self,
        ids: &[&str],
        send: impl Fn(&ObjectStore<'_>, KeyRange<JsValue>) -> indexed_db_futures::Result<R>,
        take: impl Fn(O) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError>
    where
        R: std::future::Future<Output = indexed_db_futures::Result<O>>,
    {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.conn.db().await?;
        let tx = db.transaction(SEGMENTS).build().map_err(other)?;
        let store = tx.object_store(SEGMENTS).map_err(other)?;
        pipelined(&store, ids.iter().map(|id| entry_range(id)), send, take).await
    }
}

fn to_js<T: serde::Serialize>(v: &T) -> Result<JsValue, StoreError> {
    let text = serde_json::to_string(v).map_err(other)?;
    js_sys::JSON::parse(&text).map_err(|e| StoreError::Other(format!("{e:?}")))
}

fn from_js<T: serde::de::DeserializeOwned>(v: &JsValue) -> Result<T, StoreError> {
    let text: String = js_sys::JSON::stringify(v)
        .map_err(|e| StoreError::Other(format!("{e:?}")))?
        .into();
    serde_json::from_str(&text)
        .map_err(|e| StoreError::Other(format!("a stored entry is unreadable: {e}")))
}

fn set(obj: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(obj, &key.into(), value);
}

impl Store<BlobBody> for IdbStore {
    fn get_entry<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<Entry>, StoreError>> {
        async move { entries::get(&self.conn.db().await?, id).await }.boxed_local()
    }

    fn put_entry<'a>(&'a self, entry: &'a Entry) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move { entries::put(&self.conn.db().await?, entry).await }.boxed_local()
    }

    fn list_entries(&self) -> LocalBoxFuture<'_, Result<Vec<Entry>, StoreError>> {
        async move { entries::list(&self.conn.db().await?, true).await }.boxed_local()
    }

    fn list_entries_light(&self) -> LocalBoxFuture<'_, Result<Vec<Entry>, StoreError>> {
        async move { entries::list(&self.conn.db().await?, false).await }.boxed_local()
    }

    fn plans_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<Option<Plan>>, StoreError>> {
        async move { entries::plans_of(&self.conn.db().await?, ids).await }.boxed_local()
    }

    fn delete_entry<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            let db = self.conn.db().await?;
            let tx = write(&db, [ENTRIES, PLANS, SEGMENTS, MANIFESTS, LICENSES])?;
            tx.object_store(PLANS)
                .map_err(other)?
                .delete(JsValue::from_str(id))
                .primitive()
                .map_err(other)?;
            tx.object_store(LICENSES)
                .map_err(other)?
                .delete::<JsValue, _>(entry_range(id))
                .primitive()
                .map_err(other)?;
            tx.object_store(ENTRIES)
                .map_err(other)?
                .delete(JsValue::from_str(id))
                .primitive()
                .map_err(other)?;
            tx.object_store(MANIFESTS)
                .map_err(other)?
                .delete(JsValue::from_str(id))
                .primitive()
                .map_err(other)?;
            tx.object_store(SEGMENTS)
                .map_err(other)?
                .delete::<JsValue, _>(entry_range(id))
                .primitive()
                .map_err(other)?;
            commit(tx).await
        }
        .boxed_local()
    }

    fn put_manifest<'a>(
        &'a self,
        id: &'a str,
        text: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            let db = self.conn.db().await?;
            let tx = write(&db, MANIFESTS)?;
            let rec = Object::new();
            set(&rec, MANIFEST_KEY, &id.into());
            set(&rec, MANIFEST_TEXT, &text.into());
            tx.object_store(MANIFESTS)
                .map_err(other)?
                .put(JsValue::from(rec))
                .primitive()
                .map_err(other)?;
            commit(tx).await
        }
        .boxed_local()
    }

    fn clear_segments<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            let db = self.conn.db().await?;
            let tx = write(&db, SEGMENTS)?;
            tx.object_store(SEGMENTS)
                .map_err(other)?
                .delete::<JsValue, _>(entry_range(id))
                .primitive()
                .map_err(other)?;
            commit(tx).await
        }
        .boxed_local()
    }

    fn stored_segments<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<StoredSegment>, StoreError>> {
        async move {
            let all = self.read_all(SEGMENTS, entry_range(id)).await?;
            Ok(all.iter().filter_map(stored_segment).collect())
        }
        .boxed_local()
    }

    fn stored_keys<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<RecordKey>, StoreError>> {
        async move {
            let db = self.conn.db().await?;
            let tx = db.transaction(SEGMENTS).build().map_err(other)?;
            let store = tx.object_store(SEGMENTS).map_err(other)?;
            let query = store
                .get_all_keys()
                .with_query::<JsValue, _>(entry_range(id));
            let keys = values(query.primitive()).await?;
            Ok(keys.iter().filter_map(record_key).collect())
        }
        .boxed_local()
    }

    fn stored_segments_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<Vec<StoredSegment>>, StoreError>> {
        async move {
            let send = |store: &ObjectStore<'_>, range| {
                store.get_all().with_query::<JsValue, _>(range).primitive()
            };
            let take = |records: ArrayMapIter<JsValue>| {
                Ok(collected(records)?
                    .iter()
                    .filter_map(stored_segment)
                    .collect())
            };
            self.per_entry(ids, send, take).await
        }
        .boxed_local()
    }

    fn record_count(&self) -> LocalBoxFuture<'_, Result<u64, StoreError>> {
        async move {
            let db = self.conn.db().await?;
            let tx = db.transaction(SEGMENTS).build().map_err(other)?;
            let n = tx
                .object_store(SEGMENTS)
                .map_err(other)?
                .count()
                .primitive()
                .map_err(other)?
                .await
                .map_err(other)?;
            Ok(u64::from(n))
        }
        .boxed_local()
    }

    fn record_counts_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<u64>, StoreError>> {
        async move {
            let send = |store: &ObjectStore<'_>, range| {
                store.count().with_query::<JsValue, _>(range).primitive()
            };
            self.per_entry(ids, send, |n: u32| Ok(u64::from(n))).await
        }
        .boxed_local()
    }

    fn manifest_ids(&self) -> LocalBoxFuture<'_, Result<Vec<String>, StoreError>> {
        async move {
            let db = self.conn.db().await?;
            let tx = db.transaction(MANIFESTS).build().map_err(other)?;
            let store = tx.object_store(MANIFESTS).map_err(other)?;
            let keys = values(store.get_all_keys().primitive()).await?;
            Ok(keys.iter().filter_map(JsValue::as_string).collect())
        }
        .boxed_local()
    }

    fn put_segments<'a>(
        &'a self,
        id: &'a str,
        items: Vec<NewSegment<BlobBody>>,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            let db = self.conn.db().await?;
            let form = self.bytes_form().await?;
            segments::put(&db, form, id, items).await
        }
        .boxed_local()
    }

    fn put_licenses<'a>(
        &'a self,
        id: &'a str,
        licenses: Vec<StoredLicense>,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            let db = self.conn.db().await?;
            let tx = write(&db, LICENSES)?;
            let store = tx.object_store(LICENSES).map_err(other)?;
            store
                .delete::<JsValue, _>(entry_range(id))
                .primitive()
                .map_err(other)?;
            for l in &licenses {
                let key: JsValue = Array::of2(&id.into(), &l.key_id.as_str().into()).into();
                store
                    .put(to_js(l)?)
                    .with_key(key)
                    .primitive()
                    .map_err(other)?;
            }
            commit(tx).await
        }
        .boxed_local()
    }

    fn licenses<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<StoredLicense>, StoreError>> {
        async move {
            let all = self.read_all(LICENSES, entry_range(id)).await?;
            all.iter().map(from_js).collect()
        }
        .boxed_local()
    }

    fn has_manifest<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<bool, StoreError>> {
        async move {
            let db = self.conn.db().await?;
            let tx = db.transaction(MANIFESTS).build().map_err(other)?;
            let count = tx
                .object_store(MANIFESTS)
                .map_err(other)?
                .count()
                .with_query::<JsValue, _>(KeyRange::Only(JsValue::from_str(id)))
                .primitive()
                .map_err(other)?
                .await
                .map_err(other)?;
            Ok(count > 0)
        }
        .boxed_local()
    }

    fn read_back<'a>(
        &'a self,
        id: &'a str,
        depth: ReadBack<'a>,
    ) -> LocalBoxFuture<'a, Result<ReadBackReport, StoreError>> {
        async move {
            let records = match depth {
                ReadBack::Full => self.read_all(SEGMENTS, entry_range(id)).await?,
                ReadBack::Probe(keys) => read_back::probe(&self.conn.db().await?, id, keys).await?,
            };
            Ok(read_back::report(&records, depth).await)
        }
        .boxed_local()
    }

    fn delete_records<'a>(
        &'a self,
        id: &'a str,
        keys: &'a [RecordKey],
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            let db = self.conn.db().await?;
            let tx = write(&db, SEGMENTS)?;
            let store = tx.object_store(SEGMENTS).map_err(other)?;
            for k in keys {
                store
                    .delete(segment_key(id, &k.track, k.index, k.chunk))
                    .primitive()
                    .map_err(other)?;
            }
            commit(tx).await
        }
        .boxed_local()
    }
}
