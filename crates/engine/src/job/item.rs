//! One planned item fetched on its own, outside a job run: what playback of an entry that is
//! still downloading asks for when the store lacks a segment. The download's rules hold (the
//! redirect policy, the size a byte range must have, the track's other BaseURLs, segment
//! decryption), and the body comes back with the records to store it as.

use super::units::{split, whole_item, Unit};
use super::{fetch_error, fetch_with_retry, sea, JobConfig, JobError, RedirectPolicy};
use crate::ports::{Fetcher, Host, NewSegment};
use mpd::Plan;

/// Fetches items of one entry's plan.
pub struct ItemFetch<'a, F, H> {
    /// The entry.
    pub entry_id: &'a str,
    /// Its plan.
    pub plan: &'a Plan,
    /// Where its requests may be redirected.
    pub policy: &'a RedirectPolicy,
    /// The network.
    pub fetcher: &'a F,
    /// The host (clock, online state).
    pub host: &'a H,
    /// Attempts, backoff and chunk size.
    pub cfg: JobConfig,
}

/// A planned item to fetch on its own: found once in the plan, then fetched.
pub struct PlannedItem(Unit);

impl PlannedItem {
    /// Where the item starts on the presentation timeline, seconds (`-inf` for an init).
    pub fn start(&self) -> f64 {
        self.0.start
    }
}

/// A fetched item: its bytes, and the records that store it (one, or chunks of a long one).
pub struct FetchedItem<B> {
    /// The whole item, as the player gets it.
    pub body: B,
    /// What to store.
    pub records: Vec<NewSegment<B>>,
}

impl<F: Fetcher, H: Host> ItemFetch<'_, F, H> {
    /// Item `index` of `track`, when the plan has it.
    pub fn item(&self, track: &str, index: u32) -> Option<PlannedItem> {
        whole_item(self.plan, track, index).map(PlannedItem)
    }

    /// Fetches an item whole.
    pub async fn fetch(&self, item: PlannedItem) -> Result<FetchedItem<F::Body>, JobError> {
        let mut unit = item.0;
        let keys = sea::fetch_keys(
            self.entry_id,
            self.fetcher,
            self.host,
            self.cfg,
            std::slice::from_ref(&unit),
        )
        .await?;
        let encryption = unit.encryption.take();
        let segment = fetch_with_retry(self.fetcher, self.host, self.policy, unit, self.cfg)
            .await
            .map_err(|(url, e)| fetch_error(self.entry_id, &url, e))?;
        let segment = match encryption {
            Some(enc) => sea::decrypt(self.entry_id, self.fetcher, &keys, segment, &enc).await?,
            None => segment,
        };
        let body = segment.body.clone();
        Ok(FetchedItem {
            body,
            records: split(segment, self.cfg.chunk_bytes),
        })
    }
}
