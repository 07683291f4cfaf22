//! The `sidx` (segment index) box of ISO/IEC 14496-12, versions 0 and 1: the byte range and
//! duration of every subsegment of a SegmentBase representation.

use crate::error::MpdError;

/// One subsegment the index points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subsegment {
    /// Inclusive byte range in the file.
    pub range: [u64; 2],
    /// Start time in the index's timescale.
    pub t: u64,
    /// Duration in the index's timescale.
    pub d: u64,
}

/// A parsed segment index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentIndex {
    /// Timescale of `t` and `d`.
    pub timescale: u64,
    /// The subsegments in order.
    pub subsegments: Vec<Subsegment>,
}

/// One reference of a `sidx` box: to media (a subsegment), or to another `sidx` box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    /// Inclusive byte range in the file of the subsegment, or of the referenced box.
    pub range: [u64; 2],
    /// Start time in the box's timescale.
    pub t: u64,
    /// Duration in the box's timescale.
    pub d: u64,
    /// `reference_type` 1: the range is another `sidx` box (a hierarchical index).
    pub to_index: bool,
}

/// One parsed `sidx` box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidxBox {
    /// Timescale of `t` and `d`.
    pub timescale: u64,
    /// The references in order.
    pub references: Vec<Reference>,
}

/// Most references accepted in one index (the field is 16 bits).
const MAX_REFERENCES: usize = 65_535;

/// Parses the bytes fetched from `indexRange`; `offset` is the file offset of the first byte.
/// Boxes before the `sidx` in the range (e.g. `styp`) are skipped. A box referencing other
/// boxes is an error here: [`resolve_sidx`] follows those.
pub fn parse_sidx(bytes: &[u8], offset: u64) -> Result<SegmentIndex, MpdError> {
    into_index(parse_sidx_box(bytes, offset)?)
}

/// The subsegments of a box that references media only.
fn into_index(b: SidxBox) -> Result<SegmentIndex, MpdError> {
    let mut subsegments = Vec::with_capacity(b.references.len());
    for r in b.references {
        if r.to_index {
            return Err(MpdError::BadIndex(
                "the sidx references another sidx (a hierarchical index)".into(),
            ));
        }
        subsegments.push(Subsegment {
            range: r.range,
            t: r.t,
            d: r.d,
        });
    }
    Ok(SegmentIndex {
        timescale: b.timescale,
        subsegments,
    })
}

/// Parses the first `sidx` box in `bytes` (file offset `offset`), references of both types.
pub fn parse_sidx_box(bytes: &[u8], offset: u64) -> Result<SidxBox, MpdError> {
    let (body, end) = find_sidx(bytes)?;
    let anchor = offset
        .checked_add(end as u64)
        .ok_or_else(|| MpdError::BadIndex("offset overflow".into()))?;
    parse_body(body, anchor)
}

/// Parses the first `sidx` box of a file apart from the media it indexes (an index segment,
/// e.g. `SegmentTemplate@index` naming another file): its `first_offset` counts from the start
/// of the media file, not from the end of the box, as shaka-player reads it
/// (`indexIsExternal`). The boxes it references would be in the media file, so a hierarchical
/// index is refused here, as shaka-player does.
pub fn parse_external_sidx(bytes: &[u8]) -> Result<SegmentIndex, MpdError> {
    let (body, _) = find_sidx(bytes)?;
    into_index(parse_body(body, 0)?)
}

/// The body of the first `sidx` box in `bytes` and the position just after the box.
fn find_sidx(bytes: &[u8]) -> Result<(&[u8], usize), MpdError> {
    let bad = |why: &str| MpdError::BadIndex(why.to_string());
    let mut pos = 0usize;
    loop {
        // The box at `pos` and everything after it.
        let rest = bytes
            .get(pos..)
            .filter(|rest| !rest.is_empty())
            .ok_or_else(|| bad("no sidx box in the index range"))?;
        let header = rest
            .get(..8)
            .ok_or_else(|| bad("no sidx box in the index range"))?;
        let size32 = read_u32(header, 0).ok_or_else(|| bad("no sidx box in the index range"))?;
        let (size, header_len) = match size32 {
            1 => (
                read_u64(rest, 8).ok_or_else(|| bad("truncated box size"))?,
                16,
            ),
            0 => (rest.len() as u64, 8),
            s => (u64::from(s), 8),
        };
        if size < header_len as u64 {
            return Err(bad("box size smaller than its header"));
        }
        let size = usize::try_from(size).map_err(|_| bad("box too large"))?;
        let end = pos.checked_add(size).ok_or_else(|| bad("box too large"))?;
        if header.get(4..8) == Some(b"sidx") {
            let body = rest
                .get(header_len..size)
                .ok_or_else(|| bad("sidx box is truncated"))?;
            return Ok((body, end));
        }
        pos = end;
    }
}

/// `anchor` is the file offset of the first byte after the sidx box.
fn parse_body(b: &[u8], anchor: u64) -> Result<SidxBox, MpdError> {
    let bad = |why: &str| MpdError::BadIndex(why.to_string());
    let version = *b.first().ok_or_else(|| bad("empty sidx"))?;
    let timescale = u64::from(read_u32(b, 8).ok_or_else(|| bad("truncated sidx"))?);
    if timescale == 0 {
        return Err(bad("sidx timescale is 0"));
    }
    // The fields after the timescale, by version: the two times, then 2 reserved bytes, the
    // reference count, and the references from `refs_at`, 12 bytes each.
    let (earliest, first_offset, count_at, refs_at) = match version {
        0 => (
            u64::from(read_u32(b, 12).ok_or_else(|| bad("truncated sidx"))?),
            u64::from(read_u32(b, 16).ok_or_else(|| bad("truncated sidx"))?),
            22,
            24,
        ),
        1 => (
            read_u64(b, 12).ok_or_else(|| bad("truncated sidx"))?,
            read_u64(b, 20).ok_or_else(|| bad("truncated sidx"))?,
            30,
            32,
        ),
        v => return Err(bad(&format!("sidx version {v} is unknown"))),
    };
    let count = usize::from(read_u16(b, count_at).ok_or_else(|| bad("truncated sidx"))?);
    let entries = b.get(refs_at..).unwrap_or_default().chunks_exact(12);
    if count > MAX_REFERENCES || entries.len() < count {
        return Err(bad("sidx reference count exceeds the box"));
    }
    let mut start = anchor
        .checked_add(first_offset)
        .ok_or_else(|| bad("offset overflow"))?;
    let mut t = earliest;
    let mut references = Vec::with_capacity(count);
    for entry in entries.take(count) {
        let word = read_u32(entry, 0).ok_or_else(|| bad("truncated sidx"))?;
        let to_index = word & 0x8000_0000 != 0;
        let size = u64::from(word & 0x7fff_ffff);
        let d = u64::from(read_u32(entry, 4).ok_or_else(|| bad("truncated sidx"))?);
        if size == 0 {
            return Err(bad("a subsegment of 0 bytes"));
        }
        let next = start
            .checked_add(size)
            .ok_or_else(|| bad("offset overflow"))?;
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "`size` is at least 1, so `next` is too"
        )]
        let range = [start, next - 1];
        crate::byterange::checked_range(range, || {
            format!("{start}-{} of a subsegment in the sidx", range[1])
        })?;
        references.push(Reference {
            range,
            t,
            d,
            to_index,
        });
        start = next;
        t = t.checked_add(d).ok_or_else(|| bad("time overflow"))?;
    }
    Ok(SidxBox {
        timescale,
        references,
    })
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn read_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sidx box of media references: version, timescale, earliest time, first offset,
    /// (size, duration) refs.
    fn sidx(
        version: u8,
        timescale: u32,
        earliest: u64,
        first: u64,
        refs: &[(u32, u32)],
    ) -> Vec<u8> {
        let refs: Vec<_> = refs.iter().map(|&(size, d)| (false, size, d)).collect();
        crate::test_support::sidx_box(version, timescale, earliest, first, &refs)
    }

    #[test]
    fn version_0_subsegments_follow_the_box() {
        let b = sidx(0, 1000, 0, 0, &[(100, 2000), (50, 1500)]);
        let idx = parse_sidx(&b, 800).unwrap();
        let anchor = 800 + b.len() as u64;
        assert_eq!(idx.timescale, 1000);
        assert_eq!(
            idx.subsegments[0],
            Subsegment {
                range: [anchor, anchor + 99],
                t: 0,
                d: 2000
            }
        );
        assert_eq!(
            idx.subsegments[1],
            Subsegment {
                range: [anchor + 100, anchor + 149],
                t: 2000,
                d: 1500
            }
        );
    }

    #[test]
    fn version_1_with_first_offset_and_64_bit_times() {
        let b = sidx(1, 90_000, 5_000_000_000, 10, &[(7, 90_000)]);
        let idx = parse_sidx(&b, 0).unwrap();
        let anchor = b.len() as u64 + 10;
        assert_eq!(
            idx.subsegments[0],
            Subsegment {
                range: [anchor, anchor + 6],
                t: 5_000_000_000,
                d: 90_000
            }
        );
    }

    #[test]
    fn an_external_index_counts_first_offset_from_the_media_file_start() {
        let mut b = vec![0, 0, 0, 16];
        b.extend(b"styp");
        b.extend([0u8; 8]);
        b.extend(sidx(0, 1000, 0, 867, &[(100, 2000), (50, 1500)]));
        let idx = parse_external_sidx(&b).unwrap();
        let got: Vec<[u64; 2]> = idx.subsegments.iter().map(|s| s.range).collect();
        assert_eq!(got, [[867, 966], [967, 1016]]);
        let mut nested = sidx(0, 1000, 0, 0, &[(100, 2000)]);
        nested[32] |= 0x80; // reference_type 1: another sidx
        assert!(parse_external_sidx(&nested).is_err());
    }

    #[test]
    fn boxes_before_the_sidx_are_skipped() {
        let mut b = vec![0, 0, 0, 16];
        b.extend(b"styp");
        b.extend([0u8; 8]);
        b.extend(sidx(0, 1000, 0, 0, &[(10, 1000)]));
        assert_eq!(parse_sidx(&b, 0).unwrap().subsegments.len(), 1);
    }

    #[test]
    fn truncated_or_lying_boxes_are_errors_not_panics() {
        let b = sidx(0, 1000, 0, 0, &[(100, 2000), (50, 1500)]);
        for cut in 0..b.len() {
            assert!(parse_sidx(&b[..cut], 0).is_err(), "cut at {cut}");
        }
        let mut lying = b.clone();
        lying[31] = 0xff; // reference count far beyond the box
        assert!(parse_sidx(&lying, 0).is_err());
        assert!(parse_sidx(&sidx(2, 1000, 0, 0, &[]), 0).is_err());
        assert!(parse_sidx(&sidx(0, 0, 0, 0, &[(1, 1)]), 0).is_err());
    }

    #[test]
    fn a_huge_box_before_the_sidx_is_an_error_not_an_overflow() {
        // Found by the fuzzer: a 64-bit box size near usize::MAX overflowed the box walk.
        let mut b = vec![0, 0, 0, 1];
        b.extend(b"free");
        b.extend((u64::MAX - 4).to_be_bytes());
        assert!(parse_sidx(&b, 0).is_err());
    }

    #[test]
    fn offsets_past_the_end_of_u64_are_errors() {
        // Found by the fuzzer: a first_offset near u64::MAX overflowed the subsegment end.
        let b = sidx(1, 1000, 0, u64::MAX - 200, &[(100, 1), (100, 1)]);
        assert!(parse_sidx(&b, 0).is_err());
        let b = sidx(1, 1000, 0, u64::MAX - 50, &[(100, 1)]);
        assert_eq!(
            parse_sidx(&b, 0),
            Err(MpdError::BadIndex("offset overflow".into()))
        );
    }

    #[test]
    fn subsegments_past_what_javascript_can_address_are_out_of_bounds() {
        let b = sidx(1, 1000, 0, crate::MAX_OFFSET, &[(100, 1)]);
        assert!(matches!(
            parse_sidx(&b, 0),
            Err(MpdError::RangeOutOfBounds(_))
        ));
    }
}
