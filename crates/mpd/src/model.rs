//! The MPD model: periods and tracks with their resolved base URL and segment addressing.
//!
//! Built from the element tree with the DASH inheritance rules: BaseURL chains MPD → Period →
//! AdaptationSet → Representation, and segment information is merged attribute by attribute from
//! Period to Representation (the innermost level wins).

use crate::addressing::addressing;
use crate::duration::parse_duration;
use crate::error::MpdError;
use crate::xml::Element;
use serde::{Deserialize, Serialize};
use url::Url;

/// What a track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackKind {
    /// Video.
    Video,
    /// Audio.
    Audio,
    /// Subtitles or captions.
    Text,
    /// Thumbnails (DASH-IF image tracks).
    Image,
}

/// A parsed static manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The document tree (kept for writing the local manifest), without the segment-encryption
    /// descriptors: those segments are stored decrypted (see [`crate::sea`]).
    pub root: Element,
    /// `@mediaPresentationDuration` in seconds.
    pub duration: Option<f64>,
    /// Periods in order, with computed starts and durations.
    pub periods: Vec<Period>,
}

/// A period with its tracks.
#[derive(Debug, Clone)]
pub struct Period {
    /// Position in the document (used in track keys; ids may be missing or repeat).
    pub index: usize,
    /// `Period@id`, if any.
    pub id: Option<String>,
    /// Start on the presentation timeline, seconds.
    pub start: f64,
    /// Duration in seconds, when it can be known.
    pub duration: Option<f64>,
    /// Every representation of the period.
    pub tracks: Vec<Track>,
}

/// One representation, with what selection and planning need.
#[derive(Debug, Clone)]
pub struct Track {
    /// Unique key in the manifest: `p{period}a{adaptation}r{representation}`.
    pub key: String,
    /// Index of the AdaptationSet in its period.
    pub adaptation: usize,
    /// Index of the Representation in its AdaptationSet.
    pub representation: usize,
    /// `Representation@id`.
    pub id: String,
    /// Video, audio, text or image.
    pub kind: TrackKind,
    /// `@mimeType` (inherited).
    pub mime_type: String,
    /// `@codecs` (inherited).
    pub codecs: String,
    /// `AdaptationSet@lang`.
    pub lang: Option<String>,
    /// `@bandwidth` in bits per second.
    pub bandwidth: u64,
    /// Width in pixels, for video and image.
    pub width: Option<u32>,
    /// Height in pixels, for video and image.
    pub height: Option<u32>,
    /// The resolved BaseURL of this representation.
    pub base_url: Url,
    /// Other BaseURLs of the same content (another CDN), for retries.
    pub alternate_base_urls: Vec<Url>,
    /// How its segments are addressed.
    pub addressing: Addressing,
    /// Roles, label, frame rate, protection (DRM systems only), tiles.
    pub info: crate::describe::TrackInfo,
    /// DASH segment encryption of its init and media segments, decrypted while downloading.
    pub encryption: Option<crate::sea::SegmentEncryption>,
}

/// Segment addressing forms.
#[derive(Debug, Clone)]
pub enum Addressing {
    /// `SegmentTemplate` with `@duration` or a `SegmentTimeline`.
    Template(Template),
    /// `SegmentList` of `SegmentURL`s (files or byte ranges of one file).
    List(List),
    /// `SegmentBase`: one file indexed by its `sidx` box.
    Base(Base),
    /// The representation is one file with no index: one media segment, the whole file.
    SingleFile,
}

/// Merged `SegmentTemplate` values.
#[derive(Debug, Clone, Default)]
pub struct Template {
    /// Timing (timescale, offset, numbering, duration or timeline).
    pub timing: Timing,
    /// `@media` template.
    pub media: Option<String>,
    /// `@initialization` template.
    pub initialization: Option<String>,
    /// `@index`: the template of the URL of the file holding the `sidx`. When present it
    /// decides the segments over a timeline or `@duration`, as in shaka-player.
    pub index: Option<String>,
}

/// Timing attributes common to every form (MultipleSegmentBaseType).
#[derive(Debug, Clone, Default)]
pub struct Timing {
    /// `@timescale` (default 1).
    pub timescale: u64,
    /// `@presentationTimeOffset`.
    pub pto: u64,
    /// `@startNumber` (default 1).
    pub start_number: u64,
    /// `@endNumber`.
    pub end_number: Option<u64>,
    /// `@duration`.
    pub duration: Option<u64>,
    /// `SegmentTimeline` entries.
    pub timeline: Option<Vec<TimelineEntry>>,
}

/// Merged `SegmentList`.
#[derive(Debug, Clone)]
pub struct List {
    /// Timing of the list.
    pub timing: Timing,
    /// `Initialization`.
    pub init: Option<ListInit>,
    /// `SegmentURL`s in order.
    pub urls: Vec<ListUrl>,
}

/// An `Initialization` element.
#[derive(Debug, Clone, PartialEq)]
pub struct ListInit {
    /// `@sourceURL` (the BaseURL when absent).
    pub source_url: Option<String>,
    /// `@range`.
    pub range: Option<[u64; 2]>,
}

/// A `SegmentURL` element.
#[derive(Debug, Clone, PartialEq)]
pub struct ListUrl {
    /// `@media` (the BaseURL when absent).
    pub media: Option<String>,
    /// `@mediaRange`.
    pub range: Option<[u64; 2]>,
}

/// Merged `SegmentBase`.
#[derive(Debug, Clone)]
pub struct Base {
    /// `@timescale`.
    pub timescale: u64,
    /// `@presentationTimeOffset`.
    pub pto: u64,
    /// `@indexRange`: where the `sidx` box is.
    pub index_range: Option<[u64; 2]>,
    /// `Initialization`.
    pub init: Option<ListInit>,
}

/// One `S` element.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelineEntry {
    /// `@t`, if present.
    pub t: Option<u64>,
    /// `@d`.
    pub d: u64,
    /// `@r` (−1 means "until the next `S@t` or the period end").
    pub r: i64,
}

impl Manifest {
    /// Parses manifest text fetched from `url` (the final URL, after redirects).
    pub fn parse(text: &str, url: &Url) -> Result<Manifest, MpdError> {
        Manifest::from_root(crate::xml::parse(text)?, url)
    }

    /// Builds the model from a parsed document (e.g. one whose xlinks
    /// [`crate::xlink::Xlinks`] resolved) fetched from `url`.
    pub fn from_root(mut root: Element, url: &Url) -> Result<Manifest, MpdError> {
        check_root(&root)?;
        let duration = opt_duration(&root, "MPD", "mediaPresentationDuration")?;
        // A Location element moves the document: relative URLs resolve against it, as in players.
        let document = match root
            .child("Location")
            .map(|l| l.text.as_str())
            .filter(|t| !t.is_empty())
        {
            Some(loc) => url
                .join(loc)
                .map_err(|e| MpdError::Url(format!("{loc}: {e}")))?,
            None => url.clone(),
        };
        let mpd_base = resolve_bases(&[document], &root)?;
        let period_els: Vec<&Element> = root.children_named("Period").collect();
        let mut periods = Vec::with_capacity(period_els.len());
        let mut cursor = 0.0;
        for (index, p) in period_els.iter().enumerate() {
            #[allow(
                clippy::arithmetic_side_effects,
                reason = "`index` is below `period_els.len()`"
            )]
            let after = index + 1;
            crate::xlink::unresolved(p)?;
            let start = opt_duration(p, "Period", "start")?.unwrap_or(cursor);
            let own = opt_duration(p, "Period", "duration")?;
            let next_start = match period_els.get(after) {
                Some(n) => opt_duration(n, "Period", "start")?,
                None => None,
            };
            let period_duration = match (next_start, duration, own) {
                (Some(ns), _, _) => Some(ns - start),
                (None, _, Some(d)) if after < period_els.len() => Some(d),
                (None, Some(total), _) if after == period_els.len() => Some(total - start),
                (_, _, d) => d,
            };
            cursor = start + period_duration.unwrap_or(0.0);
            let base = resolve_bases(&mpd_base, p)?;
            let tracks = period_tracks(index, p, &base)?;
            periods.push(Period {
                index,
                id: p.attr("id").map(str::to_string),
                start,
                duration: period_duration,
                tracks,
            });
        }
        crate::sea::strip(&mut root);
        Ok(Manifest {
            root,
            duration,
            periods,
        })
    }

    /// Every track of every period.
    pub fn tracks(&self) -> impl Iterator<Item = (&Period, &Track)> {
        self.periods
            .iter()
            .flat_map(|p| p.tracks.iter().map(move |t| (p, t)))
    }
}

fn period_tracks(pi: usize, period: &Element, base: &[Url]) -> Result<Vec<Track>, MpdError> {
    let mut tracks = Vec::new();
    for (ai, set) in period.children_named("AdaptationSet").enumerate() {
        crate::xlink::unresolved(set)?;
        let set_base = resolve_bases(base, set)?;
        let sea = crate::sea::of_adaptation_set(set)?;
        for (ri, rep) in set.children_named("Representation").enumerate() {
            crate::sea::check_representation(rep, sea.is_some())?;
            let id = rep.attr("id").unwrap_or_default().to_string();
            let mut bases = resolve_bases(&set_base, rep)?.into_iter();
            let base_url = bases
                .next()
                .ok_or_else(|| MpdError::Url(format!("representation {id} has no base URL")))?;
            let alternate_base_urls = bases.collect();
            let mime_type = inherit(rep, set, "mimeType")
                .unwrap_or_default()
                .to_string();
            let codecs = inherit(rep, set, "codecs").unwrap_or_default().to_string();
            let kind = kind_of(set, &mime_type, &codecs);
            let addressing = addressing(&[period, set, rep], &id)?;
            let encryption = sea.as_ref().map(|s| s.resolve(&base_url)).transpose()?;
            let mut info = crate::describe::describe(set, rep);
            // Segment encryption is undone while downloading: it is no DRM the entry needs.
            info.protection
                .retain(|p| p.scheme.trim() != crate::sea::SEA_SCHEME);
            tracks.push(Track {
                key: crate::plan::track_key(pi, ai, ri),
                adaptation: ai,
                representation: ri,
                bandwidth: num(rep, "Representation", "bandwidth")?.unwrap_or(0),
                width: num(rep, "Representation", "width")?
                    .or(num(set, "AdaptationSet", "width")?)
                    .map(clamp_u32),
                height: num(rep, "Representation", "height")?
                    .or(num(set, "AdaptationSet", "height")?)
                    .map(clamp_u32),
                lang: set.attr("lang").or(rep.attr("lang")).map(str::to_string),
                base_url,
                alternate_base_urls,
                id,
                kind,
                mime_type,
                codecs,
                addressing,
                info,
                encryption,
            });
        }
    }
    Ok(tracks)
}

/// Refuses a document that is no static MPD, before anything else is done with it.
pub(crate) fn check_root(root: &Element) -> Result<(), MpdError> {
    if root.local_name() != "MPD" {
        return Err(MpdError::NotAnMpd);
    }
    if root.attr("type") == Some("dynamic") {
        return Err(MpdError::Dynamic);
    }
    Ok(())
}

fn clamp_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn inherit<'a>(rep: &'a Element, set: &'a Element, name: &str) -> Option<&'a str> {
    rep.attr(name).or_else(|| set.attr(name))
}

fn kind_of(set: &Element, mime: &str, codecs: &str) -> TrackKind {
    let content = set.attr("contentType").unwrap_or_default();
    let probe = if content.is_empty() {
        mime.split('/').next().unwrap_or_default()
    } else {
        content
    };
    match probe {
        "video" => TrackKind::Video,
        "audio" => TrackKind::Audio,
        "image" => TrackKind::Image,
        "text" => TrackKind::Text,
        _ if codecs.starts_with("stpp")
            || codecs.starts_with("wvtt")
            || mime.contains("ttml")
            || mime.contains("vtt") =>
        {
            TrackKind::Text
        }
        _ => TrackKind::Video,
    }
}

/// Most alternative base URLs kept per representation.
pub const MAX_BASE_URLS: usize = 8;

/// Resolves `el`'s BaseURLs against each of the parent's: every combination is an alternative
/// location of the same content (for retries on another CDN), the first being the primary.
fn resolve_bases(parents: &[Url], el: &Element) -> Result<Vec<Url>, MpdError> {
    let texts: Vec<&str> = el
        .children_named("BaseURL")
        .map(|b| b.text.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    if texts.is_empty() {
        return Ok(parents.to_vec());
    }
    let mut out: Vec<Url> = Vec::new();
    for parent in parents {
        for text in &texts {
            let url = parent
                .join(text)
                .map_err(|e| MpdError::Url(format!("{text}: {e}")))?;
            if !out.contains(&url) && out.len() < MAX_BASE_URLS {
                out.push(url);
            }
        }
    }
    Ok(out)
}

pub(crate) fn num(
    el: &Element,
    element: &'static str,
    attr: &'static str,
) -> Result<Option<u64>, MpdError> {
    match el.attr(attr) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| bad(element, attr, v)),
    }
}

fn opt_duration(
    el: &Element,
    element: &'static str,
    attr: &'static str,
) -> Result<Option<f64>, MpdError> {
    match el.attr(attr) {
        None => Ok(None),
        Some(v) => parse_duration(v)
            .map(Some)
            .ok_or_else(|| bad(element, attr, v)),
    }
}

pub(crate) fn bad(element: &'static str, attr: &'static str, value: &str) -> MpdError {
    MpdError::BadAttribute {
        element,
        attr,
        value: value.chars().take(200).collect(),
    }
}
