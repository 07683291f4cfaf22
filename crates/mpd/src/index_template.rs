//! `SegmentTemplate@index`: a representation that is one media file (its BaseURL), indexed by
//! a `sidx` in a file the template names, fetched whole. Read as shaka-player 5.2 reads it
//! (`SegmentTemplate.createFromIndexTemplate_` → `SegmentBase.generateSegmentIndexFromUris`):
//!
//! - the index takes priority over a SegmentTimeline or `@duration`, and `@media` is unused:
//!   the media segments are byte ranges of the BaseURL file;
//! - the index and init URLs are the templates with only `$RepresentationID$` and
//!   `$Bandwidth$` filled, resolved against the BaseURL;
//! - an index file other than the media file is external: its `first_offset` counts from the
//!   start of the media file (`indexIsExternal`).
//!
//! When the index file is the media file, the offsets count from the end of the `sidx` box
//! where it is in the file, as ISO/IEC 14496-12 says. shaka-player 5.2.12 counts them from the
//! box size alone (as if the box were at byte 0), which addresses the wrong bytes for a file
//! whose `sidx` follows its `moov` (ffmpeg's `global_sidx`); the stored copy is of the right
//! bytes, served through a SegmentTimeline that any player reads.

use crate::error::MpdError;
use crate::model::{Period, Template, Track};
use crate::segments::{InitSegment, TrackSegments};
use crate::sidx::SegmentIndex;
use crate::sidx_tree::{resolve_sidx, Resolved};
use crate::template::{expand, Vars};
use crate::urls::BaseUrl;

/// Largest index file fetched whole (into memory, while planning): a `sidx` of 65,535
/// references is under 1 MiB, so the cap leaves room for a small media file holding its own
/// index. The fetcher refuses a larger body, and the planner a larger index it is given.
pub const MAX_INDEX_FILE_BYTES: u64 = 4 << 20;

/// `template` with only the identifiers shaka-player fills for the index and init URLs, resolved
/// against the track's BaseURL.
fn url_of(track: &Track, template: &str) -> Result<String, MpdError> {
    let vars = Vars {
        representation_id: &track.id,
        number: None,
        time: None,
        bandwidth: track.bandwidth,
    };
    BaseUrl::new(&track.base_url).join(&expand(template, &vars)?)
}

/// The URL of the index file of a template track with `@index`, to fetch whole.
pub fn index_url(track: &Track, t: &Template) -> Option<Result<String, MpdError>> {
    t.index.as_deref().map(|i| url_of(track, i))
}

/// The segments of a template track with `@index`, from the bytes of its index file.
pub fn segments(
    period: &Period,
    track: &Track,
    t: &Template,
    index_template: &str,
    bytes: Option<&[u8]>,
) -> Result<TrackSegments, MpdError> {
    let index_url = url_of(track, index_template)?;
    let bytes = bytes.ok_or_else(|| MpdError::IndexNeeded(track.key.clone()))?;
    if bytes.len() as u64 > MAX_INDEX_FILE_BYTES {
        return Err(MpdError::TooLarge("index file of a SegmentTemplate@index"));
    }
    if crate::segments::is_webm(track) || crate::webm::looks_like_webm(bytes) {
        return Err(MpdError::BadIndex(
            "WebM Cues named by SegmentTemplate@index are not supported; use SegmentBase".into(),
        ));
    }
    let media_url = track.base_url.to_string();
    let sidx = if index_url == media_url {
        internal(bytes)?
    } else {
        crate::sidx::parse_external_sidx(bytes)?
    };
    let timing = &t.timing;
    // presentationTimeOffset is in the template's timescale, the times in the sidx's.
    let pto = crate::segments::pto_in_index(&sidx, timing.pto, timing.timescale)?;
    let init = t
        .initialization
        .as_deref()
        .map(|i| {
            Ok::<_, MpdError>(InitSegment {
                url: url_of(track, i)?,
                range: None,
            })
        })
        .transpose()?;
    Ok(crate::segments::indexed(
        period, sidx, pto, init, &media_url,
    ))
}

/// The index of a media file holding its own `sidx` (the whole file is there, so the boxes a
/// hierarchical index references are read from it too).
fn internal(bytes: &[u8]) -> Result<SegmentIndex, MpdError> {
    match resolve_sidx(bytes, 0, |_| None)? {
        Resolved::Index(index) => Ok(index),
        Resolved::Needs(_) => Err(MpdError::BadIndex(
            "the sidx references boxes past the end of its file".into(),
        )),
    }
}
