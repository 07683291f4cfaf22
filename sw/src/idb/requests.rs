//! IndexedDB requests as the store issues them: transactions, pipelined reads, commits, and
//! the mapping of IndexedDB's errors to the engine's.

use engine::StoreError;
use indexed_db_futures::database::Database;
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::iter::ArrayMapIter;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::{Transaction, TransactionMode};
use js_sys::Reflect;
use wasm_bindgen::JsValue;

/// A read-write transaction over `stores`.
pub(super) fn write<S>(db: &Database, stores: S) -> Result<Transaction<'_>, StoreError>
where
    S: indexed_db_futures::database::ObjectStoreName,
{
    db.transaction(stores)
        .with_mode(TransactionMode::Readwrite)
        .build()
        .map_err(other)
}

/// One request per key on `store`, every request out before the first answer is awaited:
/// hundreds of titles cost about one round trip, not hundreds.
pub(super) async fn pipelined<K, R, O, T>(
    store: &ObjectStore<'_>,
    keys: impl ExactSizeIterator<Item = K>,
    send: impl Fn(&ObjectStore<'_>, K) -> indexed_db_futures::Result<R>,
    take: impl Fn(O) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError>
where
    R: std::future::Future<Output = indexed_db_futures::Result<O>>,
{
    let mut requests = Vec::with_capacity(keys.len());
    for key in keys {
        requests.push(send(store, key).map_err(other)?);
    }
    let mut out = Vec::with_capacity(requests.len());
    for request in requests {
        out.push(take(request.await.map_err(other)?)?);
    }
    Ok(out)
}

/// The values (or keys) a `getAll` (`getAllKeys`) request gives, once it answers.
pub(super) async fn values<R>(
    request: indexed_db_futures::Result<R>,
) -> Result<Vec<JsValue>, StoreError>
where
    R: std::future::Future<Output = indexed_db_futures::Result<ArrayMapIter<JsValue>>>,
{
    collected(request.map_err(other)?.await.map_err(other)?)
}

/// A `getAll` answer's values, each checked.
pub(super) fn collected(answer: ArrayMapIter<JsValue>) -> Result<Vec<JsValue>, StoreError> {
    answer.collect::<Result<_, _>>().map_err(other)
}

/// Commits, telling a full disk apart: IndexedDB reports QuotaExceededError on the transaction
/// (at commit, the puts themselves succeed), while the commit future only says "aborted".
pub(super) async fn commit(tx: Transaction<'_>) -> Result<(), StoreError> {
    let raw: JsValue = tx.as_sys().clone().into();
    tx.commit().await.map_err(|e| {
        let name = Reflect::get(&raw, &"error".into())
            .ok()
            .filter(|err| !err.is_null() && !err.is_undefined())
            .and_then(|err| Reflect::get(&err, &"name".into()).ok())
            .and_then(|n| n.as_string());
        match name.as_deref() {
            Some("QuotaExceededError") => StoreError::Quota(format!("QuotaExceededError: {e}")),
            Some(n) => StoreError::Other(format!("{e} ({n})")),
            None => other(e),
        }
    })
}

pub(super) fn other(e: impl std::fmt::Display) -> StoreError {
    let s = e.to_string();
    if s.contains("QuotaExceeded") {
        StoreError::Quota(s)
    } else {
        StoreError::Other(s)
    }
}
