//! One download job: fetch what the plan lists and the store lacks, with bounded concurrency,
//! retries with backoff, several segments per transaction, and progress events.

use crate::error::{Code, FetchError, KalturaError, StoreError};
use crate::ports::{Body, Fetcher, Host, NewSegment, Store};
use crate::progress::Totals;
use crate::protocol::Event;
use futures::stream::{self, StreamExt};
use mpd::Plan;
use std::rc::Rc;

/// Tunables of the scheduler.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobConfig {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Segments written per IndexedDB transaction.
    pub batch: usize,
    /// Attempts per segment before the job stops (reset by any progress of the job).
    pub max_attempts: u32,
    /// First backoff delay in ms; doubles per attempt, with jitter.
    pub backoff_ms: u32,
    /// Minimum ms between two progress events.
    pub progress_interval_ms: f64,
}

impl Default for JobConfig {
    fn default() -> Self {
        JobConfig {
            concurrency: 4,
            batch: 4,
            max_attempts: 5,
            backoff_ms: 500,
            progress_interval_ms: 250.0,
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
    /// The network failed after retries: pause with reason network.
    Network(KalturaError),
    /// The disk is full: pause with reason quota.
    Quota(KalturaError),
    /// Any other failure: the entry fails.
    Fatal(KalturaError),
}

struct Item {
    track: String,
    index: u32,
    url: String,
    range: Option<[u64; 2]>,
    /// The same segment under the track's other BaseURLs, tried when `url` keeps failing.
    alternates: Vec<String>,
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

/// Runs the job to completion or error. Dropping the future stops it; what was committed stays.
pub async fn run<F, S, H>(
    entry_id: &str,
    plan: &Plan,
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
    let mut totals = Totals::of(plan, &stored);
    let have: std::collections::HashSet<(String, u32)> =
        stored.into_iter().map(|s| (s.track, s.index)).collect();
    let todo: Vec<Item> = plan
        .items()
        .filter(|i| !have.contains(&(i.track.to_string(), i.index)))
        .map(|i| Item {
            track: i.track.to_string(),
            index: i.index,
            url: i.url.to_string(),
            range: i.range,
            alternates: alternates_of(plan, i.track, i.url),
        })
        .collect();
    let started = host.now_ms();
    let start_bytes = totals.bytes_done;
    host.emit(Event::Progress(totals.detail(entry_id, 0.0)));
    let mut last_emit = started;
    let fetches = stream::iter(todo)
        .map(|item| {
            let (fetcher, host) = (fetcher.clone(), host.clone());
            async move { fetch_with_retry(&*fetcher, &*host, item, cfg).await }
        })
        .buffer_unordered(cfg.concurrency.max(1));
    futures::pin_mut!(fetches);
    let mut batch: Vec<NewSegment<F::Body>> = Vec::with_capacity(cfg.batch);
    loop {
        let next = fetches.next().await;
        let done = next.is_none();
        if let Some(result) = next {
            batch.push(result.map_err(|(url, e)| fetch_error(entry_id, &url, e))?);
        }
        if batch.len() >= cfg.batch.max(1) || (done && !batch.is_empty()) {
            let items = std::mem::take(&mut batch);
            let sizes: Vec<(String, u32, u64)> = items
                .iter()
                .map(|s| (s.track.clone(), s.index, s.body.size()))
                .collect();
            store
                .put_segments(entry_id, items)
                .await
                .map_err(|e| store_error(entry_id, e))?;
            totals = recount(plan, &totals, &sizes);
            let now = host.now_ms();
            if now - last_emit >= cfg.progress_interval_ms && !done {
                host.emit(Event::Progress(
                    totals.detail(entry_id, speed(start_bytes, &totals, now - started)),
                ));
                last_emit = now;
            }
        }
        if done {
            break;
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

/// Average bytes per second of this job run.
fn speed(start_bytes: u64, totals: &Totals, elapsed_ms: f64) -> f64 {
    let secs = (elapsed_ms / 1000.0).max(0.001);
    (totals.bytes_done.saturating_sub(start_bytes) as f64 / secs).round()
}

/// Updates totals after a commit without re-reading the store (the final check re-reads it).
fn recount(plan: &Plan, before: &Totals, sizes: &[(String, u32, u64)]) -> Totals {
    let mut t = *before;
    for (track, index, size) in sizes {
        let estimate = plan
            .tracks
            .iter()
            .find(|p| &p.key == track)
            .map_or(0, |p| crate::progress::estimate(p, *index));
        t.items_done += 1;
        t.bytes_done += size;
        t.bytes_total = t.bytes_total.saturating_sub(estimate) + size;
    }
    t
}

/// Fetches an item, retrying retriable failures with exponential backoff and jitter, then
/// trying the alternative base URLs in turn. The error reported is the primary URL's.
async fn fetch_with_retry<F: Fetcher, H: Host>(
    fetcher: &F,
    host: &H,
    item: Item,
    cfg: JobConfig,
) -> Result<NewSegment<F::Body>, (String, FetchError)> {
    let mut first_error = None;
    for url in std::iter::once(&item.url).chain(&item.alternates) {
        match fetch_one(fetcher, host, url, item.range, cfg).await {
            Ok(body) => {
                return Ok(NewSegment {
                    track: item.track,
                    index: item.index,
                    body,
                    url: url.clone(),
                    range: item.range,
                })
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let e = first_error.unwrap_or(FetchError::Network("no URL to fetch".into()));
    Err((item.url, e))
}

async fn fetch_one<F: Fetcher, H: Host>(
    fetcher: &F,
    host: &H,
    url: &str,
    range: Option<[u64; 2]>,
    cfg: JobConfig,
) -> Result<F::Body, FetchError> {
    let mut attempt = 0u32;
    loop {
        match fetcher.fetch(url, range).await {
            Ok(f) => return Ok(f.body),
            Err(e) if e.retriable() && attempt + 1 < cfg.max_attempts => {
                let base = f64::from(cfg.backoff_ms) * 2f64.powi(attempt as i32);
                let delay = base * (0.5 + host.random());
                host.sleep(delay.min(30_000.0) as u32).await;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

fn fetch_error(entry_id: &str, url: &str, e: FetchError) -> JobError {
    let err =
        KalturaError::new(Code::DownloadFailed, e.describe(url), Some(entry_id)).with("url", url);
    match e {
        FetchError::Network(_) => JobError::Network(err.recoverable()),
        FetchError::Status { status } if status >= 500 => {
            JobError::Network(err.with("status", status).recoverable())
        }
        FetchError::Status { status } => JobError::Fatal(err.with("status", status)),
        _ => JobError::Fatal(err),
    }
}

/// Maps a store failure to the entry's stop.
pub fn store_error(entry_id: &str, e: StoreError) -> JobError {
    match e {
        StoreError::Quota(m) => JobError::Quota(
            KalturaError::new(Code::DownloadFailed, "the device's storage for this site is full; free space (remove downloads) and resume", Some(entry_id))
                .with("name", "QuotaExceededError")
                .with("detail", m)
                .recoverable(),
        ),
        StoreError::Other(m) => JobError::Fatal(KalturaError::new(
            Code::IndexedDbError,
            format!("IndexedDB failed ({m}); resume the download, or clear the site's data if it persists"),
            Some(entry_id),
        )),
    }
}
