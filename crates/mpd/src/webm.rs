//! WebM (Matroska) SegmentBase indexes: the `Cues` element that `SegmentBase@indexRange` points
//! at, read together with the `Initialization@range` bytes (EBML header, the `Segment` header,
//! `SeekHead` and `Info`), gives one media segment per cluster a `CuePoint` names.
//!
//! `CueClusterPosition` counts from the first byte of the Segment's data, which only the init
//! bytes locate; `CueTime` is in `Info/TimecodeScale` nanoseconds (default 1 ms). A cluster ends
//! where the next one starts; the last one ends before the first element known to follow it
//! (the Cues when they come after the clusters, or an element `SeekHead` lists), else at the end
//! of the Segment. A Segment of unknown size (written live) with nothing known after its last
//! cluster leaves that end unknown, and is refused rather than guessed.
//!
//! Every size and offset comes from the file, so all arithmetic is checked and element sizes are
//! bounded by the bytes at hand; hostile input gives [`MpdError::BadIndex`], never a panic.

use crate::byterange::checked_range;
use crate::error::MpdError;
use crate::segments::MAX_SEGMENTS_PER_TRACK;
use crate::sidx::{SegmentIndex, Subsegment};

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114D_9B74;
const SEEK: u32 = 0x4DBB;
const SEEK_POSITION: u32 = 0x53AC;
const INFO: u32 = 0x1549_A966;
const TIMECODE_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;
const CLUSTER: u32 = 0x1F43_B675;
const CUES: u32 = 0x1C53_BB6B;
const CUE_POINT: u32 = 0xBB;
const CUE_TIME: u32 = 0xB3;
const CUE_TRACK_POSITIONS: u32 = 0xB7;
const CUE_CLUSTER_POSITION: u32 = 0xF1;
const VOID: u32 = 0xEC;
const CRC32: u32 = 0xBF;

/// Nanoseconds per second: `CueTime × TimecodeScale` is in nanoseconds.
const NS: u64 = 1_000_000_000;

fn bad(why: &str) -> MpdError {
    MpdError::BadIndex(format!("WebM: {why}"))
}

/// True when `bytes` start like a WebM index or file (a `Cues` or EBML header ID) rather than an
/// MP4 box, so a SegmentBase whose mimeType says nothing can still be told apart.
pub fn looks_like_webm(bytes: &[u8]) -> bool {
    matches!(bytes.get(..4), Some(b) if b == CUES.to_be_bytes() || b == EBML.to_be_bytes())
}

/// An element header: its ID, where its data starts in the buffer, and its size (`None` for the
/// unknown-size marker).
#[derive(Debug, Clone, Copy)]
struct Header {
    id: u32,
    data: usize,
    size: Option<u64>,
}

/// Reads an EBML variable-length integer at `pos`: (value without the length marker, its
/// all-ones "unknown" flag, the position after it). At most 8 bytes, as EBML allows.
fn vint(b: &[u8], pos: usize) -> Result<(u64, bool, usize), MpdError> {
    let first = *b.get(pos).ok_or_else(|| bad("truncated element header"))?;
    if first == 0 {
        return Err(bad("a variable-length integer longer than 8 bytes"));
    }
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`first` is not 0, so it has at most 7 leading zeros"
    )]
    let len = first.leading_zeros() as usize + 1;
    let end = pos
        .checked_add(len)
        .ok_or_else(|| bad("truncated element header"))?;
    let rest = b
        .get(pos..end)
        .and_then(|vint| vint.get(1..))
        .ok_or_else(|| bad("truncated element header"))?;
    // `len` is 1..=8, so the marker bit and the value fit a u64.
    let mask = 0xFFu64 >> len;
    let mut value = u64::from(first) & mask;
    let mut all_ones = value == mask;
    for &byte in rest {
        value = (value << 8) | u64::from(byte);
        all_ones &= byte == 0xFF;
    }
    Ok((value, all_ones, end))
}

/// Reads the element header at `pos`. IDs keep their marker bits (as the spec writes them) and
/// are at most 4 bytes long.
fn header(b: &[u8], pos: usize) -> Result<Header, MpdError> {
    let (raw, _, after_id) = vint(b, pos)?;
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`vint` gives the position after the integer it read at `pos`"
    )]
    let id_len = after_id - pos;
    if id_len > 4 {
        return Err(bad("an element ID longer than 4 bytes"));
    }
    #[allow(
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation,
        reason = "`id_len` is 1..=4: the marker bit is bit 7, 14, 21 or 28, above a value of as many bits"
    )]
    let id = (raw | (1u64 << (7 * id_len))) as u32;
    let (size, unknown, data) = vint(b, after_id)?;
    Ok(Header {
        id,
        data,
        size: (!unknown).then_some(size),
    })
}

/// The data of a known-size element, which must lie within `b`.
fn body<'a>(b: &'a [u8], h: &Header, what: &str) -> Result<&'a [u8], MpdError> {
    let size = h
        .size
        .ok_or_else(|| bad(&format!("{what} has an unknown size")))?;
    let end = usize::try_from(size)
        .ok()
        .and_then(|s| h.data.checked_add(s))
        .ok_or_else(|| bad(&format!("{what} is larger than the bytes fetched")))?;
    b.get(h.data..end)
        .ok_or_else(|| bad(&format!("{what} is truncated")))
}

/// The position just after an element, given its header and the data [`body`] read for it.
fn end_of(h: &Header, data: &[u8]) -> usize {
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`data` is `b[h.data..end]` of a slice `b`, so this is `end`, at most `b.len()`"
    )]
    let end = h.data + data.len();
    end
}

/// The known-size children of a master element's data, in order, as (ID, data).
fn children(b: &[u8]) -> impl Iterator<Item = Result<(u32, &[u8]), MpdError>> {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        if pos >= b.len() {
            return None;
        }
        let item = header(b, pos).and_then(|h| {
            let data = body(b, &h, "an element")?;
            pos = end_of(&h, data);
            Ok((h.id, data))
        });
        if item.is_err() {
            pos = b.len();
        }
        Some(item)
    })
}

/// A big-endian unsigned integer element (0 to 8 bytes).
fn uint(data: &[u8]) -> Result<u64, MpdError> {
    if data.len() > 8 {
        return Err(bad("an integer longer than 8 bytes"));
    }
    Ok(data.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

/// A float element (0, 4 or 8 bytes).
fn float(data: &[u8]) -> Result<f64, MpdError> {
    match data.len() {
        0 => Ok(0.0),
        4 => Ok(f64::from(f32::from_be_bytes([
            data[0], data[1], data[2], data[3],
        ]))),
        8 => {
            let mut a = [0u8; 8];
            a.copy_from_slice(data);
            Ok(f64::from_be_bytes(a))
        }
        _ => Err(bad("a float that is not 4 or 8 bytes")),
    }
}

/// What the init bytes tell about the Segment.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentLayout {
    /// File offset of the Segment's first data byte (where cluster positions count from).
    pub data_start: u64,
    /// File offset one past the Segment's last byte; `None` for an unknown-size Segment.
    pub data_end: Option<u64>,
    /// Nanoseconds per `CueTime` tick.
    pub timecode_scale: u64,
    /// `Info/Duration` in `TimecodeScale` ticks, when present.
    pub duration: Option<f64>,
    /// File offsets of the top-level elements `SeekHead` lists (Cues, Tags, Chapters, ...).
    pub seek_positions: Vec<u64>,
}

/// Reads the EBML header, the Segment header and the Segment's first children from the bytes of
/// `Initialization@range`; `offset` is the file offset of the first byte. Reading stops at the
/// first Cluster or at the end of the bytes.
pub fn parse_init(bytes: &[u8], offset: u64) -> Result<SegmentLayout, MpdError> {
    let ebml = header(bytes, 0)?;
    if ebml.id != EBML {
        return Err(bad(
            "the Initialization range does not start with an EBML header",
        ));
    }
    let after_ebml = end_of(&ebml, body(bytes, &ebml, "the EBML header")?);
    let segment = header(bytes, after_ebml)?;
    if segment.id != SEGMENT {
        return Err(bad("no Segment element after the EBML header"));
    }
    let abs = |pos: usize| {
        u64::try_from(pos)
            .ok()
            .and_then(|p| offset.checked_add(p))
            .ok_or_else(|| bad("offset overflow"))
    };
    let data_start = abs(segment.data)?;
    let data_end = match segment.size {
        Some(size) => Some(
            data_start
                .checked_add(size)
                .ok_or_else(|| bad("the Segment size overflows"))?,
        ),
        None => None,
    };
    let mut layout = SegmentLayout {
        data_start,
        data_end,
        timecode_scale: 1_000_000,
        duration: None,
        seek_positions: Vec::new(),
    };
    let mut info = false;
    let mut pos = segment.data;
    while pos < bytes.len() {
        let h = header(bytes, pos)?;
        if h.id == CLUSTER {
            break;
        }
        let Ok(data) = body(bytes, &h, "a Segment child") else {
            // The range may end inside an element it does not need (e.g. a Cues or Tags
            // element placed before the clusters); what was read so far is enough.
            break;
        };
        match h.id {
            INFO => {
                read_info(data, &mut layout)?;
                info = true;
            }
            SEEK_HEAD => read_seek_head(data, &mut layout)?,
            _ => {}
        }
        pos = end_of(&h, data);
    }
    if !info {
        return Err(bad("no Info element in the Initialization range"));
    }
    Ok(layout)
}

fn read_info(data: &[u8], layout: &mut SegmentLayout) -> Result<(), MpdError> {
    for child in children(data) {
        let (id, value) = child?;
        match id {
            TIMECODE_SCALE => {
                layout.timecode_scale = uint(value)?;
                if layout.timecode_scale == 0 {
                    return Err(bad("TimecodeScale is 0"));
                }
            }
            DURATION => {
                let d = float(value)?;
                if !(d.is_finite() && d >= 0.0) {
                    return Err(bad("Info Duration is not a positive number"));
                }
                layout.duration = Some(d);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Collects `SeekPosition`s (relative to the Segment data) as file offsets.
fn read_seek_head(data: &[u8], layout: &mut SegmentLayout) -> Result<(), MpdError> {
    for child in children(data) {
        let (id, seek) = child?;
        if id != SEEK {
            continue;
        }
        for field in children(seek) {
            let (id, value) = field?;
            if id == SEEK_POSITION {
                let at = layout
                    .data_start
                    .checked_add(uint(value)?)
                    .ok_or_else(|| bad("a SeekPosition overflows"))?;
                layout.seek_positions.push(at);
            }
        }
    }
    Ok(())
}

/// Reads the `Cues` element from the bytes of `SegmentBase@indexRange` (`offset` is the file
/// offset of the first byte; Void and CRC-32 elements before it are skipped) and lists one
/// subsegment per cluster. `fallback_end_seconds` is the media time where the last cluster
/// ends when `Info` has no Duration (the period's end, from the manifest).
pub fn parse_cues(
    bytes: &[u8],
    offset: u64,
    layout: &SegmentLayout,
    fallback_end_seconds: Option<f64>,
) -> Result<SegmentIndex, MpdError> {
    let mut pos = 0usize;
    let cues = loop {
        let h = header(bytes, pos)?;
        match h.id {
            CUES => break h,
            VOID | CRC32 => pos = end_of(&h, body(bytes, &h, "a Void element")?),
            _ => return Err(bad("no Cues element at the index range")),
        }
    };
    let cues_start = u64::try_from(pos)
        .ok()
        .and_then(|p| offset.checked_add(p))
        .ok_or_else(|| bad("offset overflow"))?;
    let mut points: Vec<(u64, u64)> = Vec::new();
    for child in children(body(bytes, &cues, "the Cues element")?) {
        let (id, data) = child?;
        if id != CUE_POINT {
            continue;
        }
        let point = cue_point(data)?;
        match points.last() {
            // Several tracks (or keyframes) in one cluster: the cluster starts at the first.
            Some(&(_, last)) if last == point.1 => continue,
            Some(&(_, last)) if last > point.1 => {
                return Err(bad("CuePoints are not in cluster order"))
            }
            _ => {}
        }
        if points.len() as u64 >= MAX_SEGMENTS_PER_TRACK {
            return Err(MpdError::TooLarge("segments per track"));
        }
        points.push(point);
    }
    if points.is_empty() {
        return Err(bad("the Cues element has no CuePoint"));
    }
    // Ticks of TimecodeScale ns: keep them as the timescale when a second is a whole number
    // of ticks (1 ms by default), else count nanoseconds.
    let tcs = layout.timecode_scale;
    let (timescale, factor) = match NS.checked_div(tcs).filter(|_| NS.is_multiple_of(tcs)) {
        Some(ticks_per_second) => (ticks_per_second, 1),
        None => (NS, tcs),
    };
    let to_media = |ticks: f64| {
        let v = (ticks * factor as f64).round();
        #[allow(
            clippy::cast_possible_truncation,
            reason = "a whole number in 0..1.8e19, checked first: fits a u64"
        )]
        let media = (v.is_finite() && (0.0..1.8e19).contains(&v)).then_some(v as u64);
        media
    };
    let end_time = match layout.duration {
        Some(d) => to_media(d),
        None => fallback_end_seconds.and_then(|s| to_media(s * timescale as f64 / factor as f64)),
    };
    let mut starts = Vec::with_capacity(points.len());
    for &(time, cluster) in &points {
        let t = time
            .checked_mul(factor)
            .ok_or_else(|| bad("CueTime overflows"))?;
        let at = layout
            .data_start
            .checked_add(cluster)
            .ok_or_else(|| bad("CueClusterPosition overflows"))?;
        starts.push((t, at));
    }
    let cues_end = cues_start
        .checked_add(u64::try_from(cues.data.saturating_sub(pos)).unwrap_or(u64::MAX))
        .and_then(|e| e.checked_add(cues.size.unwrap_or(0)))
        .ok_or_else(|| bad("offset overflow"))?;
    let mut subsegments = Vec::with_capacity(starts.len());
    for (k, &(t, start)) in starts.iter().enumerate() {
        if (cues_start..cues_end).contains(&start) {
            return Err(bad("a CueClusterPosition points inside the Cues"));
        }
        let (end, next_t) = match k.checked_add(1).and_then(|n| starts.get(n)) {
            Some(&(next_t, next)) => (next, Some(next_t)),
            None => (last_end(start, cues_start, layout)?, end_time),
        };
        let next_t = next_t.ok_or_else(|| {
            bad("the last cluster's duration is unknown (no Info Duration or period duration)")
        })?;
        let d = next_t
            .checked_sub(t)
            .filter(|d| *d > 0)
            .ok_or_else(|| bad("CueTimes do not increase"))?;
        let last = end
            .checked_sub(1)
            .filter(|l| *l >= start)
            .ok_or_else(|| bad("a cluster of 0 bytes"))?;
        checked_range([start, last], || {
            format!("{start}-{last} of a WebM cluster")
        })?;
        subsegments.push(Subsegment {
            range: [start, last],
            t,
            d,
        });
    }
    Ok(SegmentIndex {
        timescale,
        subsegments,
    })
}

/// One CuePoint: its time and the first cluster position among its track positions.
fn cue_point(data: &[u8]) -> Result<(u64, u64), MpdError> {
    let mut time = None;
    let mut cluster = None;
    for child in children(data) {
        let (id, value) = child?;
        match id {
            CUE_TIME => time = Some(uint(value)?),
            CUE_TRACK_POSITIONS if cluster.is_none() => {
                for field in children(value) {
                    let (id, v) = field?;
                    if id == CUE_CLUSTER_POSITION {
                        cluster = Some(uint(v)?);
                    }
                }
            }
            _ => {}
        }
    }
    match (time, cluster) {
        (Some(t), Some(c)) => Ok((t, c)),
        _ => Err(bad("a CuePoint without CueTime or CueClusterPosition")),
    }
}

/// One past the last byte of the last cluster (starting at `start`): the first element known to
/// follow it, else the end of the Segment.
fn last_end(start: u64, cues_start: u64, layout: &SegmentLayout) -> Result<u64, MpdError> {
    std::iter::once(cues_start)
        .chain(layout.seek_positions.iter().copied())
        .filter(|p| *p > start)
        .chain(layout.data_end)
        .min()
        .ok_or_else(|| {
            bad("the Segment has an unknown size and nothing is known to follow the last cluster, so its end is unknown")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vints_of_every_length_and_the_unknown_marker() {
        assert_eq!(vint(&[0x81], 0).unwrap(), (1, false, 1));
        assert_eq!(vint(&[0x40, 0x02], 0).unwrap(), (2, false, 2));
        assert_eq!(vint(&[0xFF], 0).unwrap(), (127, true, 1));
        let eight = [0x01, 0, 0, 0, 0, 0, 0x29, 0x54];
        assert_eq!(vint(&eight, 0).unwrap(), (0x2954, false, 8));
        let unknown = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert!(vint(&unknown, 0).unwrap().1);
    }

    #[test]
    fn vints_longer_than_8_bytes_or_truncated_are_errors() {
        assert!(vint(&[0x00, 1, 2, 3, 4, 5, 6, 7, 8], 0).is_err());
        assert!(vint(&[0x40], 0).is_err());
        assert!(vint(&[], 0).is_err());
    }

    #[test]
    fn ids_longer_than_4_bytes_are_errors() {
        assert!(header(&[0x08, 0, 0, 0, 0, 0x80], 0).is_err());
    }

    #[test]
    fn an_element_larger_than_the_bytes_is_an_error_not_a_panic() {
        let b = [
            0x1C, 0x53, 0xBB, 0x6B, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
        ];
        let layout = SegmentLayout {
            data_start: 48,
            data_end: None,
            timecode_scale: 1_000_000,
            duration: None,
            seek_positions: Vec::new(),
        };
        assert!(parse_cues(&b, 0, &layout, None).is_err());
    }

    #[test]
    fn mp4_boxes_are_not_taken_for_webm() {
        assert!(!looks_like_webm(b"\0\0\0\x2csidx"));
        assert!(looks_like_webm(&CUES.to_be_bytes()));
    }
}
