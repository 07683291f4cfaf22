//! Reading and saving entries, with the states a full disk kept in memory, and the summaries
//! pages see.

use super::{Manager, Res};
use crate::entry::{Entry, State, StopReason, StoredTotals};
use crate::error::{Code, KalturaError, StoreError};
use crate::layout::{self, POSTER_TRACK};
use crate::ports::{Fetcher, Host, Store, StoredSegment};
use crate::progress::Totals;
use crate::protocol::{Answer, EntrySummary, Event, StateDetail};
use mpd::Plan;
use serde_json::Value;
use std::collections::HashMap;

impl<F: Fetcher, S: Store<F::Body>, H: Host> Manager<F, S, H> {
    /// Every entry, with the states a full disk kept from being saved.
    pub(super) async fn entries(&self) -> Result<Vec<Entry>, KalturaError> {
        let all = self
            .store
            .list_entries()
            .await
            .map_err(|e| e.to_kaltura(None))?;
        Ok(self.with_unsaved(all))
    }

    /// Every entry as `entries` gives it, but with a plan only where a listing needs it: not
    /// for a completed entry that counted what it stored (`Entry::stored`).
    pub(super) async fn entries_to_list(&self) -> Result<Vec<Entry>, KalturaError> {
        // A state a full disk kept in memory is a whole entry, plan included: no plan is read for it.
        let all = self.entries_light().await?;
        self.with_plans(all, |e| counted(e).is_none()).await
    }

    /// Every entry without the plans kept apart (an entry's `plan` is `None` unless its record
    /// holds it inline), with the states a full disk kept from being saved.
    pub(super) async fn entries_light(&self) -> Result<Vec<Entry>, KalturaError> {
        let all = self
            .store
            .list_entries_light()
            .await
            .map_err(|e| e.to_kaltura(None))?;
        Ok(self.with_unsaved(all))
    }

    /// `all`, with its plan read (all at once) for each entry `need` names that lacks it.
    pub(super) async fn with_plans(
        &self,
        mut all: Vec<Entry>,
        need: impl Fn(&Entry) -> bool,
    ) -> Result<Vec<Entry>, KalturaError> {
        let db = |e: StoreError| e.to_kaltura(None);
        let needed: Vec<&str> = all
            .iter()
            .filter(|e| e.plan.is_none() && need(e))
            .map(|e| e.id.as_str())
            .collect();
        if !needed.is_empty() {
            let plans = self.store.plans_of(&needed).await.map_err(db)?;
            let mut plans: HashMap<String, Plan> = needed
                .iter()
                .zip(plans)
                .filter_map(|(id, p)| Some(((*id).to_string(), p?)))
                .collect();
            for e in all.iter_mut() {
                if let Some(p) = plans.remove(&e.id) {
                    e.plan = Some(p);
                }
            }
        }
        Ok(all)
    }

    fn with_unsaved(&self, mut all: Vec<Entry>) -> Vec<Entry> {
        let unsaved = self.unsaved.borrow();
        for e in all.iter_mut() {
            if let Some(newer) = unsaved.get(&e.id) {
                *e = newer.clone();
            }
        }
        all
    }

    /// One entry; 9013 when there is none.
    pub(super) async fn entry(&self, id: &str) -> Result<Entry, KalturaError> {
        if let Some(e) = self.unsaved.borrow().get(id) {
            return Ok(e.clone());
        }
        self.store
            .get_entry(id)
            .await
            .map_err(|e| e.to_kaltura(Some(id)))?
            .ok_or_else(|| {
                KalturaError::new(
                    Code::EntryDoesNotExist,
                    format!("no entry {id}; call getMediaConfig for it first"),
                    Some(id),
                )
            })
    }

    /// The summary pages see, with progress read from the store.
    pub async fn summary(&self, entry: &Entry) -> Result<EntrySummary, KalturaError> {
        let stored = match &entry.plan {
            Some(_) => self
                .store
                .stored_segments(&entry.id)
                .await
                .map_err(|e| e.to_kaltura(Some(&entry.id)))?,
            None => Vec::new(),
        };
        Ok(self.summary_of(entry, &stored))
    }

    /// The summary of an entry whose stored segments are read already.
    pub(super) fn summary_of(&self, entry: &Entry, stored: &[StoredSegment]) -> EntrySummary {
        let totals = match &entry.plan {
            Some(plan) => Totals::of(plan, stored),
            None => Totals::default(),
        };
        self.summary_with(entry, totals, has_poster(stored))
    }

    /// The summary of a completed entry from what it counted as it completed.
    pub(super) fn summary_counted(&self, entry: &Entry, counted: &StoredTotals) -> EntrySummary {
        let items_total = entry
            .plan
            .as_ref()
            .map_or(counted.items, |p| p.item_count() as u64);
        let totals = Totals {
            bytes_done: counted.bytes,
            bytes_total: counted.bytes,
            items_done: counted.items,
            items_total,
        };
        self.summary_with(entry, totals, counted.poster)
    }

    /// The summary of an entry whose plan has nothing stored yet (`poster`: but its poster).
    pub(super) fn summary_new(&self, entry: &Entry, poster: bool) -> EntrySummary {
        let totals = match &entry.plan {
            Some(plan) => Totals::of(plan, &[]),
            None => Totals::default(),
        };
        self.summary_with(entry, totals, poster)
    }

    fn summary_with(&self, entry: &Entry, totals: Totals, poster: bool) -> EntrySummary {
        let local_poster =
            poster.then(|| Value::String(layout::poster_url(self.scope(), &entry.id)));
        // Kaltura providers put id, poster, metadata and duration inside `sources`; plain
        // configs may put them at the top level.
        let field = |k: &str| {
            entry
                .config
                .get("sources")
                .and_then(|s| s.get(k))
                .or_else(|| entry.config.get(k))
                .cloned()
                .unwrap_or(Value::Null)
        };
        EntrySummary {
            id: entry.id.clone(),
            state: entry.state,
            stop_reason: entry.stop_reason,
            metadata: field("metadata"),
            poster: local_poster.unwrap_or_else(|| field("poster")),
            duration: field("duration"),
            expected_size: totals.bytes_total,
            size: totals.bytes_done,
            segments_done: totals.items_done,
            segments_total: totals.items_total,
            progress: totals.percent(),
            expiration: entry.expiration,
            error: entry.error.clone(),
            mode: entry.mode,
            mode_reason: entry.mode_reason.clone(),
        }
    }

    /// The summary as a command's answer.
    pub(super) async fn summary_answer(&self, entry: &Entry) -> Res {
        Ok(Answer::Summary(Box::new(self.summary(entry).await?)))
    }

    /// Writes an entry changed outside a state change; once on disk it supersedes any state a
    /// full disk kept in memory.
    pub(super) async fn save_entry(&self, entry: &mut Entry) -> Result<(), KalturaError> {
        entry.updated_at = self.host.now_ms();
        self.store
            .put_entry(entry)
            .await
            .map_err(|e| e.to_kaltura(Some(&entry.id)))?;
        self.forget_unsaved(&entry.id);
        Ok(())
    }

    /// Saves a state change and tells every page.
    pub(super) async fn set_state(
        &self,
        entry: &mut Entry,
        state: State,
        reason: Option<StopReason>,
        error: Option<KalturaError>,
    ) -> Result<(), KalturaError> {
        let counted = match state {
            State::Completed => self.count_stored(entry).await,
            _ => None,
        };
        self.write_state(entry, (state, reason, error), counted)
            .await
    }

    /// `set_state` with what a completing entry's records hold counted already (`counted`;
    /// kept only for `State::Completed`): a job that stored them knows without reading them.
    pub(super) async fn write_state(
        &self,
        entry: &mut Entry,
        (state, reason, error): (State, Option<StopReason>, Option<KalturaError>),
        counted: Option<StoredTotals>,
    ) -> Result<(), KalturaError> {
        entry.stored = counted.filter(|_| state == State::Completed);
        entry.state = state;
        entry.stop_reason = reason;
        entry.error = error;
        entry.updated_at = self.host.now_ms();
        match self.store.put_entry(entry).await {
            Ok(()) => {
                self.forget_unsaved(&entry.id);
            }
            // The disk is full (the entry record itself is refused): the state holds in memory
            // until a later write succeeds, and pages are told as usual.
            Err(StoreError::Quota(_)) if state != State::Downloading => {
                self.unsaved
                    .borrow_mut()
                    .insert(entry.id.clone(), entry.clone());
                self.changed();
            }
            Err(e) => return Err(e.to_kaltura(Some(&entry.id))),
        }
        self.emit_state(entry);
        Ok(())
    }

    /// What a completing entry stored (one read of its records, once in its life), so that
    /// listings need not read them again.
    async fn count_stored(&self, entry: &Entry) -> Option<StoredTotals> {
        let plan = entry.plan.as_ref()?;
        // Without the count a listing reads the records instead: a failed read costs no state.
        let Ok(stored) = self.store.stored_segments(&entry.id).await else {
            return None;
        };
        let totals = Totals::of(plan, &stored);
        Some(StoredTotals {
            records: stored.len() as u64,
            items: totals.items_done,
            bytes: totals.bytes_done,
            poster: has_poster(&stored),
        })
    }

    /// Tells every page an entry's state and mode.
    pub(super) fn emit_state(&self, entry: &Entry) {
        self.host.emit(Event::Statechange(StateDetail {
            entry_id: entry.id.clone(),
            state: entry.state,
            stop_reason: entry.stop_reason,
            mode: entry.mode,
        }));
    }
}

/// Whether the stored records include the title's poster image.
fn has_poster(stored: &[StoredSegment]) -> bool {
    stored.iter().any(|s| s.track == POSTER_TRACK)
}

/// What a completed entry counted as it completed, if it did.
pub(super) fn counted(entry: &Entry) -> Option<StoredTotals> {
    match entry.state {
        State::Completed => entry.stored,
        _ => None,
    }
}
