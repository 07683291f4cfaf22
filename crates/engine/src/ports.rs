//! The engine's view of the world: storage, network and host, each a small trait with an
//! in-memory twin (see `memory`) so hard cases are native unit tests.

use crate::entry::Entry;
use crate::error::{FetchError, StoreError};
use crate::license::StoredLicense;
use crate::protocol::Event;
use futures::future::{FutureExt, LocalBoxFuture};
use mpd::Plan;

/// A fetched body. In the worker it is a `Blob` handle: bytes never enter wasm memory.
pub trait Body: Clone + 'static {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Bytes `start..end` (a view, not a copy, in the worker): a body too big for one
    /// IndexedDB value is stored as several slices.
    fn slice(&self, start: u64, end: u64) -> Self;
}

/// A successful fetch.
#[derive(Debug, Clone)]
pub struct Fetched<B> {
    /// The body.
    pub body: B,
    /// The MIME type the server gave.
    pub content_type: Option<String>,
    /// The URL that answered, after redirects (checked against the allowed origins).
    pub final_url: Option<String>,
}

/// One segment to store, with where it came from.
#[derive(Debug, Clone)]
pub struct NewSegment<B> {
    /// Track key.
    pub track: String,
    /// 0 for init, 1.. for media.
    pub index: u32,
    /// Which part of the segment this is (0 unless the segment is stored in chunks).
    pub chunk: u32,
    /// How many chunks the segment has (1 for a segment stored whole).
    pub chunks: u32,
    /// The body.
    pub body: B,
    /// Source URL.
    pub url: String,
    /// Source byte range.
    pub range: Option<[u64; 2]>,
}

/// What is stored for one segment (read back to compute progress).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSegment {
    /// Track key.
    pub track: String,
    /// Index.
    pub index: u32,
    /// Chunk number within the segment.
    pub chunk: u32,
    /// Chunks the whole segment has: it is complete when all of them are stored.
    pub chunks: u32,
    /// Bytes.
    pub size: u64,
}

/// Persistent storage (IndexedDB in the worker).
pub trait Store<B: Body>: 'static {
    /// One entry.
    fn get_entry<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Option<Entry>, StoreError>>;
    /// Insert or replace an entry.
    fn put_entry<'a>(&'a self, entry: &'a Entry) -> LocalBoxFuture<'a, Result<(), StoreError>>;
    /// Every entry, with its plan.
    fn list_entries(&self) -> LocalBoxFuture<'_, Result<Vec<Entry>, StoreError>>;
    /// Every entry without reading the plans kept apart (a plan lists every segment): an entry's
    /// `plan` is `None` unless its record holds it inline. For listings, which fetch the few
    /// plans they need with `plans_of`.
    fn list_entries_light(&self) -> LocalBoxFuture<'_, Result<Vec<Entry>, StoreError>>;
    /// The plans of several entries (`None` where an entry has none), read at once.
    fn plans_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<Option<Plan>>, StoreError>>;
    /// Delete an entry with its segments, manifest and licences, in one transaction.
    fn delete_entry<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<(), StoreError>>;
    /// Store the local manifest text.
    fn put_manifest<'a>(
        &'a self,
        id: &'a str,
        text: &'a str,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>>;
    /// Delete stored segments of an entry (used when a new plan replaces an old one).
    fn clear_segments<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<(), StoreError>>;
    /// What is stored for an entry: the source of truth for progress.
    fn stored_segments<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<StoredSegment>, StoreError>>;
    /// The keys of an entry's stored records, without reading the records: each Blob read
    /// costs the browser a registration, so a check that every record is still there (the end
    /// of a download, with thousands of records) reads keys alone.
    fn stored_keys<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<RecordKey>, StoreError>>;
    /// What is stored for each of several entries, read at once (one transaction, every
    /// request out before the first answer: listing hundreds of titles costs about one round
    /// trip to the storage, not one per title).
    fn stored_segments_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<Vec<StoredSegment>>, StoreError>> {
        async move {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.push(self.stored_segments(id).await?);
            }
            Ok(out)
        }
        .boxed_local()
    }
    /// The number of records in `segments`, every entry's together: one request, which reads
    /// no record (a listing compares it with what the entries say they stored).
    fn record_count(&self) -> LocalBoxFuture<'_, Result<u64, StoreError>>;
    /// The number of records each of several entries has in `segments`, read at once.
    fn record_counts_of<'a>(
        &'a self,
        ids: &'a [&'a str],
    ) -> LocalBoxFuture<'a, Result<Vec<u64>, StoreError>>;
    /// The ids of every entry whose local manifest is stored.
    fn manifest_ids(&self) -> LocalBoxFuture<'_, Result<Vec<String>, StoreError>>;
    /// Store several segments in one transaction: all or none.
    fn put_segments<'a>(
        &'a self,
        id: &'a str,
        items: Vec<NewSegment<B>>,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>>;
    /// Replace the licences of an entry, in one transaction.
    fn put_licenses<'a>(
        &'a self,
        id: &'a str,
        licenses: Vec<StoredLicense>,
    ) -> LocalBoxFuture<'a, Result<(), StoreError>>;
    /// The licences kept for an entry.
    fn licenses<'a>(
        &'a self,
        id: &'a str,
    ) -> LocalBoxFuture<'a, Result<Vec<StoredLicense>, StoreError>>;
    /// Whether the entry's local manifest is stored.
    fn has_manifest<'a>(&'a self, id: &'a str) -> LocalBoxFuture<'a, Result<bool, StoreError>>;
    /// Reads an entry's segment records back and names those that cannot give their bytes: a
    /// Blob whose file the browser lost (`NotReadableError`), or bytes of another size than
    /// recorded. The size was checked against the plan when the record was stored.
    fn read_back<'a>(
        &'a self,
        id: &'a str,
        depth: ReadBack<'a>,
    ) -> LocalBoxFuture<'a, Result<ReadBackReport, StoreError>>;
    /// Delete some segment records of an entry, in one transaction.
    fn delete_records<'a>(
        &'a self,
        id: &'a str,
        keys: &'a [RecordKey],
    ) -> LocalBoxFuture<'a, Result<(), StoreError>>;
}

/// How much of an entry a read-back reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBack<'a> {
    /// One byte of each of these records (a record that is not stored is skipped): cheap
    /// enough for every worker start, and enough to notice that the browser lost the files.
    Probe(&'a [RecordKey]),
    /// Every byte of every record.
    Full,
}

/// A segment record's key below its entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordKey {
    /// Track key.
    pub track: String,
    /// Segment index (0: the init segment).
    pub index: u32,
    /// Chunk of the segment.
    pub chunk: u32,
}

/// What a read-back found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadBackReport {
    /// Records read.
    pub records: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Records that cannot give their bytes.
    pub faults: Vec<RecordKey>,
}

/// Why a segment-encryption key cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyError {
    /// The key request failed (retried like a segment request).
    Fetch(FetchError),
    /// The answer is no AES-128 key (not 16 bytes, or refused by the crypto API).
    Unusable(String),
}

/// Why a fetched segment could not be decrypted: a wrong key or IV, bad PKCS#7 padding, a
/// length that is no multiple of 16, or a body the crypto API could not read.
#[derive(Debug, Clone, PartialEq)]
pub struct DecryptError(pub String);

/// One response a background fetch delivered, as the browser kept it.
#[derive(Debug, Clone)]
pub struct Delivered<B> {
    /// The URL the request asked for.
    pub url: String,
    /// The response (status 2xx), or why there is none.
    pub response: Result<Fetched<B>, FetchError>,
}

/// How the browser ended a background fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackgroundEnd {
    /// Every request answered (`backgroundfetchsuccess`).
    Success,
    /// It stopped (`backgroundfetchfail`), with the browser's `failureReason` (`bad-status`,
    /// `fetch-error`, `quota-exceeded`, `download-total-exceeded`).
    Failed(String),
    /// Aborted, by the user in the browser's UI or by this worker (`backgroundfetchabort`).
    Aborted,
}

/// The network.
pub trait Fetcher: 'static {
    /// The body handle.
    type Body: Body;
    /// An AES-128 key ready to decrypt with (a WebCrypto `CryptoKey` in the worker, so the key
    /// bytes stay in the browser). Kept only in memory by the job run that fetched it.
    type Key: Clone + 'static;
    /// Fetch a URL (optionally a byte range) as a body.
    fn fetch<'a>(
        &'a self,
        url: &'a str,
        range: Option<[u64; 2]>,
    ) -> LocalBoxFuture<'a, Result<Fetched<Self::Body>, FetchError>>;
    /// Fetch a small byte range into memory (a SegmentBase `sidx` index), or with `None` a
    /// whole small file (a `SegmentTemplate@index` file, no `Range` header): a body over
    /// [`mpd::MAX_INDEX_FILE_BYTES`] is refused with [`FetchError::TooLarge`], before it is
    /// read when its Content-Length says so, since it comes into memory.
    fn fetch_bytes<'a>(
        &'a self,
        url: &'a str,
        range: Option<[u64; 2]>,
    ) -> LocalBoxFuture<'a, Result<Vec<u8>, FetchError>>;
    /// POST a licence request (JSON text); returns the answer's text and its
    /// `X-License-Expiration` header.
    fn post_license<'a>(
        &'a self,
        url: &'a str,
        body: String,
    ) -> LocalBoxFuture<'a, Result<(String, Option<String>), FetchError>>;
    /// Fetch text (the manifest); returns (final URL after redirects, text).
    fn fetch_text<'a>(
        &'a self,
        url: &'a str,
    ) -> LocalBoxFuture<'a, Result<(String, String), FetchError>>;
    /// Fetch the 16 raw bytes of a segment-encryption key and import them as an AES-128-CBC
    /// key (never cached by the browser: keys are not kept).
    fn fetch_key<'a>(&'a self, url: &'a str) -> LocalBoxFuture<'a, Result<Self::Key, KeyError>>;
    /// Decrypt a whole AES-128-CBC body with PKCS#7 padding: the result is the clear segment,
    /// 1–16 bytes shorter. In the worker the bytes go Blob → WebCrypto → Blob in JS memory,
    /// never through wasm memory.
    fn decrypt<'a>(
        &'a self,
        body: Self::Body,
        key: &'a Self::Key,
        iv: [u8; 16],
    ) -> LocalBoxFuture<'a, Result<Self::Body, DecryptError>>;
    /// Whether this browser has Background Fetch (`registration.backgroundFetch`). A platform
    /// without it keeps these defaults: every download runs in the foreground. (Only pages may
    /// start a background fetch; the worker lists, aborts and stores them.)
    fn background_available(&self) -> bool {
        false
    }
    /// Aborts background fetch `id` if the browser still runs it.
    fn background_abort<'a>(&'a self, _id: &'a str) -> LocalBoxFuture<'a, ()> {
        Box::pin(async {})
    }
    /// The ids of the background fetches the browser still runs (or has yet to deliver);
    /// `None` when the browser did not say in time (then none is taken for lost).
    fn background_active(&self) -> LocalBoxFuture<'_, Option<Vec<String>>> {
        Box::pin(async { Some(Vec::new()) })
    }
}

/// Time, randomness, task spawning and event delivery.
pub trait Host: 'static {
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> f64;
    /// Sleep.
    fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()>;
    /// A number in [0, 1) for jitter.
    fn random(&self) -> f64;
    /// Run a task in the background.
    fn spawn(&self, task: LocalBoxFuture<'static, ()>);
    /// Deliver an event to every page.
    fn emit(&self, event: Event);
    /// Whether the device believes it is online (`navigator.onLine`): when it is not, a failed
    /// request pauses the job at once instead of spending its retries.
    fn online(&self) -> bool;
    /// Takes the exclusive lock `name` if no other worker or tab holds it (Web Locks), so two
    /// workers sharing the database never run the same job. `None` when it is held elsewhere;
    /// dropping the guard releases it.
    fn try_lock(&self, name: &str) -> LocalBoxFuture<'static, Option<LockGuard>>;
    /// Bytes of linear memory the worker uses (WebAssembly.Memory), for diagnostics.
    fn memory_bytes(&self) -> Option<u64>;
}

/// Holds a lock until dropped.
pub struct LockGuard(pub Box<dyn std::any::Any>);
