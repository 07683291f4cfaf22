//! In-memory twins of the ports, for native tests of the hard cases (a worker killed at segment
//! k, quota hit at commit, a server that lies).

use crate::entry::Entry;
use crate::error::{FetchError, StoreError};
use crate::ports::{Body, Fetched, Fetcher, Host, NewSegment, Store, StoredSegment};
use crate::protocol::Event;
use futures::future::{FutureExt, LocalBoxFuture};
use futures::task::LocalSpawnExt;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::rc::Rc;

/// Bytes standing in for a Blob.
#[derive(Debug, Clone, PartialEq)]
pub struct Bytes(pub Rc<Vec<u8>>);

impl Body for Bytes {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
}

/// A store in memory, with an optional byte quota checked at commit like IndexedDB's.
#[derive(Default)]
pub struct MemStore {
    /// Entries by id.
    pub entries: RefCell<BTreeMap<String, Entry>>,
    /// Segments by (entry, track, index).
    pub segments: RefCell<BTreeMap<(String, String, u32), Bytes>>,
    /// Local manifests by entry.
    pub manifests: RefCell<BTreeMap<String, String>>,
    /// Quota in bytes of segment data, if any.
    pub quota: Cell<Option<u64>>,
    /// Number of `put_segments` commits.
    pub commits: Cell<u32>,
}

impl MemStore {
    fn used(&self) -> u64 {
        self.segments.borrow().values().map(Body::size).sum()
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
            self.entries
                .borrow_mut()
                .insert(entry.id.clone(), entry.clone());
            Ok(())
        }
        .boxed_local()
    }
    fn list_entries(&self) -> LocalBoxFuture<'_, Result<Vec<Entry>, StoreError>> {
        async move { Ok(self.entries.borrow().values().cloned().collect()) }.boxed_local()
    }
    fn delete_entry<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            self.entries.borrow_mut().remove(id);
            self.manifests.borrow_mut().remove(id);
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
            Ok(self
                .segments
                .borrow()
                .iter()
                .filter(|(k, _)| k.0 == id)
                .map(|(k, v)| StoredSegment {
                    track: k.1.clone(),
                    index: k.2,
                    size: v.size(),
                })
                .collect())
        }
        .boxed_local()
    }
    fn put_segments<'a>(
        &'a self,
        id: &'a str,
        items: Vec<NewSegment<Bytes>>,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>> {
        async move {
            let adding: u64 = items.iter().map(|s| s.body.size()).sum();
            if let Some(q) = self.quota.get() {
                if self.used() + adding > q {
                    return Err(StoreError::Quota(
                        "QuotaExceededError: quota exceeded at commit".into(),
                    ));
                }
            }
            let mut segs = self.segments.borrow_mut();
            for s in items {
                segs.insert((id.to_string(), s.track, s.index), s.body);
            }
            self.commits.set(self.commits.get() + 1);
            Ok(())
        }
        .boxed_local()
    }
}

/// A scripted answer for one URL.
#[derive(Debug, Clone)]
pub enum Script {
    /// Fail this way once, then go on with the next script or the content.
    Fail(FetchError),
}

/// A server in memory: content by URL, faults scripted per URL, and a log of requests.
#[derive(Default)]
pub struct MemFetcher {
    /// Bodies by URL.
    pub content: RefCell<HashMap<String, Vec<u8>>>,
    /// Faults to serve, in order, per URL.
    pub faults: RefCell<HashMap<String, VecDeque<Script>>>,
    /// Redirects: URL → final URL.
    pub redirects: RefCell<HashMap<String, String>>,
    /// Every URL requested, in order.
    pub log: RefCell<Vec<String>>,
    /// When set, every request hangs forever (a stalled network).
    pub stall: Cell<bool>,
    /// When set, requests after this many hang forever: the moment a worker is killed.
    pub hang_after: Cell<Option<usize>>,
}

impl MemFetcher {
    /// Adds a body.
    pub fn put(&self, url: &str, body: impl Into<Vec<u8>>) {
        self.content
            .borrow_mut()
            .insert(url.to_string(), body.into());
    }

    /// Scripts a fault for the next request of `url`.
    pub fn fail_once(&self, url: &str, e: FetchError) {
        self.faults
            .borrow_mut()
            .entry(url.to_string())
            .or_default()
            .push_back(Script::Fail(e));
    }

    fn answer(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.log.borrow_mut().push(url.to_string());
        if let Some(Script::Fail(e)) = self
            .faults
            .borrow_mut()
            .get_mut(url)
            .and_then(VecDeque::pop_front)
        {
            return Err(e);
        }
        self.content
            .borrow()
            .get(url)
            .cloned()
            .ok_or(FetchError::Status { status: 404 })
    }
}

impl Fetcher for MemFetcher {
    type Body = Bytes;
    fn fetch<'a>(
        &'a self,
        url: &'a str,
        range: Option<[u64; 2]>,
    ) -> LocalBoxFuture<'a, Result<Fetched<Bytes>, FetchError>> {
        async move {
            let dead = self
                .hang_after
                .get()
                .is_some_and(|n| self.log.borrow().len() >= n);
            if self.stall.get() || dead {
                futures::future::pending::<()>().await;
            }
            YieldOnce(false).await;
            let body = self.answer(url)?;
            let body = match range {
                Some([a, b]) => body
                    .get(a as usize..=b as usize)
                    .ok_or(FetchError::Status { status: 416 })?
                    .to_vec(),
                None => body,
            };
            Ok(Fetched {
                body: Bytes(Rc::new(body)),
                content_type: None,
            })
        }
        .boxed_local()
    }
    fn fetch_bytes<'a>(
        &'a self,
        url: &'a str,
        range: [u64; 2],
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, FetchError>> {
        async move { Ok(self.fetch(url, Some(range)).await?.body.0.to_vec()) }.boxed_local()
    }
    fn fetch_text<'a>(
        &'a self,
        url: &'a str,
    ) -> LocalBoxFuture<'a, Result<(String, String), FetchError>> {
        async move {
            let final_url = self
                .redirects
                .borrow()
                .get(url)
                .cloned()
                .unwrap_or_else(|| url.to_string());
            let body = self.answer(&final_url)?;
            let text = String::from_utf8(body).map_err(|e| FetchError::Integrity(e.to_string()))?;
            Ok((final_url, text))
        }
        .boxed_local()
    }
}

/// A host with a manual clock whose sleeps return at once (advancing the clock), a local
/// executor for spawned jobs, and a record of emitted events.
pub struct MemHost {
    /// Current time in ms.
    pub now: Cell<f64>,
    /// Events emitted so far.
    pub events: RefCell<Vec<Event>>,
    spawner: futures::executor::LocalSpawner,
}

impl MemHost {
    /// A host spawning onto `pool`.
    pub fn new(pool: &futures::executor::LocalPool) -> Rc<MemHost> {
        Rc::new(MemHost {
            now: Cell::new(1_000_000.0),
            events: RefCell::default(),
            spawner: pool.spawner(),
        })
    }
}

impl Host for MemHost {
    fn now_ms(&self) -> f64 {
        let t = self.now.get() + 1.0;
        self.now.set(t);
        t
    }
    fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()> {
        self.now.set(self.now.get() + f64::from(ms));
        futures::future::ready(()).boxed_local()
    }
    fn random(&self) -> f64 {
        0.5
    }
    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        // A spawn can only fail when the pool is gone, which ends the test anyway.
        let _ = self.spawner.spawn_local(task);
    }
    fn emit(&self, event: Event) {
        self.events.borrow_mut().push(event);
    }
}

/// Returns `Pending` once, so a fetch takes a turn of the executor as a real one does.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}
