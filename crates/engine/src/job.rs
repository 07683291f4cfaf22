//! One download job: fetch what the plan lists and the store lacks, with bounded concurrency,
//! retries with backoff, several segments per transaction, and progress events.

use crate::entry::StoredTotals;
use crate::error::{Code, FetchError, KalturaError, StoreError};
use crate::layout::POSTER_TRACK;
use crate::ports::{Body, Fetcher, Host, NewSegment, Store};
use crate::progress::{held, Held, Totals};
use crate::protocol::Event;
use futures::future::{select, Either, LocalBoxFuture};
use futures::stream::{self, StreamExt};
use mpd::Plan;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

mod background;
mod claims;
mod fetch;
mod item;
mod sea;
mod units;

pub use background::{
    batches as background_batches, ingest, BackgroundBatch, BackgroundLimits, Ingested, Ports,
    BACKGROUND_LIMITS,
};
pub use claims::{Claims, Fetcher as ClaimedBy, AHEAD_SECONDS};
pub use item::{FetchedItem, ItemFetch, PlannedItem};

use fetch::fetch_with_retry;
pub use fetch::{origin_of, RedirectPolicy};
use units::{split, units_to_fetch};

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

/// Requests in flight unless the download options say otherwise. Five keeps one of the six
/// connections browsers open to a host free for the player and the app, and reaches 95.5-96.1 %
/// of a 100 Mbit/s, 40 ms link where four reach 94.5-95.3 % (tests/bench/link-bench.mjs; at
/// 20 Mbit/s, 80 ms, and on loopback, the two are alike).
pub const DEFAULT_CONCURRENCY: usize = 5;
/// Most requests in flight the download option `concurrency` may ask for.
pub const MAX_CONCURRENCY: u32 = 16;
/// Segments per IndexedDB transaction.
pub const DEFAULT_BATCH: usize = 4;

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            concurrency: DEFAULT_CONCURRENCY,
            batch: DEFAULT_BATCH,
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
    /// Every planned item is stored: what the entry's records hold, for the entry to keep.
    Completed(StoredTotals),
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

impl JobError {
    /// The error a command answers with, whatever the job does next.
    pub fn into_kaltura(self) -> KalturaError {
        match self {
            JobError::Network(e) | JobError::Quota(e) | JobError::Fatal(e) => e,
        }
    }
}

/// Runs the job to completion or error. Dropping the future stops it; what was committed stays.
pub async fn run<F, S, H>(
    entry_id: &str,
    plan: &Plan,
    (policy, claims): (&RedirectPolicy, &Claims),
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
    // What playback stored before this run is in `stored` already.
    drop(claims.take_stored_by_playback());
    let grouped = held(&stored);
    let mut totals = Totals::from_held(plan, &grouped);
    let todo =
        units_to_fetch(plan, &grouped, cfg.chunk_bytes).map_err(|e| plan_error(entry_id, e))?;
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
    // Whatever way the run ends, the items it was fetching are free for playback again.
    let _release = ReleaseOnDrop(claims);
    let queue = RefCell::new(VecDeque::from(todo));
    let (queue, waiting_host) = (&queue, &*host);
    let units = stream::unfold((), move |()| async move {
        loop {
            let next = claims.next_unit(&mut queue.borrow_mut());
            match next {
                Some(unit) => return Some((unit, ())),
                None if queue.borrow().is_empty() => return None,
                // Every unit left is being fetched by playback: see whether it stored them.
                None => waiting_host.sleep(PLAYBACK_POLL_MS).await,
            }
        }
    });
    let fetches = units
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
            // Once every fetch is in, what waits goes in one transaction: the download ends
            // one commit after its last body, not one per batch left.
            let take = match fetching {
                true => commit_len(&batch, batch_size),
                false => batch.len(),
            };
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
                let mut sizes = commit.take().map(|(_, s)| s).unwrap_or_default();
                for (track, index, ..) in &sizes {
                    claims.release(track, *index);
                }
                sizes.extend(claims.take_stored_by_playback());
                count_committed(sizes, &tracks, &mut have, &mut totals, |t, i| {
                    claims.stored_by_job(t, i);
                });
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
    let run = Run {
        plan,
        tracks: &tracks,
        have: &have,
        start_bytes,
        started,
    };
    verify(entry_id, run, &*store, &*host).await
}

/// What a run knows at its end, for `verify`.
struct Run<'a> {
    plan: &'a Plan,
    tracks: &'a HashMap<&'a str, &'a mpd::TrackPlan>,
    /// Every item the run holds: its chunks and bytes.
    have: &'a HashMap<(String, u32), Held>,
    start_bytes: u64,
    started: f64,
}

/// After the last commit: every planned item must be stored (what the store says, not what the
/// run counted), and the final progress event says so. The store's keys say which records are
/// there (another context may have deleted some meanwhile); their chunk counts and sizes are
/// the run's, checked as each was stored. Should a planned record be there that the run does
/// not hold, the records are read instead.
async fn verify<B: Body, S: Store<B>, H: Host>(
    entry_id: &str,
    run: Run<'_>,
    store: &S,
    host: &H,
) -> Result<Outcome, JobError> {
    let Run {
        plan,
        tracks,
        have,
        start_bytes,
        started,
    } = run;
    let failed = |e| store_error(entry_id, e);
    let keys = store.stored_keys(entry_id).await.map_err(failed)?;
    let mut seen: HashMap<(&str, u32), Held> = HashMap::new();
    let mut unknown = false;
    for k in &keys {
        if !tracks.contains_key(k.track.as_str()) {
            continue; // the poster, or a track of no plan
        }
        match have.get(&(k.track.clone(), k.index)) {
            Some(h) => seen
                .entry((k.track.as_str(), k.index))
                .or_insert_with(|| Held {
                    bytes: h.bytes,
                    of: h.of,
                    stored: Vec::new(),
                })
                .stored
                .push(k.chunk),
            None => unknown = true,
        }
    }
    let poster = keys.iter().any(|k| k.track == POSTER_TRACK);
    let check = match unknown {
        false => Totals::from_held(plan, &seen),
        true => Totals::of(
            plan,
            &store.stored_segments(entry_id).await.map_err(failed)?,
        ),
    };
    let counted = StoredTotals {
        records: keys.len() as u64,
        items: check.items_done,
        bytes: check.bytes_done,
        poster,
    };
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
    Ok(Outcome::Completed(counted))
}

/// Adds what a commit stored to what the run holds and to its totals; `whole` hears of each
/// item the commit made whole.
fn count_committed(
    sizes: Vec<Committed>,
    tracks: &HashMap<&str, &mpd::TrackPlan>,
    have: &mut HashMap<(String, u32), Held>,
    totals: &mut Totals,
    mut whole: impl FnMut(&str, u32),
) {
    for (track, index, chunk, chunks, size) in sizes {
        let h = have.entry((track.clone(), index)).or_default();
        let before = h.clone();
        h.add(chunk, chunks, size);
        if h.complete() {
            whole(&track, index);
        }
        if let Some(t) = tracks.get(track.as_str()) {
            totals.apply(t, index, &before, h);
        }
    }
}

/// How many records of `batch` the next commit takes: `batch_size`, and more when the last of
/// them is a slice of a segment fetched whole whose other slices follow, so that such a segment
/// is stored in one transaction, whole or not at all.
fn commit_len<B>(batch: &[NewSegment<B>], batch_size: usize) -> usize {
    let mut take = batch.len().min(batch_size);
    let same = |a: &NewSegment<B>, b: &NewSegment<B>| a.track == b.track && a.index == b.index;
    while let (Some(last), Some(next)) = (
        take.checked_sub(1).and_then(|i| batch.get(i)),
        batch.get(take),
    ) {
        if !same(last, next) {
            break;
        }
        take += 1;
    }
    take
}

/// How often a job whose every unit left is being fetched by playback looks again, in ms.
const PLAYBACK_POLL_MS: u32 = 100;

/// Releases the job's claims when its run ends, however it ends (an aborted job is dropped).
struct ReleaseOnDrop<'a>(&'a Claims);

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.release_job();
    }
}

pub use claims::Committed;

/// A commit in flight and what it stores.
type Commit<'a> = (LocalBoxFuture<'a, Result<(), StoreError>>, Vec<Committed>);

/// What the scheduler waited for.
enum Step<T> {
    /// The next fetch result, or `None` when every unit was fetched.
    Fetched(Option<T>),
    /// The commit in flight ended.
    Committed(Result<(), StoreError>),
}

/// Average bytes per second of this job run.
fn speed(start_bytes: u64, totals: &Totals, elapsed_ms: f64) -> f64 {
    let secs = (elapsed_ms / 1000.0).max(0.001);
    (totals.bytes_done.saturating_sub(start_bytes) as f64 / secs).round()
}

/// A plan item the job cannot fetch (a byte range out of bounds or too long): the entry fails.
fn plan_error(entry_id: &str, (url, message): (String, String)) -> JobError {
    JobError::Fatal(
        KalturaError::new(Code::DownloadFailed, message, Some(entry_id)).with("url", url),
    )
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
        StoreError::Other(_) | StoreError::Unavailable(_) => JobError::Fatal(err),
    }
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
