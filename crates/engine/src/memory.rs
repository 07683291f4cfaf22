//! In-memory twins of the ports, for native tests of the hard cases (a worker killed at segment
//! k, quota hit at commit, a server that lies).

use crate::error::FetchError;
use crate::ports::{Body, DecryptError, Fetched, Fetcher, Host, KeyError, LockGuard};
use crate::protocol::Event;
use futures::future::{FutureExt, LocalBoxFuture};
use futures::task::LocalSpawnExt;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

mod background;
mod store;
pub use background::MemBackground;
pub use store::{MemChunk, MemStore};

/// Bytes standing in for a Blob.
#[derive(Debug, Clone, PartialEq)]
pub struct Bytes(pub Rc<Vec<u8>>);

impl Body for Bytes {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    fn slice(&self, start: u64, end: u64) -> Self {
        let end = (end as usize).min(self.0.len());
        let start = (start as usize).min(end);
        Bytes(Rc::new(self.0[start..end].to_vec()))
    }
}

/// A scripted answer for one URL.
#[derive(Debug, Clone)]
pub enum Script {
    /// Fail this way once, then go on with the next script or the content.
    Fail(FetchError),
    /// Answer once with only the first `n` bytes, as a server that lies about the length (or
    /// a connection cut short) does.
    Truncate(usize),
}

/// AES-128-CBC decryption with PKCS#7 padding, `(key, iv, ciphertext) → clear bytes`, given by
/// the tests (the library carries no AES of its own: the worker uses WebCrypto).
pub type Aes128CbcDecrypt = Box<dyn Fn(&[u8; 16], &[u8; 16], &[u8]) -> Result<Vec<u8>, String>>;

/// A server in memory: content by URL, faults scripted per URL, and a log of requests.
#[derive(Default)]
pub struct MemFetcher {
    /// How `decrypt` decrypts; without one, every decryption fails.
    pub aes128_cbc: RefCell<Option<Aes128CbcDecrypt>>,
    /// Bodies by URL.
    pub content: RefCell<HashMap<String, Vec<u8>>>,
    /// Faults to serve, in order, per URL.
    pub faults: RefCell<HashMap<String, VecDeque<Script>>>,
    /// Redirects: URL → final URL.
    pub redirects: RefCell<HashMap<String, String>>,
    /// Every URL requested, in order.
    pub log: RefCell<Vec<String>>,
    /// Licence servers: URL → (answer text, `X-License-Expiration` header); a URL absent
    /// answers 404, as a server that is gone.
    pub license_servers: RefCell<HashMap<String, (String, Option<String>)>>,
    /// When set, every request hangs forever (a stalled network).
    pub stall: Cell<bool>,
    /// When set, requests after this many hang forever: the moment a worker is killed.
    pub hang_after: Cell<Option<usize>>,
    /// The browser's Background Fetch (absent unless `background.available` is set).
    pub background: MemBackground,
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

    /// Scripts a short answer for the next request of `url`.
    pub fn truncate_once(&self, url: &str, n: usize) {
        self.faults
            .borrow_mut()
            .entry(url.to_string())
            .or_default()
            .push_back(Script::Truncate(n));
    }

    fn answer(&self, url: &str) -> Result<(Vec<u8>, Option<usize>), FetchError> {
        self.log.borrow_mut().push(url.to_string());
        self.serve(url)
    }

    /// What the server answers for `url`, without logging the request (the browser's
    /// background fetches are not the worker's).
    fn serve(&self, url: &str) -> Result<(Vec<u8>, Option<usize>), FetchError> {
        let script = self
            .faults
            .borrow_mut()
            .get_mut(url)
            .and_then(VecDeque::pop_front);
        let truncate = match script {
            Some(Script::Fail(e)) => return Err(e),
            Some(Script::Truncate(n)) => Some(n),
            None => None,
        };
        let body = self
            .content
            .borrow()
            .get(url)
            .cloned()
            .ok_or(FetchError::Status { status: 404 })?;
        Ok((body, truncate))
    }
}

impl Fetcher for MemFetcher {
    type Body = Bytes;
    type Key = [u8; 16];
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
            let final_url = self.redirects.borrow().get(url).cloned();
            let (body, truncate) = self.answer(final_url.as_deref().unwrap_or(url))?;
            let mut body = match range {
                Some([a, b]) => body
                    .get(a as usize..=b as usize)
                    .ok_or(FetchError::Status { status: 416 })?
                    .to_vec(),
                None => body,
            };
            if let Some(n) = truncate {
                body.truncate(n);
            }
            Ok(Fetched {
                body: Bytes(Rc::new(body)),
                content_type: None,
                final_url,
            })
        }
        .boxed_local()
    }
    fn fetch_bytes<'a>(
        &'a self,
        url: &'a str,
        range: Option<[u64; 2]>,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, FetchError>> {
        async move {
            let body = self.fetch(url, range).await?.body.0;
            let limit = mpd::MAX_INDEX_FILE_BYTES;
            if range.is_none() && body.len() as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            Ok(body.to_vec())
        }
        .boxed_local()
    }
    fn post_license<'a>(
        &'a self,
        url: &'a str,
        _body: String,
    ) -> LocalBoxFuture<'a, Result<(String, Option<String>), FetchError>> {
        async move {
            self.log.borrow_mut().push(url.to_string());
            self.license_servers
                .borrow()
                .get(url)
                .cloned()
                .ok_or(FetchError::Status { status: 404 })
        }
        .boxed_local()
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
            let (body, _) = self.answer(&final_url)?;
            let text = String::from_utf8(body).map_err(|e| FetchError::Integrity(e.to_string()))?;
            Ok((final_url, text))
        }
        .boxed_local()
    }
    fn fetch_key<'a>(&'a self, url: &'a str) -> LocalBoxFuture<'a, Result<[u8; 16], KeyError>> {
        async move {
            let body = self.fetch(url, None).await.map_err(KeyError::Fetch)?.body;
            <[u8; 16]>::try_from(body.0.as_slice())
                .map_err(|_| KeyError::Unusable(format!("{} bytes, not 16", body.0.len())))
        }
        .boxed_local()
    }
    fn decrypt<'a>(
        &'a self,
        body: Bytes,
        key: &'a [u8; 16],
        iv: [u8; 16],
    ) -> LocalBoxFuture<'a, Result<Bytes, DecryptError>> {
        async move {
            YieldOnce(false).await;
            let aes = self.aes128_cbc.borrow();
            let aes = aes
                .as_ref()
                .ok_or_else(|| DecryptError("the in-memory fetcher was given no AES".into()))?;
            aes(key, &iv, &body.0)
                .map(|clear| Bytes(Rc::new(clear)))
                .map_err(DecryptError)
        }
        .boxed_local()
    }
    fn background_available(&self) -> bool {
        self.background.available.get()
    }
    fn background_abort<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, ()> {
        async move {
            if self.background.out.borrow_mut().remove(id).is_some() {
                self.background.aborted.borrow_mut().push(id.to_string());
            }
        }
        .boxed_local()
    }
    fn background_active(&self) -> LocalBoxFuture<'_, Option<Vec<String>>> {
        async move { Some(self.background_ids()) }.boxed_local()
    }
}

/// A host with a manual clock whose sleeps return at once (advancing the clock), a local
/// executor for spawned jobs, and a record of emitted events.
pub struct MemHost {
    /// Current time in ms.
    pub now: Cell<f64>,
    /// Events emitted so far.
    pub events: RefCell<Vec<Event>>,
    /// What `navigator.onLine` says.
    pub online: Cell<bool>,
    /// Locks held, shared by hosts made with `sharing_locks` (two workers, one origin).
    pub locks: Rc<RefCell<std::collections::HashSet<String>>>,
    /// While set, sleeps do not end (see `hold_timers`).
    held: Rc<Cell<bool>>,
    sleepers: Rc<RefCell<Vec<std::task::Waker>>>,
    spawner: futures::executor::LocalSpawner,
}

impl MemHost {
    /// A host spawning onto `pool`.
    pub fn new(pool: &futures::executor::LocalPool) -> Rc<MemHost> {
        Rc::new(MemHost {
            now: Cell::new(1_000_000.0),
            events: RefCell::default(),
            online: Cell::new(true),
            locks: Rc::default(),
            held: Rc::default(),
            sleepers: Rc::default(),
            spawner: pool.spawner(),
        })
    }

    /// Sleeps started from now on wait until `release_timers`: lets a test look at the world
    /// while a timer is pending (sleeps otherwise end at once).
    pub fn hold_timers(&self) {
        self.held.set(true);
    }

    /// Ends every held sleep.
    pub fn release_timers(&self) {
        self.held.set(false);
        for waker in self.sleepers.borrow_mut().drain(..) {
            waker.wake();
        }
    }

    /// Moves the clock `ms` on, as time passing between two page requests.
    pub fn advance(&self, ms: f64) {
        self.now.set(self.now.get() + ms);
    }

    /// A second host on `pool` sharing this one's locks: another worker of the same origin.
    pub fn sharing_locks(&self, pool: &futures::executor::LocalPool) -> Rc<MemHost> {
        Rc::new(MemHost {
            now: Cell::new(self.now.get()),
            events: RefCell::default(),
            online: Cell::new(true),
            locks: self.locks.clone(),
            held: Rc::default(),
            sleepers: Rc::default(),
            spawner: pool.spawner(),
        })
    }
}

/// Releases a `MemHost` lock when dropped.
struct MemLock(Rc<RefCell<std::collections::HashSet<String>>>, String);

impl Drop for MemLock {
    fn drop(&mut self) {
        self.0.borrow_mut().remove(&self.1);
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
        let (held, sleepers) = (self.held.clone(), self.sleepers.clone());
        futures::future::poll_fn(move |cx| {
            if held.get() {
                sleepers.borrow_mut().push(cx.waker().clone());
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        })
        .boxed_local()
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
    fn online(&self) -> bool {
        self.online.get()
    }
    fn try_lock(&self, name: &str) -> LocalBoxFuture<'static, Option<LockGuard>> {
        let acquired = self.locks.borrow_mut().insert(name.to_string());
        let guard = acquired.then(|| LockGuard(Box::new(MemLock(self.locks.clone(), name.into()))));
        futures::future::ready(guard).boxed_local()
    }
    fn memory_bytes(&self) -> Option<u64> {
        None
    }
}

/// Returns `Pending` once, so a fetch takes a turn of the executor as a real one does.
pub(crate) struct YieldOnce(pub(crate) bool);

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
