//! Progress accounting, always derived from what the store holds.

use crate::ports::StoredSegment;
use crate::protocol::ProgressDetail;
use mpd::{Plan, TrackPlan};
use std::collections::HashMap;

/// Expected bytes of an init segment whose size is not known yet.
const INIT_ESTIMATE: u64 = 1024;

/// Expected bytes of item `index` of `track` before it is stored (0 is the init segment):
/// bandwidth × duration for media segments.
pub fn estimate(track: &TrackPlan, index: u32) -> u64 {
    match index {
        0 => INIT_ESTIMATE,
        k => track.segments.get(k as usize - 1).map_or(0, |s| {
            (track.bandwidth as f64 / 8.0 * (s.end - s.start)).max(0.0) as u64
        }),
    }
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
        let have: HashMap<(&str, u32), u64> = stored
            .iter()
            .map(|s| ((s.track.as_str(), s.index), s.size))
            .collect();
        let mut t = Totals::default();
        for track in &plan.tracks {
            let first = if track.init.is_some() { 0 } else { 1 };
            for index in first..=track.segments.len() as u32 {
                t.items_total += 1;
                match have.get(&(track.key.as_str(), index)) {
                    Some(size) => t.add_done(*size),
                    None => t.bytes_total += estimate(track, index),
                }
            }
        }
        t
    }

    fn add_done(&mut self, size: u64) {
        self.items_done += 1;
        self.bytes_done += size;
        self.bytes_total += size;
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
