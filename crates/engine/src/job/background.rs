//! The job's background side: what is left of a plan as Background Fetch requests, cut into
//! fetches small enough for the browser, and the responses a background fetch delivered turned
//! into stored segments with the foreground job's checks (redirect policy, exact byte ranges,
//! decryption, slicing, several segments per transaction).
//!
//! A background request is a whole URL: Background Fetch sends no `Range` header of its own
//! making, so a file the plan reads in byte ranges (SegmentBase) is fetched once and its ranges
//! are cut from the delivered body.

use super::fetch::{check_size, RedirectPolicy};
use super::units::{split, units_to_fetch, Unit};
use super::{
    commit_len, count_committed, plan_error, sea, speed, store_error, JobConfig, JobError,
};
use crate::error::FetchError;
use crate::ports::{Body, Delivered, Fetcher, Host, NewSegment, Store};
use crate::progress::{estimate, held, Held, Totals};
use crate::protocol::Event;
use mpd::Plan;
use std::collections::HashMap;

/// How big one background fetch may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackgroundLimits {
    /// Requests in one background fetch.
    pub max_requests: usize,
    /// Expected bytes in one background fetch: the browser keeps a whole fetch's responses
    /// until it delivers them, beside what is stored already, so this bounds the extra disk a
    /// download needs at once.
    pub max_bytes: u64,
}

/// 200 requests or 256 MiB, whichever comes first.
pub const BACKGROUND_LIMITS: BackgroundLimits = BackgroundLimits {
    max_requests: 200,
    max_bytes: 256 * 1024 * 1024,
};

/// One background fetch to hand to the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackgroundBatch {
    /// The URLs, each fetched whole, in presentation order.
    pub urls: Vec<String>,
    /// The bytes the plan expects from them (estimates where the manifest gives no size).
    pub bytes: u64,
}

/// What is left of `plan` (given what is stored) as background fetches within `limits`, in
/// presentation order: the first fetch holds the start of the title.
pub fn batches(
    entry_id: &str,
    plan: &Plan,
    have: &HashMap<(&str, u32), Held>,
    chunk_bytes: u64,
    limits: BackgroundLimits,
) -> Result<Vec<BackgroundBatch>, JobError> {
    let todo = units_to_fetch(plan, have, chunk_bytes).map_err(|e| plan_error(entry_id, e))?;
    let tracks: HashMap<&str, &mpd::TrackPlan> =
        plan.tracks.iter().map(|t| (t.key.as_str(), t)).collect();
    // Each URL once, where it first appears, with the bytes of every unit it serves.
    let mut order: Vec<(&str, u64)> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for u in &todo {
        let bytes = match u.range {
            Some(r) => mpd::range_len(r).unwrap_or(u64::MAX),
            None => tracks
                .get(u.track.as_str())
                .map_or(0, |t| estimate(t, u.index)),
        };
        match seen.get(u.url.as_str()) {
            Some(&i) => {
                if let Some(slot) = order.get_mut(i) {
                    slot.1 = slot.1.saturating_add(bytes);
                }
            }
            None => {
                seen.insert(u.url.as_str(), order.len());
                order.push((u.url.as_str(), bytes));
            }
        }
    }
    let mut out: Vec<BackgroundBatch> = Vec::new();
    for (url, bytes) in order {
        let fits = out.last().is_some_and(|b| {
            b.urls.len() < limits.max_requests.max(1)
                && b.bytes.saturating_add(bytes) <= limits.max_bytes
        });
        match out.last_mut() {
            Some(b) if fits => {
                b.urls.push(url.to_string());
                b.bytes = b.bytes.saturating_add(bytes);
            }
            _ => out.push(BackgroundBatch {
                urls: vec![url.to_string()],
                bytes,
            }),
        }
    }
    Ok(out)
}

/// What a delivery stored, and what it could not.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Records written.
    pub records: usize,
    /// Delivered responses that were not stored, with why (a status, a redirect elsewhere, a
    /// body shorter than the ranges cut from it).
    pub refused: Vec<(String, FetchError)>,
}

/// The platform a delivery is stored through.
pub struct Ports<'a, F: Fetcher, S, H> {
    /// Keys of encrypted segments are fetched through it, and bodies decrypted.
    pub fetcher: &'a F,
    /// Where the segments go.
    pub store: &'a S,
    /// Progress events.
    pub host: &'a H,
}

/// Stores the responses of one background fetch: every unit still missing whose URL was
/// delivered, checked as the foreground job checks a fetch, committed `cfg.batch` records at a
/// time (a segment's slices in one transaction). `wanted` is asked before each commit: once it
/// says no (the entry was paused or removed) nothing more is written.
pub async fn ingest<F, S, H>(
    entry_id: &str,
    plan: &Plan,
    policy: &RedirectPolicy,
    ports: Ports<'_, F, S, H>,
    cfg: JobConfig,
    delivered: Vec<Delivered<F::Body>>,
    wanted: &dyn Fn() -> bool,
) -> Result<Ingested, JobError>
where
    F: Fetcher,
    S: Store<F::Body>,
    H: Host,
{
    let Ports {
        fetcher,
        store,
        host,
    } = ports;
    let stored = store
        .stored_segments(entry_id)
        .await
        .map_err(|e| store_error(entry_id, e))?;
    let grouped = held(&stored);
    let mut totals = Totals::from_held(plan, &grouped);
    let todo =
        units_to_fetch(plan, &grouped, cfg.chunk_bytes).map_err(|e| plan_error(entry_id, e))?;
    let mut have: HashMap<(String, u32), Held> = grouped
        .into_iter()
        .map(|((t, i), h)| ((t.to_string(), i), h))
        .collect();
    drop(stored);
    let mut by_url: HashMap<String, Vec<Unit>> = HashMap::new();
    for u in todo {
        by_url.entry(u.url.clone()).or_default().push(u);
    }
    let mut report = Ingested::default();
    let mut ready = Vec::new();
    for d in delivered {
        let Some(units) = by_url.remove(&d.url) else {
            continue; // stored already (a delivery seen twice), or not in this plan
        };
        let fetched = match d.response.and_then(|f| {
            policy.check(&d.url, f.final_url.as_deref())?;
            Ok(f.body)
        }) {
            Ok(body) => body,
            Err(e) => {
                report.refused.push((d.url, e));
                continue;
            }
        };
        for u in units {
            match cut(&fetched, u.range) {
                Ok(body) => ready.push((u, body)),
                Err(e) => report.refused.push((u.url.clone(), e)),
            }
        }
    }
    let keys = {
        let units: Vec<Unit> = ready.iter().map(|(u, _)| u.clone()).collect();
        sea::fetch_keys(entry_id, fetcher, host, cfg, &units).await?
    };
    let tracks: HashMap<&str, &mpd::TrackPlan> =
        plan.tracks.iter().map(|t| (t.key.as_str(), t)).collect();
    let started = host.now_ms();
    let start_bytes = totals.bytes_done;
    let mut last_emit = started;
    let batch_size = cfg.batch.max(1);
    let mut batch: Vec<NewSegment<F::Body>> = Vec::new();
    let mut ready = ready.into_iter().peekable();
    while ready.peek().is_some() || !batch.is_empty() {
        while batch.len() < batch_size {
            let Some((u, body)) = ready.next() else { break };
            let segment = NewSegment {
                track: u.track.clone(),
                index: u.index,
                chunk: u.chunk,
                chunks: u.chunks,
                body,
                url: u.url.clone(),
                range: u.range,
            };
            let segment = match &u.encryption {
                Some(enc) => sea::decrypt(entry_id, fetcher, &keys, segment, enc).await?,
                None => segment,
            };
            batch.extend(split(segment, cfg.chunk_bytes));
        }
        if !wanted() {
            return Ok(report);
        }
        let take = commit_len(&batch, batch_size);
        let items: Vec<NewSegment<F::Body>> = batch.drain(..take).collect();
        let sizes = items
            .iter()
            .map(|s| (s.track.clone(), s.index, s.chunk, s.chunks, s.body.size()))
            .collect::<Vec<_>>();
        let written = items.len();
        store
            .put_segments(entry_id, items)
            .await
            .map_err(|e| store_error(entry_id, e))?;
        report.records = report.records.saturating_add(written);
        count_committed(sizes, &tracks, &mut have, &mut totals, |_, _| {});
        let now = host.now_ms();
        if now - last_emit >= cfg.progress_interval_ms {
            host.emit(Event::Progress(
                totals.detail(entry_id, speed(start_bytes, &totals, now - started)),
            ));
            last_emit = now;
        }
    }
    Ok(report)
}

/// The part of a delivered whole-URL body a unit stores: all of it, or its byte range, which
/// must lie inside the body.
fn cut<B: Body>(body: &B, range: Option<[u64; 2]>) -> Result<B, FetchError> {
    let Some([a, b]) = range else {
        return Ok(body.clone());
    };
    let end = b
        .checked_add(1)
        .filter(|e| *e <= body.size())
        .ok_or_else(|| {
            FetchError::Integrity(format!(
                "the file is {} bytes, too short for bytes {a}-{b}",
                body.size()
            ))
        })?;
    let part = body.slice(a, end);
    check_size(&part, range)?;
    Ok(part)
}
