//! Enumerates the init and media segments of one track, as a player would fetch them.

use crate::error::MpdError;
use crate::model::{Addressing, Base, List, ListInit, Period, Template, Timing, Track};
use crate::sidx::SegmentIndex;
use crate::sidx_tree::{resolve_sidx, Resolved};
use crate::template::{expand_into, Vars};
use crate::urls::BaseUrl;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use url::Url;

/// Most segments accepted for one track (a 10-hour stream of 1-second segments has 36,000).
pub const MAX_SEGMENTS_PER_TRACK: u64 = 400_000;

/// A media segment: where it is and when it plays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Absolute URL.
    pub url: String,
    /// Inclusive byte range within the URL, when the segment is part of a larger file.
    pub range: Option<[u64; 2]>,
    /// Start on the presentation timeline, seconds.
    pub start: f64,
    /// End on the presentation timeline, seconds.
    pub end: f64,
    /// Media time (`S@t`) in the track's timescale.
    pub t: u64,
    /// Duration in the track's timescale.
    pub d: u64,
}

/// An initialisation segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitSegment {
    /// Absolute URL.
    pub url: String,
    /// Inclusive byte range, when the init data is part of a larger file.
    pub range: Option<[u64; 2]>,
}

/// The segments of one track, with the timescale their `t`/`d` are in.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackSegments {
    /// Timescale of `t` and `d`.
    pub timescale: u64,
    /// Presentation time offset, timescale units.
    pub pto: u64,
    /// The init segment, if the track has one.
    pub init: Option<InitSegment>,
    /// Media segments in order.
    pub media: Vec<Segment>,
}

/// The file holding a track's index, and the byte range of the index in it (`None`: all of it).
pub type IndexLocation = (String, Option<[u64; 2]>);

/// Where a track's index is, so the caller can fetch it before planning: a SegmentBase track's
/// `indexRange` of its file, or the whole file a `SegmentTemplate@index` names (range `None`).
pub fn index_location(track: &Track) -> Result<Option<IndexLocation>, MpdError> {
    match &track.addressing {
        Addressing::Base(Base {
            index_range: Some(r),
            ..
        }) => Ok(Some((track.base_url.to_string(), Some(*r)))),
        Addressing::Template(t) => crate::index_template::index_url(track, t)
            .transpose()
            .map(|u| u.map(|u| (u, None))),
        _ => Ok(None),
    }
}

/// True when a track's mimeType says WebM: its SegmentBase index is a `Cues` element, which
/// also needs the init bytes (see [`webm_init_location`]).
pub fn is_webm(track: &Track) -> bool {
    let mime = track.mime_type.to_ascii_lowercase();
    mime == "video/webm" || mime == "audio/webm"
}

/// Where a WebM SegmentBase track's init bytes are (its `Initialization@range` in the media
/// file): the Cues count cluster positions from the Segment data start these bytes locate, and
/// their `Info` gives the TimecodeScale. `None` for any other track.
pub fn webm_init_location(track: &Track) -> Option<(String, [u64; 2])> {
    match &track.addressing {
        Addressing::Base(Base {
            index_range: Some(_),
            init:
                Some(ListInit {
                    source_url: None,
                    range: Some(r),
                }),
            ..
        }) if is_webm(track) => Some((track.base_url.to_string(), *r)),
        _ => None,
    }
}

/// The key under which a WebM track's init bytes are fetched (track keys never contain `:`).
pub fn init_key(track_key: &str) -> String {
    format!("{track_key}:init")
}

/// The key under which bytes of `range` fetched for a track's hierarchical `sidx` are kept
/// (track keys never contain `@`).
pub fn sidx_key(track_key: &str, [a, b]: [u64; 2]) -> String {
    format!("{track_key}@{a}-{b}")
}

/// The index bytes fetched for one track while planning, out of the map of every track's, by
/// the keys [`crate::plan::IndexNeed::key`] gives.
#[derive(Debug, Clone, Copy)]
pub struct IndexBytes<'a> {
    map: &'a HashMap<String, Vec<u8>>,
    track: &'a str,
}

impl<'a> IndexBytes<'a> {
    /// The bytes of track `track_key` in `map`.
    pub fn new(map: &'a HashMap<String, Vec<u8>>, track_key: &'a str) -> IndexBytes<'a> {
        IndexBytes {
            map,
            track: track_key,
        }
    }

    /// The bytes of the track's `indexRange`.
    pub fn index(&self) -> Option<&'a [u8]> {
        self.map.get(self.track).map(Vec::as_slice)
    }

    /// The bytes of a WebM track's init range.
    pub fn init(&self) -> Option<&'a [u8]> {
        self.map.get(&init_key(self.track)).map(Vec::as_slice)
    }

    /// The bytes fetched for `range` of a hierarchical `sidx`.
    pub fn sidx_range(&self, range: [u64; 2]) -> Option<&'a [u8]> {
        self.map
            .get(&sidx_key(self.track, range))
            .map(Vec::as_slice)
    }
}

/// The byte ranges (in the track's file) an MP4 SegmentBase track still needs once its index
/// bytes are there: the boxes a hierarchical `sidx` references, one level per call (see
/// [`crate::sidx_tree`]). Empty for a flat index, or any other track.
pub fn sidx_needs(track: &Track, fetched: IndexBytes<'_>) -> Result<Vec<[u64; 2]>, MpdError> {
    let (
        Addressing::Base(Base {
            index_range: Some([offset, _]),
            ..
        }),
        Some(bytes),
    ) = (&track.addressing, fetched.index())
    else {
        return Ok(Vec::new());
    };
    if is_webm(track) || crate::webm::looks_like_webm(bytes) {
        return Ok(Vec::new());
    }
    Ok(
        match resolve_sidx(bytes, *offset, |r| fetched.sidx_range(r))? {
            Resolved::Index(_) => Vec::new(),
            Resolved::Needs(ranges) => ranges,
        },
    )
}

/// Lists the segments of `track` within `period`; `fetched` holds the bytes of a SegmentBase
/// track's `indexRange` (see [`index_location`]), those of a WebM track's init range (see
/// [`webm_init_location`]) and those of the boxes a hierarchical `sidx` references (see
/// [`sidx_needs`]).
pub fn enumerate(
    period: &Period,
    track: &Track,
    fetched: IndexBytes<'_>,
) -> Result<TrackSegments, MpdError> {
    match &track.addressing {
        Addressing::Template(t) => match &t.index {
            Some(index) => {
                crate::index_template::segments(period, track, t, index, fetched.index())
            }
            None => template_segments(period, track, t),
        },
        Addressing::List(l) => list_segments(period, track, l),
        Addressing::Base(b) => base_segments(period, track, b, fetched),
        Addressing::SingleFile => {
            let duration = period
                .duration
                .ok_or_else(|| MpdError::NoSegmentInfo(track.id.clone()))?;
            let ts = 1000u64;
            #[allow(
                clippy::cast_possible_truncation,
                reason = "a float-to-integer `as` saturates: a duration past u64 milliseconds is no real period"
            )]
            let d = (duration * ts as f64).round() as u64;
            Ok(TrackSegments {
                timescale: ts,
                pto: 0,
                init: None,
                media: vec![Segment {
                    url: track.base_url.to_string(),
                    range: None,
                    start: period.start,
                    end: period.start + duration,
                    t: 0,
                    d,
                }],
            })
        }
    }
}

/// One slot of a timing: its number, media time and duration.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Slot {
    number: u64,
    t: u64,
    d: u64,
}

/// Expands a SegmentTimeline or `@duration` into slots. `limit` caps the count (SegmentList
/// length); without a timeline or limit the period duration decides. A slot that starts at or
/// after the period end plays nothing and is skipped, as players do.
fn slots(
    period: &Period,
    timing: &Timing,
    limit: Option<u64>,
    id: &str,
) -> Result<Vec<Slot>, MpdError> {
    let ts = timing.timescale as f64;
    let period_end_media = period.duration.map(|d| timing.pto as f64 + d * ts);
    let in_period = |t: u64| period_end_media.is_none_or(|end| (t as f64) < end - 1e-9 * ts);
    let last_number = timing.end_number.unwrap_or(u64::MAX);
    let max = limit
        .unwrap_or(MAX_SEGMENTS_PER_TRACK)
        .min(MAX_SEGMENTS_PER_TRACK);
    let mut out = Vec::new();
    if let Some(timeline) = &timing.timeline {
        let mut number = timing.start_number;
        let mut cursor = 0u64;
        let mut listed = 0u64;
        for (i, s) in timeline.iter().enumerate() {
            if s.d == 0 {
                return Err(MpdError::BadAttribute {
                    element: "S",
                    attr: "d",
                    value: "0".into(),
                });
            }
            let mut time = s.t.unwrap_or(cursor);
            let repeat = if s.r >= 0 {
                s.r as u64
            } else {
                let limit = match i
                    .checked_add(1)
                    .and_then(|n| timeline.get(n))
                    .and_then(|n| n.t)
                {
                    Some(next) => next as f64,
                    None => {
                        period_end_media.ok_or_else(|| MpdError::NoSegmentInfo(id.to_string()))?
                    }
                };
                let count = ((limit - time as f64) / s.d as f64).ceil();
                if count < 1.0 {
                    0
                } else {
                    #[allow(
                        clippy::cast_possible_truncation,
                        clippy::arithmetic_side_effects,
                        reason = "`count` is at least 1 (a larger one saturates, and is refused below)"
                    )]
                    let repeat = count as u64 - 1;
                    repeat
                }
            };
            if repeat >= MAX_SEGMENTS_PER_TRACK {
                return Err(MpdError::TooLarge("segments per track"));
            }
            for _ in 0..=repeat {
                if number > last_number || listed >= max {
                    break;
                }
                if in_period(time) {
                    out.push(Slot {
                        number,
                        t: time,
                        d: s.d,
                    });
                }
                // Below `max`, checked above.
                listed = listed.saturating_add(1);
                number = number.saturating_add(1);
                time = time
                    .checked_add(s.d)
                    .ok_or(MpdError::TooLarge("segment time"))?;
            }
            cursor = time;
        }
        if limit.is_none() && listed >= MAX_SEGMENTS_PER_TRACK {
            return Err(MpdError::TooLarge("segments per track"));
        }
        return Ok(out);
    }
    let d = timing
        .duration
        .filter(|d| *d > 0)
        .ok_or_else(|| MpdError::NoSegmentInfo(id.to_string()))?;
    let count = match (limit, timing.end_number, period.duration) {
        (Some(n), _, _) => n,
        (None, Some(end), _) => end.saturating_sub(timing.start_number).saturating_add(1),
        (None, None, Some(pd)) => {
            let c = (pd * ts / d as f64 - 1e-9).ceil();
            if !(0.0..=MAX_SEGMENTS_PER_TRACK as f64).contains(&c) {
                return Err(MpdError::TooLarge("segments per track"));
            }
            #[allow(
                clippy::cast_possible_truncation,
                reason = "`c` is a whole number in 0..=MAX_SEGMENTS_PER_TRACK, checked above"
            )]
            let c = c as u64;
            c
        }
        (None, None, None) => return Err(MpdError::NoSegmentInfo(id.to_string())),
    };
    if count > MAX_SEGMENTS_PER_TRACK {
        return Err(MpdError::TooLarge("segments per track"));
    }
    #[allow(
        clippy::cast_possible_truncation,
        reason = "`count` is at most MAX_SEGMENTS_PER_TRACK (400 000), checked above"
    )]
    out.reserve(count as usize);
    for k in 0..count {
        let t = k
            .checked_mul(d)
            .and_then(|x| x.checked_add(timing.pto))
            .ok_or(MpdError::TooLarge("segment time"))?;
        if in_period(t) {
            out.push(Slot {
                number: timing.start_number.saturating_add(k),
                t,
                d,
            });
        }
    }
    Ok(out)
}

/// A subsegment of a `sidx` placed on the presentation timeline, in the file at `url`.
pub(crate) fn placed(
    period: &Period,
    timescale: u64,
    pto: u64,
    s: &crate::sidx::Subsegment,
    url: String,
) -> Segment {
    // `place` reads only the times: a sidx numbers nothing.
    let slot = Slot {
        number: 0,
        t: s.t,
        d: s.d,
    };
    place(period, timescale, pto, slot, url, Some(s.range))
}

/// A segment placed on the presentation timeline, its end cut at the period end.
fn place(
    period: &Period,
    timescale: u64,
    pto: u64,
    slot: Slot,
    url: String,
    range: Option<[u64; 2]>,
) -> Segment {
    let ts = timescale as f64;
    let start = period.start + (slot.t as f64 - pto as f64) / ts;
    let mut end = start + slot.d as f64 / ts;
    if let Some(pd) = period.duration {
        end = end.min(period.start + pd);
    }
    Segment {
        url,
        range,
        start,
        end,
        t: slot.t,
        d: slot.d,
    }
}

fn template_segments(
    period: &Period,
    track: &Track,
    t: &Template,
) -> Result<TrackSegments, MpdError> {
    let base = BaseUrl::new(&track.base_url);
    let mut scratch = String::new();
    let mut url_for = |template: &str, number: u64, time: u64| -> Result<String, MpdError> {
        scratch.clear();
        let vars = Vars {
            representation_id: &track.id,
            number: Some(number),
            time: Some(time),
            bandwidth: track.bandwidth,
        };
        expand_into(&mut scratch, template, &vars)?;
        base.join(&scratch)
    };
    let init = match &t.initialization {
        Some(init) => Some(InitSegment {
            url: url_for(init, 0, 0)?,
            range: None,
        }),
        None => None,
    };
    let media_template = t
        .media
        .as_deref()
        .ok_or_else(|| MpdError::NoSegmentInfo(track.id.clone()))?;
    let timing = &t.timing;
    let media = slots(period, timing, None, &track.id)?
        .into_iter()
        .map(|s| {
            Ok(place(
                period,
                timing.timescale,
                timing.pto,
                s,
                url_for(media_template, s.number, s.t)?,
                None,
            ))
        })
        .collect::<Result<_, MpdError>>()?;
    Ok(TrackSegments {
        timescale: timing.timescale,
        pto: timing.pto,
        init,
        media,
    })
}

fn list_segments(period: &Period, track: &Track, l: &List) -> Result<TrackSegments, MpdError> {
    let base = BaseUrl::new(&track.base_url);
    let init = l
        .init
        .as_ref()
        .map(|i| init_segment(track, i))
        .transpose()?;
    let slots = slots(period, &l.timing, Some(l.urls.len() as u64), &track.id)?;
    let media = slots
        .into_iter()
        .zip(&l.urls)
        .map(|(s, u)| {
            let url = match &u.media {
                Some(m) => base.join(m)?,
                None => track.base_url.to_string(),
            };
            Ok(place(
                period,
                l.timing.timescale,
                l.timing.pto,
                s,
                url,
                u.range,
            ))
        })
        .collect::<Result<_, MpdError>>()?;
    Ok(TrackSegments {
        timescale: l.timing.timescale,
        pto: l.timing.pto,
        init,
        media,
    })
}

fn base_segments(
    period: &Period,
    track: &Track,
    b: &Base,
    fetched: IndexBytes<'_>,
) -> Result<TrackSegments, MpdError> {
    let [offset, _] = b
        .index_range
        .ok_or_else(|| MpdError::NoSegmentInfo(track.id.clone()))?;
    let bytes = fetched
        .index()
        .ok_or_else(|| MpdError::IndexNeeded(track.key.clone()))?;
    let sidx = if is_webm(track) || crate::webm::looks_like_webm(bytes) {
        webm_index(period, track, b, bytes, offset, fetched.init())?
    } else {
        match resolve_sidx(bytes, offset, |r| fetched.sidx_range(r))? {
            Resolved::Index(index) => index,
            Resolved::Needs(_) => return Err(MpdError::IndexNeeded(track.key.clone())),
        }
    };
    // The sidx has its own timescale; presentationTimeOffset is in SegmentBase@timescale.
    let pto = pto_in_index(&sidx, b.pto, b.timescale)?;
    let init = b
        .init
        .as_ref()
        .map(|i| init_segment(track, i))
        .transpose()?;
    Ok(indexed(period, sidx, pto, init, track.base_url.as_str()))
}

/// `pto` (presentationTimeOffset in `timescale`) in the timescale of `sidx`, as its times are.
pub(crate) fn pto_in_index(sidx: &SegmentIndex, pto: u64, timescale: u64) -> Result<u64, MpdError> {
    // Two u64 factors: the product fits a u128.
    u128::from(pto)
        .checked_mul(u128::from(sidx.timescale))
        .and_then(|p| p.checked_div(u128::from(timescale.max(1))))
        .and_then(|p| u64::try_from(p).ok())
        .ok_or(MpdError::TooLarge("presentationTimeOffset"))
}

/// The segments of a track indexed by `sidx` (`pto` in its timescale): one per subsegment, each
/// a byte range of the file at `media_url`.
pub(crate) fn indexed(
    period: &Period,
    sidx: SegmentIndex,
    pto: u64,
    init: Option<InitSegment>,
    media_url: &str,
) -> TrackSegments {
    let media = sidx
        .subsegments
        .iter()
        .map(|s| placed(period, sidx.timescale, pto, s, media_url.to_string()))
        .collect();
    TrackSegments {
        timescale: sidx.timescale,
        pto,
        init,
        media,
    }
}

/// The subsegments of a WebM track from its Cues (`bytes` at file offset `offset`) and init
/// bytes.
fn webm_index(
    period: &Period,
    track: &Track,
    b: &Base,
    bytes: &[u8],
    offset: u64,
    init: Option<&[u8]>,
) -> Result<SegmentIndex, MpdError> {
    let Some((_, [init_offset, _])) = webm_init_location(track) else {
        return Err(MpdError::BadIndex(
            "WebM Cues need the Initialization range in the same file, and a webm mimeType".into(),
        ));
    };
    let init = init.ok_or_else(|| MpdError::IndexNeeded(track.key.clone()))?;
    let layout = crate::webm::parse_init(init, init_offset)?;
    let pto_seconds = b.pto as f64 / b.timescale.max(1) as f64;
    let fallback_end = period.duration.map(|d| d + pto_seconds);
    crate::webm::parse_cues(bytes, offset, &layout, fallback_end)
}

fn init_segment(track: &Track, i: &ListInit) -> Result<InitSegment, MpdError> {
    let url = match &i.source_url {
        Some(u) => join(&track.base_url, u)?,
        None => track.base_url.to_string(),
    };
    Ok(InitSegment {
        url,
        range: i.range,
    })
}

fn join(base: &Url, rel: &str) -> Result<String, MpdError> {
    BaseUrl::new(base).join(rel)
}
