//! One download job: fetch what the plan lists and the store lacks, with bounded concurrency,
//! retries with backoff, several segments per transaction, and progress events.

use crate::error::{Code, FetchError, KalturaError, StoreError};
use crate::ports::{Body, Fetcher, Host, NewSegment, Store};
use crate::progress::{held, Held, Totals};
use crate::protocol::Event;
use futures::future::{select, Either, LocalBoxFuture};
use futures::stream::{self, StreamExt};
use mpd::Plan;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

mod sea;

/// Tunables of the scheduler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobConfig {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Segments written per IndexedDB transaction.
    pub batch: usize,
    /// Attempts per request before the job stops (each request counts its own).
    pub max_attempts: u32,
    /// First backoff delay in ms; doubles per attempt, with jitter.
    pub backoff_ms: u32,
    /// Minimum ms between two progress events.
    pub progress_interval_ms: f64,
    /// Largest stored value: a longer byte range is fetched and stored in chunks of this size
    /// (Chromium refuses one IndexedDB value over ~127 MiB; small chunks also let a killed worker
    /// resume mid-file).
    pub chunk_bytes: u64,
}

/// 8 MiB.
pub const CHUNK_BYTES: u64 = 8 * 1024 * 1024;

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            concurrency: 4,
            batch: 4,
            max_attempts: 5,
            backoff_ms: 500,
            progress_interval_ms: 250.0,
            chunk_bytes: CHUNK_BYTES,
        }
    }
}

/// How a job ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every planned item is stored.
    Completed,
}

/// Why a job stopped early.
#[derive(Debug, Clone, PartialEq)]
pub enum JobError {
    /// The network failed after retries, or the device is offline: pause with reason network.
    Network(KalturaError),
    /// The disk is full: pause with reason quota.
    Quota(KalturaError),
    /// Any other failure: the entry fails.
    Fatal(KalturaError),
}

/// One request: a whole segment, or one chunk of a long byte range.
struct Unit {
    track: String,
    index: u32,
    chunk: u32,
    /// Chunks of the segment; 1 for a segment fetched whole (split after the fetch when it is
    /// longer than a chunk).
    chunks: u32,
    url: String,
    range: Option<[u64; 2]>,
    /// The same segment under the track's other BaseURLs, tried when `url` keeps failing.
    alternates: Vec<String>,
    /// Segment encryption of the body: decrypted after the fetch, before it is stored.
    encryption: Option<mpd::SegmentEncryption>,
}

/// `url` under each alternative base URL of its track.
fn alternates_of(plan: &Plan, track: &str, url: &str) -> Vec<String> {
    let Some(bases) = plan
        .tracks
        .iter()
        .find(|t| t.key == track)
        .map(|t| &t.base_urls)
    else {
        return Vec::new();
    };
    match bases.split_first() {
        Some((primary, others)) => match url.strip_prefix(primary.as_str()) {
            Some(rest) => others.iter().map(|b| format!("{b}{rest}")).collect(),
            None => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// Most chunks one byte range may be split into: 512 GiB at the default chunk size, far over any
/// real segment or file, and a bound on the units a hostile range can make the job allocate.
const MAX_CHUNKS_PER_ITEM: u64 = 65_536;

/// What is left to fetch: every planned item, or chunk of one, that the store lacks. A byte
/// range out of bounds (the planner refuses those, but a plan is also read back from storage) or
/// needing more than [`MAX_CHUNKS_PER_ITEM`] chunks is an error (the item's URL, the message),
/// never an overflow or an allocation without bound.
fn units_to_fetch(
    plan: &Plan,
    have: &HashMap<(&str, u32), Held>,
    chunk: u64,
) -> Result<Vec<Unit>, (String, String)> {
    let chunk = chunk.max(1);
    let mut todo = Vec::new();
    for i in plan.items() {
        let len = match i.range {
            Some(r) => {
                let len = mpd::checked_range(r, || format!("{}-{} of {}", r[0], r[1], i.url))
                    .map_err(|e| (i.url.to_string(), e.to_string()))?;
                if len.div_ceil(chunk) > MAX_CHUNKS_PER_ITEM {
                    return Err((
                        i.url.to_string(),
                        format!(
                            "the byte range {}-{} of {} is {len} bytes, more than one item may have ({} bytes)",
                            r[0], r[1], i.url, MAX_CHUNKS_PER_ITEM.saturating_mul(chunk)
                        ),
                    ));
                }
                if i.encryption.is_some() && len > sea::MAX_ENCRYPTED_BYTES {
                    return Err((
                        i.url.to_string(),
                        format!(
                            "the encrypted segment {}-{} of {} is {len} bytes, more than the {} bytes decrypted at once",
                            r[0], r[1], i.url, sea::MAX_ENCRYPTED_BYTES
                        ),
                    ));
                }
                Some(len)
            }
            None => None,
        };
        let held = have.get(&(i.track, i.index));
        if held.is_some_and(Held::complete) {
            continue;
        }
        let alternates = alternates_of(plan, i.track, i.url);
        let unit = |c: u32, n: u32, range: Option<[u64; 2]>| Unit {
            track: i.track.to_string(),
            index: i.index,
            chunk: c,
            chunks: n,
            url: i.url.to_string(),
            range,
            alternates: alternates.clone(),
            encryption: i.encryption.cloned(),
        };
        match (i.range, len) {
            // An encrypted segment is one CBC message padded at its end: it is fetched and
            // decrypted whole, and split only after (see `split`).
            (Some([a, b]), Some(len)) if len > chunk && i.encryption.is_none() => {
                let n = u32::try_from(len.div_ceil(chunk)).unwrap_or(u32::MAX);
                let stored = held.map(|h| h.stored.as_slice()).unwrap_or_default();
                for c in 0..n {
                    if stored.contains(&c) {
                        continue;
                    }
                    // Within [a, b], which is bounds-checked: neither sum can wrap.
                    let first = u64::from(c)
                        .checked_mul(chunk)
                        .and_then(|o| a.checked_add(o))
                        .filter(|f| *f <= b);
                    let Some(first) = first else { break };
                    let last = first.saturating_add(chunk - 1).min(b);
                    todo.push(unit(c, n, Some([first, last])));
                }
            }
            (range, _) => todo.push(unit(0, 1, range)),
        }
    }
    Ok(todo)
}

/// The origin (`scheme://host:port`) of a URL, if it has one.
pub fn origin_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    match u.origin() {
        o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// Where segment requests may be redirected: the manifest's origin, every BaseURL's origin, and
/// what the app allowed (`"*"` allows any).
#[derive(Debug, Clone, Default)]
pub struct RedirectPolicy {
    origins: HashSet<String>,
    any: bool,
}

impl RedirectPolicy {
    /// The policy for a plan and the origins the app allowed.
    pub fn new(plan: &Plan, allowed: &[String]) -> Self {
        let mut origins: HashSet<String> = plan
            .tracks
            .iter()
            .flat_map(|t| t.base_urls.iter())
            .chain(std::iter::once(&plan.manifest_url))
            .filter_map(|u| origin_of(u))
            .collect();
        let any = allowed.iter().any(|a| a == "*");
        origins.extend(allowed.iter().filter_map(|a| origin_of(a)));
        RedirectPolicy { origins, any }
    }

    /// `Err` with the final origin when `requested` landed on an origin not allowed.
    fn check(&self, requested: &str, final_url: Option<&str>) -> Result<(), FetchError> {
        let Some(final_url) = final_url.filter(|f| !f.is_empty() && *f != requested) else {
            return Ok(());
        };
        let to = origin_of(final_url).unwrap_or_else(|| final_url.to_string());
        if self.any || origin_of(requested).as_ref() == Some(&to) || self.origins.contains(&to) {
            Ok(())
        } else {
            Err(FetchError::CrossOriginRedirect(to))
        }
    }
}

/// Runs the job to completion or error. Dropping the future stops it; what was committed stays.
pub async fn run<F, S, H>(
    entry_id: &str,
    plan: &Plan,
    policy: &RedirectPolicy,
    fetcher: Rc<F>,
    store: Rc<S>,
    host: Rc<H>,
    cfg: JobConfig,
) -> Result<Outcome, JobError>
where
    F: Fetcher,
    S: Store<F::Body>,
    H: Host,
{
    let stored = store
        .stored_segments(entry_id)
        .await
        .map_err(|e| store_error(entry_id, e))?;
    let grouped = held(&stored);
    let mut totals = Totals::from_held(plan, &grouped);
    let todo = units_to_fetch(plan, &grouped, cfg.chunk_bytes).map_err(|(url, message)| {
        JobError::Fatal(
            KalturaError::new(Code::DownloadFailed, message, Some(entry_id)).with("url", url),
        )
    })?;
    let keys = sea::fetch_keys(entry_id, &*fetcher, &*host, cfg, &todo).await?;
    let mut have: HashMap<(String, u32), Held> = grouped
        .into_iter()
        .map(|((t, i), h)| ((t.to_string(), i), h))
        .collect();
    drop(stored);
    let tracks: HashMap<&str, &mpd::TrackPlan> =
        plan.tracks.iter().map(|t| (t.key.as_str(), t)).collect();
    let started = host.now_ms();
    let start_bytes = totals.bytes_done;
    host.emit(Event::Progress(totals.detail(entry_id, 0.0)));
    let mut last_emit = started;
    let fetches = stream::iter(todo)
        .map(|mut unit| {
            let (fetcher, host, keys) = (fetcher.clone(), host.clone(), &keys);
            async move {
                let encryption = unit.encryption.take();
                let segment = fetch_with_retry(&*fetcher, &*host, policy, unit, cfg)
                    .await
                    .map_err(|(url, e)| fetch_error(entry_id, &url, e))?;
                match encryption {
                    Some(enc) => sea::decrypt(entry_id, &*fetcher, keys, segment, &enc).await,
                    None => Ok(segment),
                }
            }
        })
        .buffer_unordered(cfg.concurrency.max(1));
    futures::pin_mut!(fetches);
    // Fetching goes on while a batch commits: one commit in flight at a time, and at most two
    // batches waiting, so memory stays bounded and the network never idles on IndexedDB.
    let batch_size = cfg.batch.max(1);
    let mut batch: Vec<NewSegment<F::Body>> = Vec::with_capacity(batch_size * 2);
    let mut commit: Option<Commit<'_>> = None;
    let mut fetching = true;
    loop {
        if commit.is_none() && (batch.len() >= batch_size || (!fetching && !batch.is_empty())) {
            let take = batch.len().min(batch_size);
            let items: Vec<NewSegment<F::Body>> = batch.drain(..take).collect();
            let sizes = items
                .iter()
                .map(|s| (s.track.clone(), s.index, s.chunk, s.chunks, s.body.size()))
                .collect();
            commit = Some((store.put_segments(entry_id, items), sizes));
        }
        let can_fetch = fetching && batch.len() < batch_size * 2;
        let step = match (can_fetch, commit.as_mut()) {
            (true, Some((c, _))) => match select(fetches.next(), c).await {
                Either::Left((next, _)) => Step::Fetched(next),
                Either::Right((done, _)) => Step::Committed(done),
            },
            (true, None) => Step::Fetched(fetches.next().await),
            (false, Some((c, _))) => Step::Committed(c.await),
            (false, None) => break,
        };
        match step {
            Step::Fetched(Some(result)) => {
                batch.extend(split(result?, cfg.chunk_bytes));
            }
            Step::Fetched(None) => fetching = false,
            Step::Committed(result) => {
                result.map_err(|e| store_error(entry_id, e))?;
                let sizes = commit.take().map(|(_, s)| s).unwrap_or_default();
                for (track, index, chunk, chunks, size) in sizes {
                    let h = have.entry((track.clone(), index)).or_default();
                    let before = h.clone();
                    h.add(chunk, chunks, size);
                    if let Some(t) = tracks.get(track.as_str()) {
                        totals.apply(t, index, &before, h);
                    }
                }
                let now = host.now_ms();
                if now - last_emit >= cfg.progress_interval_ms && (fetching || !batch.is_empty()) {
                    host.emit(Event::Progress(
                        totals.detail(entry_id, speed(start_bytes, &totals, now - started)),
                    ));
                    last_emit = now;
                }
            }
        }
    }
    let stored = store
        .stored_segments(entry_id)
        .await
        .map_err(|e| store_error(entry_id, e))?;
    let check = Totals::of(plan, &stored);
    if check.items_done != check.items_total {
        return Err(JobError::Fatal(KalturaError::new(
            Code::DownloadFailed,
            format!(
                "{} of {} segments are stored after the download ended; resume the download",
                check.items_done, check.items_total
            ),
            Some(entry_id),
        )));
    }
    let elapsed = host.now_ms() - started;
    host.emit(Event::Progress(
        check.detail(entry_id, speed(start_bytes, &check, elapsed)),
    ));
    Ok(Outcome::Completed)
}

/// What a commit stores, to update the totals once it succeeded: (track, index, chunk, chunks,
/// bytes).
type Committed = (String, u32, u32, u32, u64);

/// A commit in flight and what it stores.
type Commit<'a> = (LocalBoxFuture<'a, Result<(), StoreError>>, Vec<Committed>);

/// What the scheduler waited for.
enum Step<T> {
    /// The next fetch result, or `None` when every unit was fetched.
    Fetched(Option<T>),
    /// The commit in flight ended.
    Committed(Result<(), StoreError>),
}

/// A segment fetched whole but longer than a chunk is stored as several slices, all in one
/// transaction (so it is still stored whole or not at all).
fn split<B: Body>(s: NewSegment<B>, chunk: u64) -> Vec<NewSegment<B>> {
    let size = s.body.size();
    let chunk = chunk.max(1);
    if s.chunks != 1 || size <= chunk {
        return vec![s];
    }
    let n = size.div_ceil(chunk);
    let n32 = u32::try_from(n).unwrap_or(u32::MAX);
    (0..n)
        .map(|c| {
            // `c < n = ⌈size / chunk⌉`, so `first < size` and neither product nor sum wraps.
            let first = c.saturating_mul(chunk);
            let last = first.saturating_add(chunk).min(size);
            NewSegment {
                track: s.track.clone(),
                index: s.index,
                chunk: c as u32,
                chunks: n32,
                body: s.body.slice(first, last),
                url: s.url.clone(),
                range: Some(match s.range {
                    Some([a, _]) => [a.saturating_add(first), a.saturating_add(last - 1)],
                    None => [first, last - 1],
                }),
            }
        })
        .collect()
}

/// Average bytes per second of this job run.
fn speed(start_bytes: u64, totals: &Totals, elapsed_ms: f64) -> f64 {
    let secs = (elapsed_ms / 1000.0).max(0.001);
    (totals.bytes_done.saturating_sub(start_bytes) as f64 / secs).round()
}

/// Fetches an item, retrying retriable failures with exponential backoff and jitter, then
/// trying the alternative base URLs in turn. The error reported is the primary URL's.
async fn fetch_with_retry<F: Fetcher, H: Host>(
    fetcher: &F,
    host: &H,
    policy: &RedirectPolicy,
    unit: Unit,
    cfg: JobConfig,
) -> Result<NewSegment<F::Body>, (String, FetchError)> {
    let mut first_error = None;
    for url in std::iter::once(&unit.url).chain(&unit.alternates) {
        match fetch_one(fetcher, host, policy, url, unit.range, cfg).await {
            Ok(body) => {
                return Ok(NewSegment {
                    track: unit.track,
                    index: unit.index,
                    chunk: unit.chunk,
                    chunks: unit.chunks,
                    body,
                    url: url.clone(),
                    range: unit.range,
                })
            }
            // Offline: the other CDNs are unreachable too; pause now.
            Err(e @ FetchError::Network(_)) if !host.online() => return Err((unit.url, e)),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let e = first_error.unwrap_or(FetchError::Network("no URL to fetch".into()));
    Err((unit.url, e))
}

async fn fetch_one<F: Fetcher, H: Host>(
    fetcher: &F,
    host: &H,
    policy: &RedirectPolicy,
    url: &str,
    range: Option<[u64; 2]>,
    cfg: JobConfig,
) -> Result<F::Body, FetchError> {
    let mut attempt = 0u32;
    loop {
        let result = fetcher.fetch(url, range).await.and_then(|f| {
            policy.check(url, f.final_url.as_deref())?;
            check_size(&f.body, range)?;
            Ok(f.body)
        });
        match result {
            Ok(body) => return Ok(body),
            Err(FetchError::Network(m)) if !host.online() => {
                return Err(FetchError::Network(format!("{m}; the device is offline")))
            }
            Err(e) if e.retriable() && attempt + 1 < cfg.max_attempts => {
                host.sleep(backoff_ms(cfg, attempt, host.random())).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The wait before retry `attempt + 1`: the first backoff doubled per attempt, ±50 % jitter
/// (`random` in [0, 1)), at most 30 s.
fn backoff_ms(cfg: JobConfig, attempt: u32, random: f64) -> u32 {
    let base = f64::from(cfg.backoff_ms) * 2f64.powi(attempt.min(30) as i32);
    (base * (0.5 + random)).min(30_000.0) as u32
}

/// A body for a byte range must be exactly that long: whatever the server claimed, a short or
/// long body is never stored (and the request is tried again).
fn check_size<B: Body>(body: &B, range: Option<[u64; 2]>) -> Result<(), FetchError> {
    let Some([a, b]) = range else {
        return Ok(());
    };
    match mpd::range_len([a, b]) {
        Some(want) if body.size() == want => Ok(()),
        want => Err(FetchError::Integrity(format!(
            "asked for bytes {a}-{b} ({} bytes), got {}",
            want.map_or_else(|| "an impossible number of".to_string(), |w| w.to_string()),
            body.size()
        ))),
    }
}

fn fetch_error(entry_id: &str, url: &str, e: FetchError) -> JobError {
    let err = e.to_kaltura(entry_id, url, None);
    match e {
        FetchError::Network(_) => JobError::Network(err.recoverable()),
        FetchError::Status { status } if status >= 500 => JobError::Network(err.recoverable()),
        _ => JobError::Fatal(err),
    }
}

/// Maps a store failure to the entry's stop: a full disk pauses it, anything else fails it.
pub fn store_error(entry_id: &str, e: StoreError) -> JobError {
    let err = e.to_kaltura(Some(entry_id));
    match e {
        StoreError::Quota(_) => JobError::Quota(err),
        StoreError::Other(_) => JobError::Fatal(err),
    }
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
