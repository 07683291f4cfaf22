//! What a job run fetches: the planned items (and chunks of long byte ranges) the store lacks,
//! and how a fetched body longer than a chunk is cut for storing.

use super::sea;
use crate::ports::{Body, NewSegment};
use crate::progress::Held;
use mpd::Plan;
use std::collections::HashMap;

/// One request: a whole segment, or one chunk of a long byte range.
#[derive(Clone)]
pub(super) struct Unit {
    pub(super) track: String,
    pub(super) index: u32,
    pub(super) chunk: u32,
    /// Chunks of the segment; 1 for a segment fetched whole (split after the fetch when it is
    /// longer than a chunk).
    pub(super) chunks: u32,
    pub(super) url: String,
    pub(super) range: Option<[u64; 2]>,
    /// The same segment under the track's other BaseURLs, tried when `url` keeps failing.
    pub(super) alternates: Vec<String>,
    /// Segment encryption of the body: decrypted after the fetch, before it is stored.
    pub(super) encryption: Option<mpd::SegmentEncryption>,
    /// Where the segment starts on the presentation timeline, seconds (`-inf` for an init
    /// segment, which every segment of its track needs first): the order near the playhead.
    pub(super) start: f64,
    /// Where it ends (`-inf` for an init segment).
    pub(super) end: f64,
}

/// Where item `index` of `track` starts and ends on the presentation timeline (`-inf` for the
/// init).
fn span_of(plan: &Plan, track: &str, index: u32) -> (f64, f64) {
    let media = index
        .checked_sub(1)
        .and_then(|k| usize::try_from(k).ok())
        .and_then(|k| {
            let t = plan.tracks.iter().find(|t| t.key == track)?;
            t.segments.get(k)
        });
    media.map_or((f64::NEG_INFINITY, f64::NEG_INFINITY), |s| (s.start, s.end))
}

/// The one unit that fetches planned item `index` of `track` whole (split for storing after
/// the fetch, as a segment fetched whole by the job is), for playback of an item the store lacks.
pub(super) fn whole_item(plan: &Plan, track: &str, index: u32) -> Option<Unit> {
    let i = plan
        .items()
        .find(|i| i.track == track && i.index == index)?;
    let (start, end) = span_of(plan, track, index);
    Some(Unit {
        track: track.to_string(),
        index,
        chunk: 0,
        chunks: 1,
        url: i.url.to_string(),
        range: i.range,
        alternates: alternates_of(plan, i.track, i.url),
        encryption: i.encryption.cloned(),
        start,
        end,
    })
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

/// What is left to fetch, in presentation order: every planned item, or chunk of one, that the
/// store lacks. A byte
/// range out of bounds (the planner refuses those, but a plan is also read back from storage) or
/// needing more than [`MAX_CHUNKS_PER_ITEM`] chunks is an error (the item's URL, the message),
/// never an overflow or an allocation without bound.
pub(super) fn units_to_fetch(
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
        let (start, end) = span_of(plan, i.track, i.index);
        let unit = |c: u32, n: u32, range: Option<[u64; 2]>| Unit {
            start,
            end,
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
    // In presentation order across tracks (every init first, then audio and video side by
    // side): what is stored at any moment is a playable start of the title, and the player of
    // an entry still downloading finds the segments it needs next.
    todo.sort_by(|a, b| a.start.total_cmp(&b.start));
    Ok(todo)
}

/// A segment fetched whole but longer than a chunk is stored as several slices, all in one
/// transaction (so it is still stored whole or not at all).
pub(super) fn split<B: Body>(s: NewSegment<B>, chunk: u64) -> Vec<NewSegment<B>> {
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
