//! Noticing what the browser took away: records it deleted (storage pressure, the site's data
//! cleared from devtools) and Blobs whose files it lost (`NotReadableError` on reading). A
//! completed entry missing anything becomes `failed` with stop reason `evicted` and an error
//! saying what to do; resuming it downloads what is missing. Listing checks counts only
//! (of records, against what each entry counted as it completed), a worker reads one byte of
//! each completed entry's first and last record `PROBE_DELAY_MS` after its first wake, and
//! `verify` reads every byte.

use super::{Manager, Res};
use crate::entry::{Entry, State, StopReason};
use crate::error::{Code, KalturaError, StoreError};
use crate::ports::{Fetcher, Host, ReadBack, RecordKey, Store};
use crate::progress::Totals;
use crate::protocol::{Answer, EntrySummary, Event, Verified};
use futures::FutureExt;
use mpd::plan::PlanItem;
use std::collections::HashSet;
use std::rc::Rc;

/// How long after a worker instance's first wake it probes the completed titles. The probe
/// reads two Blobs per title, about 1 ms each in Chromium's browser process, and messages from
/// the pages wait behind those reads: started at once it slowed every answer for the first
/// half second of a worker with 200 titles, when a page that just opened asks the most.
pub const PROBE_DELAY_MS: u32 = 2_000;

impl<F: Fetcher, S: Store<F::Body>, H: Host> Manager<F, S, H> {
    /// Probes the completed titles `PROBE_DELAY_MS` from now, in the background; a probe that
    /// fails (the database closed under it) is tried again at the next wake.
    pub(super) fn probe_later(self: &Rc<Self>) {
        let me = Rc::clone(self);
        let delay = self.host.sleep(PROBE_DELAY_MS);
        self.host.spawn(
            async move {
                delay.await;
                if me.probe_library().await.is_err() {
                    me.probed.set(false);
                }
            }
            .boxed_local(),
        );
    }

    /// `probe_completed` on the completed entries as they are now, with their plans.
    async fn probe_library(&self) -> Result<(), KalturaError> {
        let completed = self
            .entries_light()
            .await?
            .into_iter()
            .filter(|e| e.state == State::Completed)
            .collect();
        let mut completed = self.with_plans(completed, |_| true).await?;
        self.probe_completed(&mut completed).await
    }

    /// `verify`: reads every record of an entry back; deletes the unreadable ones, marks a
    /// completed entry that lost anything as evicted, and with `repair` downloads what is
    /// missing.
    pub(super) async fn verify(self: &Rc<Self>, id: &str, repair: bool) -> Res {
        let mut entry = self.entry(id).await?;
        let mut verified = self.inspect(&entry, Some(ReadBack::Full), None).await?;
        self.mark_if_evicted(&mut entry, &verified).await?;
        let idle = entry.state != State::Downloading || !self.running.borrow().contains_key(id);
        if repair && !verified.ok && entry.state != State::Completed && idle {
            self.resume(id).await?;
            entry = self.entry(id).await?;
        }
        verified.state = entry.state;
        verified.stop_reason = entry.stop_reason;
        Ok(Answer::Verified(verified))
    }

    /// Marks a completed entry evicted when its summary counts fewer stored items than planned,
    /// fewer records are stored than it counted as it completed (`short`), or its manifest is
    /// gone (`manifest`: whether it is stored); gives the summary to show.
    pub(super) async fn check_listed(
        &self,
        entry: &mut Entry,
        summary: EntrySummary,
        manifest: bool,
        short: bool,
    ) -> Result<EntrySummary, KalturaError> {
        if entry.state != State::Completed {
            return Ok(summary);
        }
        if manifest && !short && summary.segments_done >= summary.segments_total {
            return Ok(summary);
        }
        let verified = self.inspect(entry, None, Some(manifest)).await?;
        if self.mark_if_evicted(entry, &verified).await? {
            return self.summary(entry).await;
        }
        Ok(summary)
    }

    /// Once per worker instance: a byte of each completed entry's first and last planned
    /// record, so a browser that lost the entry's files is noticed before a player meets the
    /// error. Two reads per entry, whatever its length.
    pub(super) async fn probe_completed(&self, entries: &mut [Entry]) -> Result<(), KalturaError> {
        if !entries.iter().any(|e| e.state == State::Completed) {
            return Ok(());
        }
        let manifests: HashSet<String> = self
            .store
            .manifest_ids()
            .await
            .map_err(|e| e.to_kaltura(None))?
            .into_iter()
            .collect();
        for entry in entries.iter_mut().filter(|e| e.state == State::Completed) {
            let Some(plan) = &entry.plan else { continue };
            let key = |i: PlanItem<'_>| RecordKey {
                track: i.track.to_string(),
                index: i.index,
                chunk: 0,
            };
            let mut ends: Vec<RecordKey> = plan.items().next().map(key).into_iter().collect();
            ends.extend(
                plan.items()
                    .last()
                    .map(key)
                    .filter(|k| Some(k) != ends.first()),
            );
            let manifest = manifests.contains(&entry.id);
            let verified = self
                .inspect(entry, Some(ReadBack::Probe(&ends)), Some(manifest))
                .await?;
            self.mark_if_evicted(entry, &verified).await?;
        }
        Ok(())
    }

    /// What of an entry is there: records read back at `depth` (unreadable ones deleted),
    /// planned items without a complete record, its manifest and the licences the worker keeps.
    /// `manifest`: whether its manifest is stored, when the caller knows.
    async fn inspect(
        &self,
        entry: &Entry,
        depth: Option<ReadBack<'_>>,
        manifest: Option<bool>,
    ) -> Result<Verified, KalturaError> {
        let id = entry.id.as_str();
        let db = |e: StoreError| e.to_kaltura(Some(id));
        let report = match depth {
            Some(depth) => self.store.read_back(id, depth).await.map_err(db)?,
            None => Default::default(),
        };
        if !report.faults.is_empty() {
            self.store
                .delete_records(id, &report.faults)
                .await
                .map_err(db)?;
        }
        let missing = match &entry.plan {
            // The probe reads two records: what it found unreadable (and deleted) is missing.
            _ if matches!(depth, Some(ReadBack::Probe(_))) => report.faults.len() as u64,
            Some(plan) => {
                let stored = self.store.stored_segments(id).await.map_err(db)?;
                let totals = Totals::of(plan, &stored);
                totals.items_total.saturating_sub(totals.items_done)
            }
            None => 0,
        };
        let manifest = match manifest {
            _ if entry.plan.is_none() => true,
            Some(known) => known,
            None => self.store.has_manifest(id).await.map_err(db)?,
        };
        let keeps_keys = entry.protected && entry.sessions.is_empty() && entry.plan.is_some();
        let licenses = !keeps_keys || !self.store.licenses(id).await.map_err(db)?.is_empty();
        let unreadable = report.faults.len() as u64;
        Ok(Verified {
            entry_id: id.to_string(),
            records: report.records.saturating_sub(unreadable),
            bytes: report.bytes,
            missing,
            unreadable,
            manifest,
            licenses,
            ok: missing == 0 && unreadable == 0 && manifest && licenses,
            state: entry.state,
            stop_reason: entry.stop_reason,
        })
    }

    /// A completed entry that lost anything becomes `failed`, stop reason `evicted`, and every
    /// page hears why; true when it did.
    async fn mark_if_evicted(
        &self,
        entry: &mut Entry,
        found: &Verified,
    ) -> Result<bool, KalturaError> {
        let complete = found.missing == 0 && found.manifest && found.licenses;
        if entry.state != State::Completed || complete {
            return Ok(false);
        }
        // What was read may be older than a removal (or any change) since: only an entry still
        // stored and still completed is marked, and nothing is written back for a removed one.
        let gone = |me: &Self| me.removed.borrow().contains(&entry.id);
        if gone(self) {
            return Ok(false);
        }
        match self.store.get_entry(&entry.id).await {
            Ok(Some(now)) if now.state == State::Completed && !gone(self) => *entry = now,
            Ok(_) => return Ok(false),
            Err(e) => return Err(e.to_kaltura(Some(&entry.id))),
        }
        let mut lost = Vec::new();
        if found.missing > 0 {
            lost.push(format!("{} stored segments", found.missing));
        }
        if !found.manifest {
            lost.push("its manifest".to_string());
        }
        if !found.licenses {
            lost.push("its licences".to_string());
        }
        let error = KalturaError::new(
            Code::IndexedDbError,
            format!(
                "the browser deleted {} of entry {} (storage pressure, or the site's data was \
                 cleared); resume it to download what is missing, and ask for persistent \
                 storage (navigator.storage.persist()) so the browser keeps downloads",
                lost.join(" and "),
                entry.id
            ),
            Some(&entry.id),
        );
        self.set_state(
            entry,
            State::Failed,
            Some(StopReason::Evicted),
            Some(error.clone()),
        )
        .await?;
        self.host.emit(Event::Error(error));
        Ok(true)
    }
}
