//! The download plan: every segment of every selected track, and the local manifest for them.

use crate::error::MpdError;
use crate::model::{Manifest, TrackKind};
pub use crate::segments::init_key;
use crate::segments::{
    enumerate, index_location, sidx_key, sidx_needs, webm_init_location, IndexBytes, InitSegment,
    Segment,
};
use crate::select::{select, SelectOptions};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use url::Url;

/// The key of representation `ri` of AdaptationSet `ai` of Period `pi`: `p{pi}a{ai}r{ri}`, the
/// track's name in plans, stored records and local URLs.
pub fn track_key(pi: usize, ai: usize, ri: usize) -> String {
    format!("p{pi}a{ai}r{ri}")
}

/// What to download for one entry. Stored with the entry so a resumed job needs no network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The manifest's final URL.
    pub manifest_url: String,
    /// Presentation duration in seconds.
    pub duration: Option<f64>,
    /// Selected tracks.
    pub tracks: Vec<TrackPlan>,
    /// Expected total bytes (exact where sizes are known, bandwidth × duration otherwise).
    pub estimated_bytes: u64,
}

/// One selected representation and its segments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackPlan {
    /// Key of the track in the manifest (`p0a1r0`); also its folder in local URLs.
    pub key: String,
    /// Period index.
    pub period: usize,
    /// Track kind.
    pub kind: TrackKind,
    /// `Representation@id`.
    pub id: String,
    /// Bits per second.
    pub bandwidth: u64,
    /// MIME type to serve its segments with.
    pub mime_type: String,
    /// Codecs string.
    pub codecs: String,
    /// Language, if any.
    pub lang: Option<String>,
    /// Height in pixels for video.
    pub height: Option<u32>,
    /// Timescale of the segments' `t`/`d`.
    pub timescale: u64,
    /// Presentation time offset.
    pub pto: u64,
    /// Initialisation segment (stored at index 0, unless `init_from` names another track).
    pub init: Option<InitSegment>,
    /// The key of an earlier track of the plan whose init segment is the same (URL, byte range
    /// and segment encryption): the init is fetched and stored once, at index 0 of that track,
    /// and this track's local manifest points at it. `None` in plans written before init
    /// segments were shared, which store every track's init themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<String>,
    /// Media segments (stored at index 1..=n).
    pub segments: Vec<Segment>,
    /// Roles, label, frame rate, protection, tiles.
    #[serde(default)]
    pub info: crate::describe::TrackInfo,
    /// The base URL segment URLs were resolved against, and alternatives serving the same
    /// content: a segment URL starting with `base_urls[0]` can be retried under any other.
    #[serde(default)]
    pub base_urls: Vec<String>,
    /// DASH segment encryption (AES-128-CBC) of the init and media segments: the job decrypts
    /// each after fetching it and stores the clear bytes. The byte ranges and the estimate
    /// above are of the encrypted bytes; a stored segment is 1–16 bytes (its padding) shorter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<crate::sea::SegmentEncryption>,
}

impl Plan {
    /// Number of stored items (init + media) the plan expects.
    pub fn item_count(&self) -> usize {
        self.tracks
            .iter()
            .map(|t| {
                t.segments
                    .len()
                    .saturating_add(usize::from(t.stores_init()))
            })
            .sum()
    }

    /// Every item as (track key, index, url, range): init at index 0, media from 1.
    pub fn items(&self) -> impl Iterator<Item = PlanItem<'_>> {
        self.tracks.iter().flat_map(|t| {
            let own_init = t.init.as_ref().filter(|_| t.init_from.is_none());
            let init = own_init.into_iter().map(move |i| PlanItem {
                track: &t.key,
                index: 0,
                url: &i.url,
                range: i.range,
                encryption: t.encryption.as_ref(),
            });
            let media = t.segments.iter().enumerate().map(move |(k, s)| PlanItem {
                track: &t.key,
                index: u32::try_from(k).map_or(u32::MAX, |k| k.saturating_add(1)),
                url: &s.url,
                range: s.range,
                encryption: t.encryption.as_ref(),
            });
            init.chain(media)
        })
    }
}

impl TrackPlan {
    /// Whether this track's init segment is fetched and stored under its own key (index 0):
    /// it has one and shares no earlier track's.
    pub fn stores_init(&self) -> bool {
        self.init.is_some() && self.init_from.is_none()
    }

    /// The key of the track whose index 0 holds this track's init segment, if it has one.
    pub fn init_track(&self) -> Option<&str> {
        self.init
            .as_ref()
            .map(|_| self.init_from.as_deref().unwrap_or(&self.key))
    }
}

/// Points every track whose init segment (URL, byte range, encryption) equals an earlier
/// track's at that track (`init_from`), so the plan stores it once: periods of one stream, and
/// representations packaged with one init, often share it.
fn share_inits(tracks: &mut [TrackPlan]) {
    let mut first: HashMap<(String, Option<[u64; 2]>), usize> = HashMap::new();
    for i in 0..tracks.len() {
        let Some(init) = &tracks[i].init else {
            continue;
        };
        let id = (init.url.clone(), init.range);
        match first.get(&id) {
            Some(&owner) if tracks[owner].encryption == tracks[i].encryption => {
                tracks[i].init_from = Some(tracks[owner].key.clone());
            }
            Some(_) => {}
            None => {
                first.insert(id, i);
            }
        }
    }
}

/// One thing to fetch and store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanItem<'a> {
    /// Track key.
    pub track: &'a str,
    /// 0 for init, 1.. for media segments.
    pub index: u32,
    /// Absolute URL.
    pub url: &'a str,
    /// Inclusive byte range.
    pub range: Option<[u64; 2]>,
    /// How the fetched bytes are encrypted, if they are.
    pub encryption: Option<&'a crate::sea::SegmentEncryption>,
}

/// A track's index to fetch before planning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexNeed {
    /// The key to give [`Planner::finish`] the bytes under: the track key for the index,
    /// [`init_key`] of it for a WebM track's init bytes, which its Cues need too, and
    /// [`crate::segments::sidx_key`] of it for bytes of a hierarchical `sidx`.
    pub key: String,
    /// The file holding the index.
    pub url: String,
    /// Inclusive byte range of the index; `None` for a whole file (a `SegmentTemplate@index`
    /// file), which the fetcher caps at [`crate::MAX_INDEX_FILE_BYTES`].
    pub range: Option<[u64; 2]>,
}

/// Plans in steps, because SegmentBase and `SegmentTemplate@index` tracks need their `sidx` bytes: parse and select, let
/// the caller fetch [`Planner::index_needs`] (and, for hierarchical indexes, what
/// [`Planner::pending_index_needs`] lists next, until it lists nothing), then
/// [`Planner::finish`].
#[derive(Debug, Clone)]
pub struct Planner {
    manifest: Manifest,
    url: Url,
    chosen: Vec<String>,
}

impl Planner {
    /// Parses `text` (fetched from `url`) and selects tracks under `options`.
    pub fn new(text: &str, url: &Url, options: &SelectOptions) -> Result<Planner, MpdError> {
        Planner::from_root(crate::xml::parse(text)?, url, options)
    }

    /// Same, for a document already parsed (e.g. with its xlinks resolved by
    /// [`crate::xlink::Xlinks`]).
    pub fn from_root(
        root: crate::xml::Element,
        url: &Url,
        options: &SelectOptions,
    ) -> Result<Planner, MpdError> {
        Planner::from_manifest(Manifest::from_root(root, url)?, url, options)
    }

    /// Same, for a manifest already modelled.
    pub fn from_manifest(
        manifest: Manifest,
        url: &Url,
        options: &SelectOptions,
    ) -> Result<Planner, MpdError> {
        if manifest.tracks().next().is_none() {
            return Err(MpdError::NoTracks);
        }
        let chosen: Vec<String> = select(&manifest, options)
            .iter()
            .map(|t| t.key.clone())
            .collect();
        let has_media = manifest.tracks().any(|(_, t)| {
            chosen.contains(&t.key)
                && (options.all || matches!(t.kind, TrackKind::Video | TrackKind::Audio))
        });
        if !has_media {
            return Err(MpdError::NothingSelected);
        }
        Ok(Planner {
            manifest,
            url: url.clone(),
            chosen,
        })
    }

    /// The parsed manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The parsed manifest and its URL, given back for another selection without parsing the
    /// manifest again.
    pub fn into_manifest(self) -> (Manifest, Url) {
        (self.manifest, self.url)
    }

    /// The indexes to fetch before [`Planner::finish`]: an MP4 track's `sidx` range; a WebM
    /// track's Cues range and its (small) init range; the whole file a `SegmentTemplate@index`
    /// names. A hierarchical `sidx` needs more, listed by [`Planner::pending_index_needs`] once
    /// these are fetched. A track whose index URL cannot be built is left out here; planning it
    /// fails with the reason.
    pub fn index_needs(&self) -> Vec<IndexNeed> {
        self.selected()
            .flat_map(|(_, t)| first_needs(t).unwrap_or_default())
            .collect()
    }

    /// What is still to fetch given the bytes in `indexes`: the first needs not fetched yet,
    /// then the boxes hierarchical `sidx`es reference, a level deeper each round (at most
    /// [`crate::sidx_tree::MAX_SIDX_DEPTH`] rounds after the first). The caller fetches them
    /// into `indexes` and asks again until nothing is left, then calls [`Planner::finish`]. An
    /// index that is unusable, or over the caps, is an error here already.
    pub fn pending_index_needs(
        &self,
        indexes: &HashMap<String, Vec<u8>>,
    ) -> Result<Vec<IndexNeed>, MpdError> {
        let mut out = Vec::new();
        for (_, t) in self.selected() {
            out.extend(
                first_needs(t)?
                    .into_iter()
                    .filter(|n| !indexes.contains_key(&n.key)),
            );
            let url = t.base_url.to_string();
            for range in sidx_needs(t, IndexBytes::new(indexes, &t.key))? {
                out.push(IndexNeed {
                    key: sidx_key(&t.key, range),
                    url: url.clone(),
                    range: Some(range),
                });
            }
        }
        Ok(out)
    }

    fn selected(&self) -> impl Iterator<Item = (&crate::model::Period, &crate::model::Track)> {
        self.manifest
            .tracks()
            .filter(|(_, t)| self.chosen.contains(&t.key))
    }

    /// Builds the plan and the local manifest; `indexes` maps track keys to their index bytes.
    pub fn finish(&self, indexes: &HashMap<String, Vec<u8>>) -> Result<(Plan, String), MpdError> {
        let mut tracks = Vec::with_capacity(self.chosen.len());
        let mut estimated = 0u64;
        for (period, track) in self.selected() {
            let segs = enumerate(period, track, IndexBytes::new(indexes, &track.key))?;
            let seconds: f64 = segs.media.iter().map(|s| s.end - s.start).sum();
            // Exact when every segment has a range (bounds-checked when parsed); the sum
            // saturates rather than wrap.
            let known: Option<u64> = segs.media.iter().try_fold(0u64, |sum, s| {
                Some(sum.saturating_add(s.range.and_then(crate::byterange::range_len)?))
            });
            #[allow(
                clippy::cast_possible_truncation,
                reason = "an estimate: a float-to-integer `as` saturates (NaN gives 0)"
            )]
            let from_bandwidth = (track.bandwidth as f64 / 8.0 * seconds) as u64;
            estimated = estimated.saturating_add(known.unwrap_or(from_bandwidth));
            tracks.push(TrackPlan {
                key: track.key.clone(),
                period: period.index,
                kind: track.kind,
                id: track.id.clone(),
                bandwidth: track.bandwidth,
                mime_type: track.mime_type.clone(),
                codecs: track.codecs.clone(),
                lang: track.lang.clone(),
                height: track.height,
                timescale: segs.timescale,
                pto: segs.pto,
                init: segs.init,
                init_from: None,
                segments: segs.media,
                info: track.info.clone(),
                base_urls: std::iter::once(&track.base_url)
                    .chain(&track.alternate_base_urls)
                    .map(|u| u.to_string())
                    .collect(),
                encryption: track.encryption.clone(),
            });
        }
        share_inits(&mut tracks);
        let plan = Plan {
            manifest_url: self.url.to_string(),
            duration: self.manifest.duration,
            tracks,
            estimated_bytes: estimated,
        };
        let local = crate::local::local_manifest(&self.manifest, &plan);
        Ok((plan, local))
    }
}

/// The first indexes a track needs: a SegmentBase track's index range or a
/// `SegmentTemplate@index` file, and a WebM SegmentBase track's init.
fn first_needs(t: &crate::model::Track) -> Result<Vec<IndexNeed>, MpdError> {
    let index = index_location(t)?.map(|(url, range)| IndexNeed {
        key: t.key.clone(),
        url,
        range,
    });
    let init = webm_init_location(t).map(|(url, range)| IndexNeed {
        key: init_key(&t.key),
        url,
        range: Some(range),
    });
    Ok(index.into_iter().chain(init).collect())
}

/// Plans a manifest that needs no index fetching (SegmentBase and `SegmentTemplate@index`
/// tracks fail with
/// [`MpdError::IndexNeeded`]); returns the plan and the local manifest text.
pub fn plan_manifest(
    text: &str,
    url: &Url,
    options: &SelectOptions,
) -> Result<(Plan, String), MpdError> {
    Planner::new(text, url, options)?.finish(&HashMap::new())
}
