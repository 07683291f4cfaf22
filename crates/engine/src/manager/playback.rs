//! Playing an entry while it downloads (or while it is paused): a segment the store lacks is
//! fetched from its origin with the download's rules, given to the player and stored once, and
//! the running job, told where the player is, fetches just ahead of it first and skips what
//! playback stored.

use super::Manager;
use crate::error::{Code, KalturaError};
use crate::job::{ClaimedBy, Claims, ItemFetch, JobConfig, JobError, RedirectPolicy};
use crate::ports::{Body, Fetcher, Host, NewSegment, Store};
use crate::progress::Totals;
use crate::protocol::Event;
use std::rc::Rc;

/// The longest a playback request waits for another fetch of the same segment, in ms.
const FETCH_WAIT_MS: u32 = 20_000;
/// How often it looks, in ms.
const FETCH_POLL_MS: u32 = 50;

/// What a request for a segment the store lacked gets.
pub enum Playback<B> {
    /// The bytes, fetched now (and stored, when the disk took them), with their MIME type.
    Fetched {
        /// The whole segment.
        body: B,
        /// The track's MIME type.
        content_type: String,
    },
    /// The job was fetching it and has stored it since: read it from the store.
    Stored,
}

/// An HTTP status and the error it carries, for a segment playback could not have.
pub type PlaybackError = (u16, KalturaError);

impl<F: Fetcher, S: Store<F::Body>, H: Host> Manager<F, S, H> {
    /// Item `index` of `track` of an entry that has a plan, for a player, when the store lacks
    /// it. When the download job or another request is fetching the same item, waits for it,
    /// and when the job stored it since the caller looked, answers at once (`Stored`, unless
    /// `after_wait`: the caller found it still missing after such an answer, so it is fetched
    /// now).
    /// Offline or failing, the answer is the HTTP error a player retries (504, or the origin's
    /// status), never a hang.
    pub async fn playback_segment(
        self: &Rc<Self>,
        id: &str,
        track: &str,
        index: u32,
        after_wait: bool,
    ) -> Result<Playback<F::Body>, PlaybackError> {
        let entry = self.entry(id).await.map_err(|e| (404, e))?;
        let not_stored = |why: &str| {
            (
                404,
                KalturaError::new(
                    Code::RequestedItemNotFound,
                    format!("segment {track}/{index} of entry {id} is not stored: {why}"),
                    Some(id),
                ),
            )
        };
        let Some(plan) = entry.plan.as_ref() else {
            return Err(not_stored(
                "the entry has no download plan yet; call download first",
            ));
        };
        let policy = RedirectPolicy::new(
            plan,
            entry
                .options
                .redirect_origins
                .as_deref()
                .unwrap_or_default(),
        );
        let items = ItemFetch {
            entry_id: id,
            plan,
            policy: &policy,
            fetcher: &*self.fetcher,
            host: &*self.host,
            cfg: JobConfig {
                max_attempts: 2,
                ..self.cfg
            },
        };
        let Some(item) = items.item(track, index) else {
            return Err(not_stored("the download plan has no such segment"));
        };
        let claims = self.claims(id);
        claims.set_playhead(item.start());
        if !after_wait {
            // Stored since the caller looked (the job's commit landed in between): read it.
            if claims.stored(track, index) {
                return Ok(Playback::Stored);
            }
            // The job, or an earlier request of the player (one it gave up on and asked
            // again), is fetching it: it reaches the server once, and this request reads it
            // from the store once it is there.
            if claims.fetching(track, index).is_some() {
                let mut waited = 0;
                while claims.fetching(track, index).is_some() && waited < FETCH_WAIT_MS {
                    self.host.sleep(FETCH_POLL_MS).await;
                    waited += FETCH_POLL_MS;
                }
                return Ok(Playback::Stored);
            }
        }
        // Stored only by the request that claims it: one that found the segment still missing
        // after such a wait (the disk was full) gets the bytes too, and stores nothing.
        let claimed = claims.claim(track, index, ClaimedBy::Playback);
        let answer = match items.fetch(item).await {
            Ok(fetched) => {
                if claimed {
                    self.store_played(id, plan, &claims, track, index, fetched.records)
                        .await;
                }
                let content_type = plan
                    .tracks
                    .iter()
                    .find(|t| t.key == track)
                    .map(|t| t.mime_type.clone())
                    .unwrap_or_default();
                Ok(Playback::Fetched {
                    body: fetched.body,
                    content_type,
                })
            }
            Err(e) => Err(playback_error(e)),
        };
        if claimed {
            claims.release(track, index);
        }
        answer
    }

    /// Stores what playback fetched, whole or nothing as the job stores (a full disk stores
    /// nothing, and the player still has the bytes); tells the job and the pages.
    async fn store_played(
        &self,
        id: &str,
        plan: &mpd::Plan,
        claims: &Claims,
        track: &str,
        index: u32,
        records: Vec<NewSegment<F::Body>>,
    ) {
        let sizes: Vec<(u32, u32, u64)> = records
            .iter()
            .map(|r| (r.chunk, r.chunks, r.body.size()))
            .collect();
        if self.store.put_segments(id, records).await.is_ok() {
            claims.stored_by_playback(track, index, &sizes);
            if let Ok(stored) = self.store.stored_segments(id).await {
                let totals = Totals::of(plan, &stored);
                self.host.emit(Event::Progress(totals.detail(id, 0.0)));
            }
        }
    }

    /// The local manifest `local` of an entry cut to what is stored (each track to its media
    /// segments stored from the start without a gap, its init stored too). 9003 while a track
    /// has nothing stored yet.
    pub async fn stored_only_manifest(
        &self,
        id: &str,
        local: &str,
    ) -> Result<String, KalturaError> {
        let entry = self.entry(id).await?;
        let nothing = || {
            KalturaError::new(
                Code::RequestedItemNotFound,
                format!("entry {id} has no playable start stored yet; play it with the full local manifest, or wait for its progress events"),
                Some(id),
            )
            .recoverable()
        };
        let Some(plan) = entry.plan.as_ref() else {
            return Err(nothing());
        };
        let stored = self
            .store
            .stored_segments(id)
            .await
            .map_err(|e| e.to_kaltura(Some(id)))?;
        let held = crate::progress::held(&stored);
        let complete =
            |track: &str, index: u32| held.get(&(track, index)).is_some_and(|h| h.complete());
        let counts = plan
            .tracks
            .iter()
            .map(|t| {
                let init = t.init_track().is_none_or(|owner| complete(owner, 0));
                let media = (1..)
                    .take(t.segments.len())
                    .take_while(|i| complete(&t.key, *i))
                    .count();
                (t.key.clone(), if init { media } else { 0 })
            })
            .collect();
        mpd::stored_only::stored_only(local, plan, &counts)
            .map_err(|e| super::planning::plan_error(id, e))?
            .ok_or_else(nothing)
    }
}

/// A failed fetch as the player sees it: a network failure is a 504 (the player retries), an
/// origin's HTTP error is that status.
fn playback_error(e: JobError) -> PlaybackError {
    match e {
        JobError::Network(k) | JobError::Quota(k) | JobError::Fatal(k) => {
            let status = k
                .data
                .get("status")
                .and_then(serde_json::Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| *s >= 400)
                .unwrap_or(504);
            (status, k)
        }
    }
}
