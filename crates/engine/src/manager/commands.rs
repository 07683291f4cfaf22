//! What each entry command does: prepare, download, pause, resume, remove (one or all), get
//! and list (whole, or unless unchanged since the page's listing).

use super::entries::counted;
use super::{Manager, Res};
use crate::entry::{Entry, State, StopReason};
use crate::error::{Code, KalturaError};
use crate::layout::POSTER_TRACK;
use crate::ports::{Fetcher, Host, NewSegment, Store};
use crate::protocol::{
    Answer, EntriesActedOn, EntryDetail, EntrySummary, Listing, Removed, Sessions,
};
use mpd::SelectOptions;
use serde_json::Value;
use std::collections::HashSet;
use std::rc::Rc;

/// How long a listing's count of segment records stands for the next listing's tag: the most
/// a page waits to see records another context deleted. A page polling `getAllDownloads`
/// (every progress event, say) then costs one count a second, not one per call.
pub const RECOUNT_MS: f64 = 1_000.0;

impl<F: Fetcher, S: Store<F::Body>, H: Host> Manager<F, S, H> {
    pub(super) async fn prepare(self: &Rc<Self>, id: &str, config: Value) -> Res {
        if !config.is_object()
            || config
                .pointer("/sources/dash/0/url")
                .and_then(Value::as_str)
                .is_none()
        {
            return Err(KalturaError::new(
                Code::ContentUnsupportedByBrowser,
                "the media config has no DASH source (sources.dash[0].url); only DASH can be stored offline",
                Some(id),
            ));
        }
        self.forget_described(id);
        let stored = self
            .store
            .get_entry(id)
            .await
            .map_err(|e| e.to_kaltura(Some(id)))?;
        let entry = match stored {
            Some(mut e) if e.state == State::Prepared => {
                e.config = config;
                e.updated_at = self.host.now_ms();
                e
            }
            Some(e) => return self.summary_answer(&e).await,
            None => {
                self.removed.borrow_mut().remove(id);
                Entry::prepared(id, config, self.host.now_ms())
            }
        };
        self.store
            .put_entry(&entry)
            .await
            .map_err(|e| e.to_kaltura(Some(id)))?;
        self.summary_answer(&entry).await
    }

    pub(super) async fn download(self: &Rc<Self>, id: &str, options: SelectOptions) -> Res {
        let mut entry = self.entry(id).await?;
        if self.running.borrow().contains_key(id) {
            return Err(KalturaError::new(
                Code::StoreAlreadyInProgress,
                format!("entry {id} is already downloading; pause or remove it first"),
                Some(id),
            ));
        }
        Self::refuse_if_background(&entry)?;
        if entry.state == State::Completed {
            return Err(KalturaError::new(
                Code::EntryAlreadyExists,
                format!("entry {id} is already downloaded; remove it to download again"),
                Some(id),
            ));
        }
        let (plan, local) = self.fetch_plan(&entry, &options).await?;
        // Before any segment: encrypted content is stored only with its licences.
        self.acquire_licenses(&mut entry, &plan).await?;
        // A licence the worker keeps (ClearKey) is answered at the local endpoint: the manifest
        // names it, so players start the entry with no DRM configuration of their own.
        let local = if entry.protected && entry.sessions.is_empty() {
            mpd::local::with_local_clearkey(&local, &self.local_license_url(id))
                .map_err(|e| super::planning::plan_error(id, e))?
        } else {
            local
        };
        let db = |e: crate::StoreError| e.to_kaltura(Some(id));
        let cleared = entry.plan.as_ref() != Some(&plan);
        if cleared {
            self.store.clear_segments(id).await.map_err(db)?;
            self.forget_claims(id);
        }
        self.store.put_manifest(id, &local).await.map_err(db)?;
        let poster = self.store_poster(id, &entry.config).await;
        entry.plan = Some(plan);
        (entry.mode, entry.mode_reason) = self.choose_mode(&options);
        entry.background_handover = self.handover_if_background(&entry);
        entry.options = options;
        self.set_state(&mut entry, State::Downloading, None, None)
            .await?;
        self.start_job(entry.clone());
        if cleared {
            // Of a new plan nothing but the poster is stored yet: the answer needs no read.
            return Ok(Answer::Summary(Box::new(self.summary_new(&entry, poster))));
        }
        self.summary_answer(&entry).await
    }

    /// Stores the config's poster image so it shows offline (true when it did). A poster that
    /// cannot be fetched is not a reason to refuse the download: the remote URL is kept.
    async fn store_poster(&self, id: &str, config: &Value) -> bool {
        let url = config
            .pointer("/sources/poster")
            .or_else(|| config.get("poster"))
            .and_then(Value::as_str)
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
        let Some(url) = url else { return false };
        let Ok(fetched) = self.fetcher.fetch(url, None).await else {
            return false;
        };
        let item = NewSegment {
            track: POSTER_TRACK.to_string(),
            index: 0,
            chunk: 0,
            chunks: 1,
            body: fetched.body,
            url: url.to_string(),
            range: None,
        };
        // Best effort, as above: playback does not depend on the poster.
        self.store.put_segments(id, vec![item]).await.is_ok()
    }

    pub(super) async fn pause(self: &Rc<Self>, id: &str) -> Res {
        let mut entry = self.entry(id).await?;
        match entry.state {
            State::Completed => Err(KalturaError::new(
                Code::PauseFailed,
                format!("entry {id} is already downloaded; there is nothing to pause"),
                Some(id),
            )),
            State::Prepared => Err(KalturaError::new(
                Code::PauseFailed,
                format!("entry {id} has not started downloading; call download first"),
                Some(id),
            )),
            _ => {
                self.stop_job(id);
                self.abort_background(&mut entry).await;
                if entry.state != State::Paused || entry.stop_reason != Some(StopReason::User) {
                    let error = entry.error.clone();
                    self.set_state(&mut entry, State::Paused, Some(StopReason::User), error)
                        .await?;
                }
                self.summary_answer(&entry).await
            }
        }
    }

    pub(super) async fn resume(self: &Rc<Self>, id: &str) -> Res {
        let mut entry = self.entry(id).await?;
        match entry.state {
            State::Completed => self.summary_answer(&entry).await,
            State::Prepared => Err(KalturaError::new(
                Code::ResumeFailed,
                format!("entry {id} has not been downloaded before; call download first"),
                Some(id),
            )),
            _ if entry.state == State::Downloading && !entry.background_fetches.is_empty() => {
                self.summary_answer(&entry).await // the browser is downloading it
            }
            // What the browser deleted may include the manifest and licences: planned again,
            // with what is still stored kept.
            State::Failed if entry.stop_reason == Some(StopReason::Evicted) => {
                let options = entry.options.clone();
                self.download(id, options).await
            }
            _ => {
                if !self.running.borrow().contains_key(id) {
                    (entry.mode, entry.mode_reason) = self.choose_mode(&entry.options);
                    entry.background_handover = self.handover_if_background(&entry);
                    self.set_state(&mut entry, State::Downloading, None, None)
                        .await?;
                    self.start_job(entry.clone());
                }
                self.summary_answer(&entry).await
            }
        }
    }

    /// The answer names the entry's persistent-license sessions: the page releases them from
    /// the CDM (workers have no EME).
    pub(super) async fn remove(self: &Rc<Self>, id: &str) -> Result<Removed, KalturaError> {
        let mut entry = self.entry(id).await?;
        self.stop_job(id);
        self.abort_background(&mut entry).await;
        let sessions = entry.sessions;
        self.removed.borrow_mut().insert(id.to_string());
        self.forget_unsaved(id);
        self.forget_claims(id);
        self.forget_described(id);
        self.store.delete_entry(id).await.map_err(|e| {
            KalturaError::new(
                Code::RemoveFailed,
                format!("could not delete entry {id} ({}); try again", e.message()),
                Some(id),
            )
        })?;
        Ok(Removed {
            entry_id: id.to_string(),
            sessions: Sessions { sessions },
        })
    }

    pub(super) async fn pause_all(self: &Rc<Self>) -> Res {
        let mut entry_ids = Vec::new();
        for e in self.entries().await? {
            if e.state == State::Downloading {
                self.pause(&e.id).await?;
                entry_ids.push(e.id);
            }
        }
        Ok(Answer::EntriesActedOn(EntriesActedOn {
            entry_ids,
            sessions: Sessions::default(),
        }))
    }

    pub(super) async fn remove_all(self: &Rc<Self>) -> Res {
        let mut entry_ids = Vec::new();
        let mut sessions = Vec::new();
        for e in self.entries().await? {
            let removed = self.remove(&e.id).await?;
            entry_ids.push(removed.entry_id);
            sessions.extend(removed.sessions.sessions);
        }
        Ok(Answer::EntriesActedOn(EntriesActedOn {
            entry_ids,
            sessions: Sessions { sessions },
        }))
    }

    pub(super) async fn get(self: &Rc<Self>, id: &str) -> Res {
        let mut entry = self.entry(id).await?;
        let summary = self.summary(&entry).await?;
        let manifest = entry.state != State::Completed
            || self
                .store
                .has_manifest(id)
                .await
                .map_err(|e| e.to_kaltura(Some(id)))?;
        let summary = self
            .check_listed(&mut entry, summary, manifest, false)
            .await?;
        let keeps_keys = entry.protected && entry.sessions.is_empty();
        Ok(Answer::Detail(Box::new(EntryDetail {
            summary,
            local_manifest_url: self.local_manifest_url(id),
            stored_only_manifest_url: crate::layout::stored_only_manifest_url(self.scope(), id),
            local_license_url: keeps_keys.then(|| self.local_license_url(id)),
            config: entry.config,
            sessions: Sessions {
                sessions: entry.sessions,
            },
        })))
    }

    /// Every entry's summary, from a few reads whatever the number of titles: the entries, the
    /// stored segments of those not completed (at once), the ids of the stored manifests and
    /// the number of stored records. A completed entry counted its records as it completed, so
    /// its own (each with a Blob) are not read: they are counted, one count for every title
    /// unless that count differs from what the entries say, then one per completed title.
    pub(super) async fn list(self: &Rc<Self>) -> Result<Vec<EntrySummary>, KalturaError> {
        let db = |e: crate::StoreError| e.to_kaltura(None);
        let entries = self.entries_to_list().await?;
        let read: Vec<&str> = entries
            .iter()
            .filter(|e| e.plan.is_some() && counted(e).is_none())
            .map(|e| e.id.as_str())
            .collect();
        let mut stored = self.store.stored_segments_of(&read).await.map_err(db)?;
        let manifests: HashSet<String> = if entries.iter().any(|e| e.state == State::Completed) {
            self.store
                .manifest_ids()
                .await
                .map_err(db)?
                .into_iter()
                .collect()
        } else {
            HashSet::new()
        };
        let read_records: u64 = stored.iter().map(|s| s.len() as u64).sum();
        let short = self.short_of_records(&entries, read_records).await?;
        let mut out = Vec::with_capacity(entries.len());
        let mut next = stored.drain(..);
        for mut e in entries {
            let summary = match (counted(&e), &e.plan) {
                (Some(c), _) => self.summary_counted(&e, &c),
                (None, Some(_)) => self.summary_of(&e, &next.next().unwrap_or_default()),
                (None, None) => self.summary_of(&e, &[]),
            };
            let manifest = manifests.contains(&e.id);
            let lost = short.contains(&e.id);
            if (lost || !manifest) && e.state == State::Completed && e.plan.is_none() {
                // Checking what it lost needs the plan the listing did not read.
                e = self.entry(&e.id).await?;
            }
            out.push(self.check_listed(&mut e, summary, manifest, lost).await?);
        }
        Ok(out)
    }

    /// Every entry, unless nothing changed since the listing tagged `since` was read. The tag
    /// names this worker instance, its count of changes (every write of its own), and the
    /// number of segment records: records another context deleted (devtools, the app's own
    /// code) make the count differ, and the listing then finds what they took. Counting reads
    /// every record's key (O(records) in Chromium, ~5 ms for 200 titles), so a page that asks
    /// again within `RECOUNT_MS` is answered from the last count: another context's deletions
    /// show within that time, this worker's own changes at once.
    pub(super) async fn listing(self: &Rc<Self>, since: Option<String>) -> Res {
        let changes = self.changes.get();
        let kept = self.recent_record_count().is_some();
        let tag = self.listing_tag(changes, self.kept_or_counted().await?);
        if since.as_deref() == Some(tag.as_str()) && self.changes.get() == changes {
            return Ok(Answer::Listing(Listing {
                tag: Some(tag),
                entries: None,
            }));
        }
        // A new tag carries a count read with this listing, not one kept from before it, so it
        // does not go stale when that one expires: the count the listing reads to find what was
        // lost (`short_of_records`), or one read after it.
        if kept {
            self.record_count.set(None);
        }
        let entries = self.list().await?;
        let tag = self.listing_tag(changes, self.kept_or_counted().await?);
        let unchanged = self.changes.get() == changes;
        Ok(Answer::Listing(Listing {
            tag: unchanged.then_some(tag),
            entries: Some(entries),
        }))
    }

    fn listing_tag(&self, changes: u64, records: u64) -> String {
        format!("{}.{changes}.{records}", self.instance)
    }

    /// The segment record count read less than `RECOUNT_MS` ago.
    fn recent_record_count(&self) -> Option<u64> {
        let (at, n) = self.record_count.get()?;
        (self.host.now_ms() - at < RECOUNT_MS).then_some(n)
    }

    /// The count read less than `RECOUNT_MS` ago, else a fresh one.
    async fn kept_or_counted(&self) -> Result<u64, KalturaError> {
        match self.recent_record_count() {
            Some(n) => Ok(n),
            None => self.count_records().await,
        }
    }

    /// Counts the segment records and keeps the count for `recent_record_count`.
    async fn count_records(&self) -> Result<u64, KalturaError> {
        let n = self
            .store
            .record_count()
            .await
            .map_err(|e| e.to_kaltura(None))?;
        self.record_count.set(Some((self.host.now_ms(), n)));
        Ok(n)
    }

    /// The completed entries with fewer records stored than they counted as they completed.
    /// `read_records`: the records of the other entries, read by the caller.
    async fn short_of_records(
        &self,
        entries: &[Entry],
        read_records: u64,
    ) -> Result<HashSet<String>, KalturaError> {
        let db = |e: crate::StoreError| e.to_kaltura(None);
        let counted: Vec<(&str, u64)> = entries
            .iter()
            .filter_map(|e| counted(e).map(|c| (e.id.as_str(), c.records)))
            .collect();
        if counted.is_empty() {
            return Ok(HashSet::new());
        }
        let expected = counted
            .iter()
            .fold(read_records, |n, (_, r)| n.saturating_add(*r));
        if self.count_records().await? == expected {
            return Ok(HashSet::new());
        }
        // A running job's writes since the reads above also make the counts differ: each
        // completed entry is counted on its own before any is taken for short.
        let ids: Vec<&str> = counted.iter().map(|(id, _)| *id).collect();
        let have = self.store.record_counts_of(&ids).await.map_err(db)?;
        Ok(counted
            .iter()
            .zip(have)
            .filter(|((_, want), have)| have < want)
            .map(|((id, _), _)| (*id).to_string())
            .collect())
    }
}
