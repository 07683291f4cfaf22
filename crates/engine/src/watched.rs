//! A store that counts its writes. A listing notes the count it was built at; while the count
//! stays the same nothing a listing reads can have changed, so the worker can answer a page
//! that holds that listing "unchanged" instead of reading and sending every entry again.
//!
//! Each write counts once as it starts and once as it ends: a listing built while a write was
//! under way sees the count move before or after its reads, never a count that hides the write.

use crate::entry::Entry;
use crate::error::StoreError;
use crate::license::StoredLicense;
use crate::ports::{Body, NewSegment, ReadBack, ReadBackReport, RecordKey, Store, StoredSegment};
use futures::future::{FutureExt, LocalBoxFuture};
use mpd::Plan;
use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

/// A store whose writes move a shared counter.
pub(crate) struct Watched<S> {
    inner: Rc<S>,
    changes: Rc<Cell<u64>>,
}

impl<S> Watched<S> {
    /// `inner`, its writes counted in `changes`.
    pub(crate) fn new(inner: Rc<S>, changes: Rc<Cell<u64>>) -> Self {
        Watched { inner, changes }
    }

    fn bump(&self) {
        self.changes.set(self.changes.get().wrapping_add(1));
    }

    /// `write`, counted as it starts and as it ends (whatever it gives).
    fn counted<'a, T: 'a>(
        &'a self,
        write: impl Future<Output = Result<T, StoreError>> + 'a,
    ) -> LocalBoxFuture<'a, Result<T, StoreError>> {
        self.bump();
        async move {
            let out = write.await;
            self.bump();
            out
        }
        .boxed_local()
    }
}

impl<B: Body, S: Store<B>> Store<B> for Watched<S> {
    fn get_entry<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<Entry>, StoreError>> {
        self.inner.get_entry(id)
    }
    fn put_entry<'a>(&'a self, entry: &'a Entry) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        self.counted(self.inner.put_entry(entry))
    }
    fn list_entries(&self) -> LocalBoxFuture<'_, Result<Vec<Entry>, StoreError>> {
        self.inner.list_entries()
    }
    fn list_entries_light(&self) -> LocalBoxFuture<'_, Result<Vec<Entry>, StoreError>> {
        self.inner.list_entries_light()
    }
    fn plans_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<Option<Plan>>, StoreError>> {
        self.inner.plans_of(ids)
    }
    fn delete_entry<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        self.counted(self.inner.delete_entry(id))
    }
    fn put_manifest<'a>(
        &'a self,
        id: &'a str,
        text: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        self.counted(self.inner.put_manifest(id, text))
    }
    fn clear_segments<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        self.counted(self.inner.clear_segments(id))
    }
    fn stored_segments<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<StoredSegment>, StoreError>> {
        self.inner.stored_segments(id)
    }
    fn stored_keys<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<RecordKey>, StoreError>> {
        self.inner.stored_keys(id)
    }
    fn stored_segments_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<Vec<StoredSegment>>, StoreError>> {
        self.inner.stored_segments_of(ids)
    }
    fn record_count(&self) -> LocalBoxFuture<'_, Result<u64, StoreError>> {
        self.inner.record_count()
    }
    fn record_counts_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<u64>, StoreError>> {
        self.inner.record_counts_of(ids)
    }
    fn manifest_ids(&self) -> LocalBoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.inner.manifest_ids()
    }
    fn put_segments<'a>(
        &'a self,
        id: &'a str,
        items: Vec<NewSegment<B>>,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        self.counted(self.inner.put_segments(id, items))
    }
    fn put_licenses<'a>(
        &'a self,
        id: &'a str,
        licenses: Vec<StoredLicense>,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        self.counted(self.inner.put_licenses(id, licenses))
    }
    fn licenses<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<StoredLicense>, StoreError>> {
        self.inner.licenses(id)
    }
    fn has_manifest<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<bool, StoreError>> {
        self.inner.has_manifest(id)
    }
    fn read_back<'a>(
        &'a self,
        id: &'a str,
        depth: ReadBack<'a>,
    ) -> LocalBoxFuture<'a, Result<ReadBackReport, StoreError>> {
        self.inner.read_back(id, depth)
    }
    fn delete_records<'a>(
        &'a self,
        id: &'a str,
        keys: &'a [RecordKey],
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        self.counted(self.inner.delete_records(id, keys))
    }
}
