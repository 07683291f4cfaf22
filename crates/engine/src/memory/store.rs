//! The store's in-memory twin: IndexedDB's keys and its quota check at commit, and records a
//! test can make unreadable the way the browser loses a Blob's file.

use super::{Bytes, YieldOnce};
use crate::entry::Entry;
use crate::error::StoreError;
use crate::license::StoredLicense;
use crate::ports::{Body, NewSegment, ReadBack, ReadBackReport, RecordKey, Store, StoredSegment};
use futures::future::{FutureExt, LocalBoxFuture};
use mpd::Plan;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};

/// One stored chunk: its bytes and the number of chunks of its segment.
#[derive(Debug, Clone, PartialEq)]
pub struct MemChunk {
    /// The bytes.
    pub body: Bytes,
    /// Chunks of the whole segment.
    pub chunks: u32,
}

/// A store in memory, with an optional byte quota checked at commit like IndexedDB's.
#[derive(Default)]
pub struct MemStore {
    /// Entries by id.
    pub entries: RefCell<BTreeMap<String, Entry>>,
    /// Segment chunks by (entry, track, index, chunk), as IndexedDB keys them.
    pub segments: RefCell<BTreeMap<(String, String, u32, u32), MemChunk>>,
    /// Local manifests by entry.
    pub manifests: RefCell<BTreeMap<String, String>>,
    /// Quota in bytes of segment data, if any.
    pub quota: Cell<Option<u64>>,
    /// Number of `put_segments` commits.
    pub commits: Cell<u32>,
    /// Licences by entry.
    pub licenses: RefCell<BTreeMap<String, Vec<StoredLicense>>>,
    /// Whether entry records count against `quota` too: once a batch was refused, so are they.
    pub entries_count_against_quota: Cell<bool>,
    refused: Cell<bool>,
    /// Records whose bytes can no longer be read, as a Blob whose file the browser lost.
    pub unreadable: RefCell<BTreeSet<(String, String, u32, u32)>>,
    /// Segment records read (each of which IndexedDB hands over with its Blob).
    pub records_read: Cell<u64>,
    /// Plans read by `plans_of`, which listings use.
    pub plans_read: Cell<u64>,
    /// Counts of every segment record (`record_count`), each a read of every key in IndexedDB.
    pub record_counts: Cell<u64>,
}

impl MemStore {
    fn used(&self) -> u64 {
        self.segments.borrow().values().map(|c| c.body.size()).sum()
    }

    /// Bytes held in every segment record.
    pub fn stored_bytes(&self) -> u64 {
        self.segments
            .borrow()
            .values()
            .map(|c| c.body.0.len() as u64)
            .sum()
    }

    /// The bytes of a stored segment (its chunks joined), if every chunk is there.
    pub fn segment_bytes(&self, id: &str, track: &str, index: u32) -> Option<Vec<u8>> {
        let segs = self.segments.borrow();
        let chunks: Vec<&MemChunk> = segs
            .iter()
            .filter(|(k, _)| k.0 == id && k.1 == track && k.2 == index)
            .map(|(_, v)| v)
            .collect();
        let whole = chunks.first().map(|c| c.chunks as usize)? == chunks.len();
        whole.then(|| {
            chunks
                .iter()
                .flat_map(|c| c.body.0.iter().copied())
                .collect()
        })
    }
}

impl Store<Bytes> for MemStore {
    fn get_entry<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<Entry>, StoreError>> {
        async move { Ok(self.entries.borrow().get(id).cloned()) }.boxed_local()
    }
    fn put_entry<'a>(&'a self, entry: &'a Entry) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            // As in IndexedDB, the quota counts every record: a disk that refused a batch may
            // refuse the entry record too.
            let full = self.quota.get().is_some() && self.refused.get();
            if self.entries_count_against_quota.get() && full {
                return Err(StoreError::Quota("QuotaExceededError: entry record".into()));
            }
            self.entries
                .borrow_mut()
                .insert(entry.id.clone(), entry.clone());
            Ok(())
        }
        .boxed_local()
    }
    fn list_entries(&self) -> LocalBoxFuture<'_, Result<Vec<Entry>, StoreError>> {
        async move {
            let all: Vec<Entry> = self.entries.borrow().values().cloned().collect();
            let plans = all.iter().filter(|e| e.plan.is_some()).count() as u64;
            self.plans_read
                .set(self.plans_read.get().saturating_add(plans));
            Ok(all)
        }
        .boxed_local()
    }
    fn list_entries_light(&self) -> LocalBoxFuture<'_, Result<Vec<Entry>, StoreError>> {
        // As IndexedDB keeps them: every plan apart.
        let light = |e: &Entry| Entry {
            plan: None,
            ..e.clone()
        };
        async move { Ok(self.entries.borrow().values().map(light).collect()) }.boxed_local()
    }
    fn plans_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<Option<Plan>>, StoreError>> {
        async move {
            let entries = self.entries.borrow();
            let reads = self.plans_read.get();
            self.plans_read.set(reads.saturating_add(ids.len() as u64));
            Ok(ids
                .iter()
                .map(|id| entries.get(*id).and_then(|e| e.plan.clone()))
                .collect())
        }
        .boxed_local()
    }
    fn delete_entry<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            self.entries.borrow_mut().remove(id);
            self.manifests.borrow_mut().remove(id);
            self.licenses.borrow_mut().remove(id);
            self.segments.borrow_mut().retain(|k, _| k.0 != id);
            Ok(())
        }
        .boxed_local()
    }
    fn put_manifest<'a>(
        &'a self,
        id: &'a str,
        text: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            self.manifests
                .borrow_mut()
                .insert(id.to_string(), text.to_string());
            Ok(())
        }
        .boxed_local()
    }
    fn clear_segments<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            self.segments.borrow_mut().retain(|k, _| k.0 != id);
            Ok(())
        }
        .boxed_local()
    }
    fn stored_segments<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<StoredSegment>, StoreError>> {
        async move {
            let stored: Vec<StoredSegment> = self
                .segments
                .borrow()
                .iter()
                .filter(|(k, _)| k.0 == id)
                .map(|(k, v)| StoredSegment {
                    track: k.1.clone(),
                    index: k.2,
                    chunk: k.3,
                    chunks: v.chunks,
                    size: v.body.size(),
                })
                .collect();
            let read = self.records_read.get();
            self.records_read
                .set(read.saturating_add(stored.len() as u64));
            Ok(stored)
        }
        .boxed_local()
    }
    fn put_segments<'a>(
        &'a self,
        id: &'a str,
        items: Vec<NewSegment<Bytes>>,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            // A transaction takes a turn of the executor, as IndexedDB's do.
            YieldOnce(false).await;
            let adding: u64 = items.iter().map(|s| s.body.size()).sum();
            if let Some(q) = self.quota.get() {
                if self.used() + adding > q {
                    self.refused.set(true);
                    return Err(StoreError::Quota(
                        "QuotaExceededError: quota exceeded at commit".into(),
                    ));
                }
            }
            let mut segs = self.segments.borrow_mut();
            for s in items {
                let chunk = MemChunk {
                    body: s.body,
                    chunks: s.chunks,
                };
                segs.insert((id.to_string(), s.track, s.index, s.chunk), chunk);
            }
            self.commits.set(self.commits.get() + 1);
            Ok(())
        }
        .boxed_local()
    }
    fn put_licenses<'a>(
        &'a self,
        id: &'a str,
        licenses: Vec<StoredLicense>,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            self.licenses.borrow_mut().insert(id.to_string(), licenses);
            Ok(())
        }
        .boxed_local()
    }
    fn licenses<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<StoredLicense>, StoreError>> {
        async move { Ok(self.licenses.borrow().get(id).cloned().unwrap_or_default()) }.boxed_local()
    }
    fn manifest_ids(&self) -> LocalBoxFuture<'_, Result<Vec<String>, StoreError>> {
        async move { Ok(self.manifests.borrow().keys().cloned().collect()) }.boxed_local()
    }
    fn stored_keys<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<RecordKey>, StoreError>> {
        async move {
            Ok(self
                .segments
                .borrow()
                .keys()
                .filter(|k| k.0 == id)
                .map(|k| RecordKey {
                    track: k.1.clone(),
                    index: k.2,
                    chunk: k.3,
                })
                .collect())
        }
        .boxed_local()
    }
    fn record_count(&self) -> LocalBoxFuture<'_, Result<u64, StoreError>> {
        self.record_counts.set(self.record_counts.get() + 1);
        async move { Ok(self.segments.borrow().len() as u64) }.boxed_local()
    }
    fn record_counts_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<u64>, StoreError>> {
        async move {
            let segs = self.segments.borrow();
            Ok(ids
                .iter()
                .map(|id| segs.keys().filter(|k| k.0 == *id).count() as u64)
                .collect())
        }
        .boxed_local()
    }
    fn has_manifest<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<bool, StoreError>> {
        async move { Ok(self.manifests.borrow().contains_key(id)) }.boxed_local()
    }
    fn read_back<'a>(
        &'a self,
        id: &'a str,
        depth: ReadBack<'a>,
    ) -> LocalBoxFuture<'a, Result<ReadBackReport, StoreError>> {
        async move {
            let segs = self.segments.borrow();
            let read: Vec<_> = match depth {
                ReadBack::Full => segs.iter().filter(|(k, _)| k.0 == id).collect(),
                ReadBack::Probe(keys) => keys
                    .iter()
                    .filter_map(|k| {
                        segs.get_key_value(&(id.to_string(), k.track.clone(), k.index, k.chunk))
                    })
                    .collect(),
            };
            let unreadable = self.unreadable.borrow();
            let mut report = ReadBackReport::default();
            for (k, chunk) in read {
                report.records += 1;
                if unreadable.contains(k) {
                    report.faults.push(RecordKey {
                        track: k.1.clone(),
                        index: k.2,
                        chunk: k.3,
                    });
                } else if depth == ReadBack::Full {
                    report.bytes += chunk.body.size();
                } else {
                    report.bytes += chunk.body.size().min(1);
                }
            }
            Ok(report)
        }
        .boxed_local()
    }
    fn delete_records<'a>(
        &'a self,
        id: &'a str,
        keys: &'a [RecordKey],
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            let mut segs = self.segments.borrow_mut();
            for k in keys {
                let key = (id.to_string(), k.track.clone(), k.index, k.chunk);
                segs.remove(&key);
                self.unreadable.borrow_mut().remove(&key);
            }
            Ok(())
        }
        .boxed_local()
    }
}
