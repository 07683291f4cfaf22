//! Enumerates the init and media segments of one track, as a player would fetch them.

use crate::error::MpdError;
use crate::model::{Addressing, Period, Template, Track};
use crate::template::{expand, Vars};
use serde::{Deserialize, Serialize};
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

/// Lists the segments of `track` within `period`.
pub fn enumerate(period: &Period, track: &Track) -> Result<TrackSegments, MpdError> {
    match &track.addressing {
        Addressing::Template(t) => template_segments(period, track, t),
        Addressing::SingleFile => {
            let duration = period
                .duration
                .ok_or_else(|| MpdError::NoSegmentInfo(track.id.clone()))?;
            let ts = 1000u64;
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
                    d: (duration * ts as f64).round() as u64,
                }],
            })
        }
    }
}

fn template_segments(
    period: &Period,
    track: &Track,
    t: &Template,
) -> Result<TrackSegments, MpdError> {
    let vars = |number: u64, time: u64| Vars {
        representation_id: &track.id,
        number,
        time,
        bandwidth: track.bandwidth,
    };
    let url_for = |template: &str, number: u64, time: u64| -> Result<String, MpdError> {
        let rel = expand(template, &vars(number, time))?;
        join(&track.base_url, &rel)
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
    let ts = t.timescale as f64;
    let period_end_media = period.duration.map(|d| t.pto as f64 + d * ts);
    let mut media = Vec::new();
    let push = |number: u64, time: u64, d: u64, media: &mut Vec<Segment>| -> Result<(), MpdError> {
        if media.len() as u64 >= MAX_SEGMENTS_PER_TRACK {
            return Err(MpdError::TooLarge("segments per track"));
        }
        let start = period.start + (time as f64 - t.pto as f64) / ts;
        let mut end = start + d as f64 / ts;
        if let Some(pd) = period.duration {
            end = end.min(period.start + pd);
        }
        media.push(Segment {
            url: url_for(media_template, number, time)?,
            range: None,
            start,
            end,
            t: time,
            d,
        });
        Ok(())
    };
    if let Some(timeline) = &t.timeline {
        let mut number = t.start_number;
        let mut cursor = 0u64;
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
                let limit = match timeline.get(i + 1).and_then(|n| n.t) {
                    Some(next) => next as f64,
                    None => {
                        period_end_media.ok_or_else(|| MpdError::NoSegmentInfo(track.id.clone()))?
                    }
                };
                let count = ((limit - time as f64) / s.d as f64).ceil();
                if count < 1.0 {
                    0
                } else {
                    count as u64 - 1
                }
            };
            if repeat >= MAX_SEGMENTS_PER_TRACK {
                return Err(MpdError::TooLarge("segments per track"));
            }
            for _ in 0..=repeat {
                if let Some(end) = t.end_number {
                    if number > end {
                        break;
                    }
                }
                push(number, time, s.d, &mut media)?;
                number += 1;
                time = time
                    .checked_add(s.d)
                    .ok_or(MpdError::TooLarge("segment time"))?;
            }
            cursor = time;
        }
    } else {
        let d = t
            .duration
            .filter(|d| *d > 0)
            .ok_or_else(|| MpdError::NoSegmentInfo(track.id.clone()))?;
        let count = match (t.end_number, period.duration) {
            (Some(end), _) => end.saturating_sub(t.start_number) + 1,
            (None, Some(pd)) => {
                let c = (pd * ts / d as f64 - 1e-9).ceil();
                if !(0.0..=MAX_SEGMENTS_PER_TRACK as f64).contains(&c) {
                    return Err(MpdError::TooLarge("segments per track"));
                }
                c as u64
            }
            (None, None) => return Err(MpdError::NoSegmentInfo(track.id.clone())),
        };
        if count > MAX_SEGMENTS_PER_TRACK {
            return Err(MpdError::TooLarge("segments per track"));
        }
        for k in 0..count {
            let time = k
                .checked_mul(d)
                .and_then(|x| x.checked_add(t.pto))
                .ok_or(MpdError::TooLarge("segment time"))?;
            push(t.start_number + k, time, d, &mut media)?;
        }
    }
    Ok(TrackSegments {
        timescale: t.timescale,
        pto: t.pto,
        init,
        media,
    })
}

fn join(base: &Url, rel: &str) -> Result<String, MpdError> {
    base.join(rel)
        .map(|u| u.to_string())
        .map_err(|e| MpdError::Url(format!("{rel}: {e}")))
}
