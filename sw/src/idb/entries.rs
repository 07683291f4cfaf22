//! Entry records and their plans, kept apart: `entries` holds each entry without its plan and
//! `plans` the plan under the entry's id. A plan lists every segment of every selected track
//! (a two-hour title: thousands), an entry record the rest (a few hundred bytes), so listing
//! a library reads the small records only. Entries written by releases before the split keep
//! their plan inline until they are next written; readers accept either form.

use super::{from_js, other, pipelined, to_js, values, write, ENTRIES, PLANS};
use engine::{Entry, StoreError};
use indexed_db_futures::database::Database;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use js_sys::Reflect;
use mpd::Plan;
use std::collections::HashMap;
use wasm_bindgen::{JsCast, JsValue};

/// The name of the plan's field in an entry record (`Entry::plan`, camelCase).
const PLAN_FIELD: &str = "plan";

/// One entry with its plan, read in one transaction.
pub(super) async fn get(db: &Database, id: &str) -> Result<Option<Entry>, StoreError> {
    let tx = db.transaction([ENTRIES, PLANS]).build().map_err(other)?;
    let key = JsValue::from_str(id);
    let entry = tx
        .object_store(ENTRIES)
        .map_err(other)?
        .get(key.clone())
        .primitive()
        .map_err(other)?;
    let plan = tx
        .object_store(PLANS)
        .map_err(other)?
        .get(key)
        .primitive()
        .map_err(other)?;
    let entry: Option<JsValue> = entry.await.map_err(other)?;
    let plan: Option<JsValue> = plan.await.map_err(other)?;
    let Some(record) = entry else {
        return Ok(None);
    };
    let mut entry: Entry = from_js(&record)?;
    if entry.plan.is_none() {
        entry.plan = plan.map(|p| from_js(&p)).transpose()?;
    }
    Ok(Some(entry))
}

/// Writes an entry and its plan (or deletes its plan when it has none) in one transaction.
pub(super) async fn put(db: &Database, entry: &Entry) -> Result<(), StoreError> {
    let tx = write(db, [ENTRIES, PLANS])?;
    let record = to_js(entry)?;
    // A fresh plain object: deleting one of its properties cannot fail.
    let _ = Reflect::delete_property(record.unchecked_ref::<js_sys::Object>(), &PLAN_FIELD.into());
    tx.object_store(ENTRIES)
        .map_err(other)?
        .put(record)
        .primitive()
        .map_err(other)?;
    let plans = tx.object_store(PLANS).map_err(other)?;
    let key = JsValue::from_str(&entry.id);
    match &entry.plan {
        Some(plan) => {
            plans
                .put(to_js(plan)?)
                .with_key(key)
                .primitive()
                .map_err(other)?;
        }
        None => {
            plans.delete(key).primitive().map_err(other)?;
        }
    }
    super::commit(tx).await
}

/// Every entry; with `plans`, each with its plan (read in the same transaction), else with the
/// plan only where its record still holds it inline.
pub(super) async fn list(db: &Database, plans: bool) -> Result<Vec<Entry>, StoreError> {
    let tx = db.transaction([ENTRIES, PLANS]).build().map_err(other)?;
    let records = tx
        .object_store(ENTRIES)
        .map_err(other)?
        .get_all()
        .primitive();
    let apart = if plans {
        let store = tx.object_store(PLANS).map_err(other)?;
        Some((
            store.get_all_keys().primitive(),
            store.get_all().primitive(),
        ))
    } else {
        None
    };
    let records = values(records).await?;
    let mut entries: Vec<Entry> = records.iter().map(from_js).collect::<Result<_, _>>()?;
    if let Some((keys, plans)) = apart {
        let keys = values(keys).await?;
        let plans = values(plans).await?;
        let mut by_id: HashMap<String, JsValue> = keys
            .iter()
            .filter_map(JsValue::as_string)
            .zip(plans)
            .collect();
        for e in entries.iter_mut().filter(|e| e.plan.is_none()) {
            if let Some(p) = by_id.remove(&e.id) {
                e.plan = Some(from_js(&p)?);
            }
        }
    }
    Ok(entries)
}

/// The plans of several entries (`None` for an entry without one), read at once.
pub(super) async fn plans_of(db: &Database, ids: &[&str]) -> Result<Vec<Option<Plan>>, StoreError> {
    let tx = db.transaction(PLANS).build().map_err(other)?;
    let store = tx.object_store(PLANS).map_err(other)?;
    let send = |store: &ObjectStore<'_>, id: JsValue| store.get(id).primitive();
    let take = |plan: Option<JsValue>| plan.map(|p| from_js(&p)).transpose();
    pipelined(
        &store,
        ids.iter().map(|id| JsValue::from_str(id)),
        send,
        take,
    )
    .await
}
