//! What a download job and playback of the same entry share while both run: which items either
//! is fetching (so neither fetches one the other has in hand), which items either stored (the
//! job skips what playback stored; playback reads from the store what the job stored after the
//! player found it missing), and where the player is (the job fetches just ahead of it first).

use super::units::Unit;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet, VecDeque};

/// Seconds ahead of the playhead the job fetches first.
pub const AHEAD_SECONDS: f64 = 60.0;

/// Who is fetching an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetcher {
    /// The download job (until the commit that stores it).
    Job,
    /// A playback request (until it is stored or failed).
    Playback,
}

/// What a commit stored: (track, index, chunk, chunks, bytes).
pub type Committed = (String, u32, u32, u32, u64);

/// The shared state of one entry. Items are looked up by track, then index, so that a lookup
/// from the job's per-unit path allocates nothing.
#[derive(Debug, Default)]
pub struct Claims {
    busy: RefCell<HashMap<String, HashMap<u32, Fetcher>>>,
    /// Items stored whole, by playback or by the job.
    stored: RefCell<HashMap<String, HashSet<u32>>>,
    /// Playback stored something the job's queue may still hold.
    stored_since_pick: Cell<bool>,
    /// What playback stored that the running job has not counted yet.
    uncounted: RefCell<Vec<Committed>>,
    playhead: Cell<Option<f64>>,
}

impl Claims {
    /// Who is fetching item `index` of `track`, if anyone.
    pub fn fetching(&self, track: &str, index: u32) -> Option<Fetcher> {
        self.busy
            .borrow()
            .get(track)
            .and_then(|items| items.get(&index))
            .copied()
    }

    /// Marks an item as being fetched by `who`; false when someone else already is.
    pub fn claim(&self, track: &str, index: u32, who: Fetcher) -> bool {
        let mut busy = self.busy.borrow_mut();
        let items = busy.entry(track.to_string()).or_default();
        *items.entry(index).or_insert(who) == who
    }

    /// The item is no longer being fetched (stored, or failed).
    pub fn release(&self, track: &str, index: u32) {
        if let Some(items) = self.busy.borrow_mut().get_mut(track) {
            items.remove(&index);
        }
    }

    /// Releases every item the job holds (its run ended, however it ended).
    pub fn release_job(&self) {
        for items in self.busy.borrow_mut().values_mut() {
            items.retain(|_, who| *who != Fetcher::Job);
        }
    }

    /// Playback stored the item (its records: chunk, chunks, bytes): the job does not fetch it
    /// again, and counts it in its progress.
    pub fn stored_by_playback(&self, track: &str, index: u32, records: &[(u32, u32, u64)]) {
        self.stored
            .borrow_mut()
            .entry(track.to_string())
            .or_default()
            .insert(index);
        self.stored_since_pick.set(true);
        self.uncounted.borrow_mut().extend(
            records
                .iter()
                .map(|&(chunk, chunks, size)| (track.to_string(), index, chunk, chunks, size)),
        );
    }

    /// The job stored the whole item: a player that found it missing just before reads it
    /// from the store instead of fetching it again.
    pub fn stored_by_job(&self, track: &str, index: u32) {
        self.stored
            .borrow_mut()
            .entry(track.to_string())
            .or_default()
            .insert(index);
    }

    /// Whether the job or playback stored the whole item since this entry was planned.
    pub fn stored(&self, track: &str, index: u32) -> bool {
        self.stored
            .borrow()
            .get(track)
            .is_some_and(|items| items.contains(&index))
    }

    /// What playback stored since the last call.
    pub fn take_stored_by_playback(&self) -> Vec<Committed> {
        std::mem::take(&mut *self.uncounted.borrow_mut())
    }

    /// The player asked for a segment starting at `seconds`.
    pub fn set_playhead(&self, seconds: f64) {
        if seconds.is_finite() {
            self.playhead.set(Some(seconds));
        }
    }

    /// Where the player last asked, in seconds.
    pub fn playhead(&self) -> Option<f64> {
        self.playhead.get()
    }

    /// Takes the next unit the job should fetch from `queue`, which is in presentation order
    /// (by start): the first unit that ends after the playhead and starts less than
    /// [`AHEAD_SECONDS`] after it (so the segment of every track the playhead falls in, then
    /// what follows), else the first. Units of items playback stored are dropped; units of
    /// items playback is fetching are left for later. `None` when every unit left waits on
    /// playback (`queue` is then not empty) or there is none.
    pub(super) fn next_unit(&self, queue: &mut VecDeque<Unit>) -> Option<Unit> {
        if self.stored_since_pick.replace(false) {
            let stored = self.stored.borrow();
            queue.retain(|u| !stored.get(&u.track).is_some_and(|s| s.contains(&u.index)));
        }
        let free = |u: &Unit| self.fetching(&u.track, u.index) != Some(Fetcher::Playback);
        let near = self.playhead().and_then(|at| {
            queue
                .iter()
                .take_while(|u| u.start < at + AHEAD_SECONDS)
                .position(|u| u.end > at && free(u))
        });
        let at = near.or_else(|| queue.iter().position(free))?;
        let unit = queue.remove(at)?;
        self.claim(&unit.track, unit.index, Fetcher::Job);
        Some(unit)
    }
}
