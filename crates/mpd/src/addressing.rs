//! How a representation addresses its segments, read from the SegmentTemplate, SegmentList and
//! SegmentBase elements of its levels (Period, AdaptationSet, Representation), with inheritance.

use crate::error::MpdError;
use crate::model::{
    bad, num, Addressing, Base, List, ListInit, ListUrl, Template, TimelineEntry, Timing,
};
use crate::xml::Element;

/// Finds the segment information of a representation: the innermost level (Period,
/// AdaptationSet, Representation) that has a SegmentTemplate, SegmentList or SegmentBase decides
/// the form, and that form's attributes are merged from the outermost level inwards.
pub(crate) fn addressing(levels: &[&Element], rep_id: &str) -> Result<Addressing, MpdError> {
    const FORMS: [&str; 3] = ["SegmentTemplate", "SegmentList", "SegmentBase"];
    let form = levels
        .iter()
        .rev()
        .find_map(|l| FORMS.iter().find(|f| l.child(f).is_some()));
    let Some(form) = form else {
        return if levels.last().and_then(|r| r.child("BaseURL")).is_some() {
            Ok(Addressing::SingleFile)
        } else {
            Err(MpdError::NoSegmentInfo(rep_id.to_string()))
        };
    };
    let els: Vec<&Element> = levels.iter().filter_map(|l| l.child(form)).collect();
    let timing = merge_timing(&els, form)?;
    match *form {
        "SegmentTemplate" => {
            let mut t = Template {
                timing,
                media: None,
                initialization: None,
                index: None,
            };
            for el in &els {
                t.media = el.attr("media").map(str::to_string).or(t.media);
                t.index = el.attr("index").map(str::to_string).or(t.index);
                t.initialization = el
                    .attr("initialization")
                    .map(str::to_string)
                    .or(t.initialization);
                if t.initialization.is_none() {
                    t.initialization = el
                        .child("Initialization")
                        .and_then(|i| i.attr("sourceURL"))
                        .map(str::to_string);
                }
            }
            let timed = t.timing.duration.is_some() || t.timing.timeline.is_some();
            if t.index.is_none() && (t.media.is_none() || !timed) {
                return Err(MpdError::NoSegmentInfo(rep_id.to_string()));
            }
            Ok(Addressing::Template(t))
        }
        "SegmentList" => {
            let mut list = List {
                timing,
                init: None,
                urls: Vec::new(),
            };
            for el in &els {
                if let Some(init) = el.child("Initialization") {
                    list.init = Some(init_of(init)?);
                }
                let urls: Vec<&Element> = el.children_named("SegmentURL").collect();
                if !urls.is_empty() {
                    if urls.len() as u64 > crate::segments::MAX_SEGMENTS_PER_TRACK {
                        return Err(MpdError::TooLarge("segments per track"));
                    }
                    list.urls = urls
                        .iter()
                        .map(|u| {
                            Ok(ListUrl {
                                media: u.attr("media").map(str::to_string),
                                range: opt_range(u, "SegmentURL", "mediaRange")?,
                            })
                        })
                        .collect::<Result<_, MpdError>>()?;
                }
            }
            if list.urls.is_empty()
                || (list.timing.duration.is_none()
                    && list.timing.timeline.is_none()
                    && list.urls.len() > 1)
            {
                return Err(MpdError::NoSegmentInfo(rep_id.to_string()));
            }
            Ok(Addressing::List(list))
        }
        _ => {
            let mut base = Base {
                timescale: timing.timescale,
                pto: timing.pto,
                index_range: None,
                init: None,
            };
            for el in &els {
                base.index_range = opt_range(el, "SegmentBase", "indexRange")?.or(base.index_range);
                if let Some(init) = el.child("Initialization") {
                    base.init = Some(init_of(init)?);
                }
            }
            if base.index_range.is_none() {
                return Err(MpdError::NoSegmentInfo(rep_id.to_string()));
            }
            Ok(Addressing::Base(base))
        }
    }
}

/// The attributes shared by every form, merged outer to inner.
fn merge_timing(els: &[&Element], name: &'static str) -> Result<Timing, MpdError> {
    let mut t = Timing {
        timescale: 1,
        start_number: 1,
        ..Timing::default()
    };
    for el in els {
        if let Some(v) = num(el, name, "timescale")? {
            if v == 0 {
                return Err(bad(name, "timescale", "0"));
            }
            t.timescale = v;
        }
        t.pto = num(el, name, "presentationTimeOffset")?.unwrap_or(t.pto);
        t.start_number = num(el, name, "startNumber")?.unwrap_or(t.start_number);
        t.end_number = num(el, name, "endNumber")?.or(t.end_number);
        t.duration = num(el, name, "duration")?.or(t.duration);
        if let Some(tl) = el.child("SegmentTimeline") {
            t.timeline = Some(timeline(tl)?);
        }
    }
    Ok(t)
}

fn init_of(el: &Element) -> Result<ListInit, MpdError> {
    Ok(ListInit {
        source_url: el.attr("sourceURL").map(str::to_string),
        range: opt_range(el, "Initialization", "range")?,
    })
}

/// Parses an inclusive byte range `a-b`. A range whose numbers are well-formed but end past
/// [`crate::MAX_OFFSET`] (or do not fit 64 bits) is refused as out of bounds, so every length
/// derived from it later fits a `u64` and a JavaScript number.
fn opt_range(
    el: &Element,
    element: &'static str,
    attr: &'static str,
) -> Result<Option<[u64; 2]>, MpdError> {
    let Some(v) = el.attr(attr) else {
        return Ok(None);
    };
    let Some((a, b)) = v.trim().split_once('-') else {
        return Err(bad(element, attr, v));
    };
    let (a, b) = (a.trim(), b.trim());
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return Err(bad(element, attr, v));
    }
    let named = || {
        let value: String = v.chars().take(200).collect();
        format!("<{element} {attr}=\"{value}\">")
    };
    let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) else {
        return Err(MpdError::RangeOutOfBounds(named()));
    };
    if a > b {
        return Err(bad(element, attr, v));
    }
    crate::byterange::checked_range([a, b], named)?;
    Ok(Some([a, b]))
}

/// Most `S` elements accepted in one timeline.
pub const MAX_TIMELINE_ENTRIES: usize = 500_000;

fn timeline(el: &Element) -> Result<Vec<TimelineEntry>, MpdError> {
    let mut out = Vec::new();
    for s in el.children_named("S") {
        if out.len() >= MAX_TIMELINE_ENTRIES {
            return Err(MpdError::TooLarge("timeline entries"));
        }
        let d = num(s, "S", "d")?.ok_or_else(|| bad("S", "d", ""))?;
        let r = match s.attr("r") {
            Some(v) => v.trim().parse::<i64>().map_err(|_| bad("S", "r", v))?,
            None => 0,
        };
        if r < -1 {
            return Err(bad("S", "r", &r.to_string()));
        }
        out.push(TimelineEntry {
            t: num(s, "S", "t")?,
            d,
            r,
        });
    }
    Ok(out)
}
