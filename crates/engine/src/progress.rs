//! Progress accounting, always derived from what the store holds.
//!
//! Plans and stored chunks are read back from storage: no sum or count here may wrap.
#![cfg_attr(
    not(test),
    warn(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)
)]

use crate::ports::StoredSegment;
use crate::protocol::ProgressDetail;
use mpd::{Plan, TrackPlan};
use std::collections::HashMap;

/// Expected bytes of an init segment whose size is not known yet.
const INIT_ESTIMATE: u64 = 1024;

/// Expected bytes of item `index` of `track` before it is stored (0 is the init segment): the
/// byte range's length where the manifest gives one (exact), else bandwidth × duration. A range
/// whose length does not fit 64 bits (refused by the planner; the job stops on it) counts as
/// `u64::MAX`, and every sum below saturates, so no stored plan can make the totals wrap.
pub fn estimate(track: &TrackPlan, index: u32) -> u64 {
    let len = |r: [u64; 2]| mpd::range_len(r).unwrap_or(u64::MAX);
    match index {
        0 => track
            .init
            .as_ref()
            .and_then(|i| i.range)
            .map_or(INIT_ESTIMATE, len),
        k => track
            .segments
            // `k` is at least 1 here.
            .get(k.saturating_sub(1) as usize)
            .map_or(0, |s| match s.range {
                Some(r) => len(r),
                #[allow(
                    clippy::cast_possible_truncation,
                    reason = "an estimate: a float-to-integer `as` saturates (NaN gives 0)"
                )]
                None => (track.bandwidth as f64 / 8.0 * (s.end - s.start)).max(0.0) as u64,
            }),
    }
}

/// What the store holds of one item: bytes, chunks present, and chunks it needs.
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// Bytes stored.
    pub bytes: u64,
    /// Chunks the item has in all.
    pub of: u32,
    /// Which chunk numbers are stored.
    pub stored: Vec<u32>,
}

impl Held {
    /// Every chunk of the item is stored.
    pub fn complete(&self) -> bool {
        self.of > 0 && self.stored.len() >= self.of as usize
    }

    /// Counts one more stored chunk (`chunk` of `chunks`, `size` bytes).
    pub fn add(&mut self, chunk: u32, chunks: u32, size: u64) {
        self.bytes = self.bytes.saturating_add(size);
        self.of = self.of.max(chunks.max(1));
        self.stored.push(chunk);
    }
}

/// Groups stored chunks by item.
pub fn held(stored: &[StoredSegment]) -> HashMap<(&str, u32), Held> {
    let mut map: HashMap<(&str, u32), Held> = HashMap::new();
    for s in stored {
        map.entry((s.track.as_str(), s.index))
            .or_default()
            .add(s.chunk, s.chunks, s.size);
    }
    map
}

/// Bytes and items stored versus planned.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    /// Bytes stored.
    pub bytes_done: u64,
    /// Expected total bytes: stored sizes plus estimates for what is missing.
    pub bytes_total: u64,
    /// Items stored.
    pub items_done: u64,
    /// Items planned.
    pub items_total: u64,
}

impl Totals {
    /// Computes totals of `plan` from the stored segments.
    pub fn of(plan: &Plan, stored: &[StoredSegment]) -> Totals {
        Totals::from_held(plan, &held(stored))
    }

    /// Computes totals of `plan` from stored chunks already grouped by item.
    pub fn from_held(plan: &Plan, have: &HashMap<(&str, u32), Held>) -> Totals {
        let mut t = Totals::default();
        for track in &plan.tracks {
            // A shared init is counted once, under the track that stores it.
            let first = if track.stores_init() { 0 } else { 1 };
            let last = u32::try_from(track.segments.len()).unwrap_or(u32::MAX);
            for index in first..=last {
                t.items_total = t.items_total.saturating_add(1);
                let h = have
                    .get(&(track.key.as_str(), index))
                    .cloned()
                    .unwrap_or_default();
                t.bytes_done = t.bytes_done.saturating_add(h.bytes);
                let expected = if h.complete() {
                    t.items_done = t.items_done.saturating_add(1);
                    h.bytes
                } else {
                    estimate(track, index).max(h.bytes)
                };
                t.bytes_total = t.bytes_total.saturating_add(expected);
            }
        }
        t
    }

    /// Moves one item from `before` to `after` (after a commit), without re-reading the store.
    pub fn apply(&mut self, track: &TrackPlan, index: u32, before: &Held, after: &Held) {
        let expected = |h: &Held| {
            if h.complete() {
                h.bytes
            } else {
                estimate(track, index).max(h.bytes)
            }
        };
        self.bytes_done = self
            .bytes_done
            .saturating_sub(before.bytes)
            .saturating_add(after.bytes);
        self.bytes_total = self
            .bytes_total
            .saturating_sub(expected(before))
            .saturating_add(expected(after));
        if after.complete() && !before.complete() {
            self.items_done = self.items_done.saturating_add(1);
        }
    }

    /// 0–100, by bytes (by items when sizes are unknown), 100 only when every item is stored.
    pub fn percent(&self) -> f64 {
        if self.items_total == 0 {
            return 0.0;
        }
        if self.items_done == self.items_total {
            return 100.0;
        }
        let p = if self.bytes_total > 0 {
            self.bytes_done as f64 * 100.0 / self.bytes_total as f64
        } else {
            self.items_done as f64 * 100.0 / self.items_total as f64
        };
        (p * 100.0).round().min(9999.0) / 100.0
    }

    /// The event detail, with speed and ETA.
    pub fn detail(&self, entry_id: &str, speed: f64) -> ProgressDetail {
        let remaining = self.bytes_total.saturating_sub(self.bytes_done) as f64;
        ProgressDetail {
            entry_id: entry_id.to_string(),
            progress: self.percent(),
            bytes_downloaded: self.bytes_done,
            total_bytes: self.bytes_total,
            segments_done: self.items_done,
            segments_total: self.items_total,
            speed,
            eta: (speed > 0.0).then(|| (remaining / speed * 10.0).round() / 10.0),
        }
    }
}
