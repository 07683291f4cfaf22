//! Hierarchical segment indexes (ISO/IEC 14496-12 §8.16.3): a `sidx` whose references of
//! `reference_type` 1 point at further `sidx` boxes, each indexing a part of the file, in order.
//! The leaves, read depth first, are the media subsegments.
//!
//! The referenced boxes are elsewhere in the file, so resolving takes rounds of fetching:
//! [`resolve_sidx`] gives either the flattened index or the byte ranges of the boxes it still
//! lacks, and is called again once they are fetched. Every round reaches one level deeper, and
//! the depth, the box count and the bytes are capped so that a hostile index cannot make the
//! planner fetch without bound.
//!
//! shaka-player 5.2 refuses such an index (`MP4_SIDX_TYPE_NOT_SUPPORTED`); dash.js follows it.
//! The stored copy does not depend on either: its local manifest lists the leaves as a
//! SegmentTimeline.

use crate::error::MpdError;
use crate::sidx::{parse_sidx_box, SegmentIndex, SidxBox, Subsegment};

/// Levels of boxes below the top one that are followed (real hierarchical indexes use one or
/// two; a daisy chain, one level per box, is refused beyond this).
pub const MAX_SIDX_DEPTH: usize = 4;
/// Most referenced boxes one track's index may have: each is one request while planning.
pub const MAX_SIDX_BOXES: usize = 1024;
/// Largest referenced box accepted: 65,535 references of 12 bytes and the headers fit in
/// 1 MiB, so a larger size is no real `sidx`.
pub const MAX_SIDX_BOX_BYTES: u64 = 1 << 20;
/// Most bytes fetched for the referenced boxes of one track's index in all (into memory).
pub const MAX_SIDX_TREE_BYTES: u64 = 16 << 20;
/// Bytes fetched first at the start of a referenced range. The range covers the box and all
/// the media it indexes, so only its start is fetched: a box of up to ~5,000 references fits,
/// and a larger one's size, read from its header, is fetched in the next round.
pub const FIRST_FETCH: u64 = 64 * 1024;

/// What resolving an index gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Every box was there: the subsegments in order.
    Index(SegmentIndex),
    /// The byte ranges to fetch before resolving again (no duplicates).
    Needs(Vec<[u64; 2]>),
}

/// Resolves the index whose first bytes, at file offset `offset`, are `top` (the `indexRange`).
/// `lookup` gives the bytes fetched for a range an earlier call asked for; a box inside `top`
/// itself is read from there.
pub fn resolve_sidx<'a, F>(top: &'a [u8], offset: u64, lookup: F) -> Result<Resolved, MpdError>
where
    F: Fn([u64; 2]) -> Option<&'a [u8]>,
{
    let root = parse_sidx_box(top, offset)?;
    let mut walk = Walk {
        top,
        offset,
        lookup,
        timescale: root.timescale,
        leaves: Vec::new(),
        needs: Vec::new(),
        boxes: 0,
        bytes: 0,
    };
    walk.visit(root, 0)?;
    if walk.needs.is_empty() {
        Ok(Resolved::Index(SegmentIndex {
            timescale: walk.timescale,
            subsegments: walk.leaves,
        }))
    } else {
        Ok(Resolved::Needs(walk.needs))
    }
}

struct Walk<'a, F> {
    top: &'a [u8],
    offset: u64,
    lookup: F,
    timescale: u64,
    leaves: Vec<Subsegment>,
    needs: Vec<[u64; 2]>,
    boxes: usize,
    /// Bytes of the ranges looked up so far, fetched or to fetch.
    bytes: u64,
}

fn bad(why: String) -> MpdError {
    MpdError::BadIndex(why)
}

impl<'a, F: Fn([u64; 2]) -> Option<&'a [u8]>> Walk<'a, F> {
    /// Adds the leaves under `b` (at `depth` below the top box), or the ranges still missing.
    fn visit(&mut self, b: SidxBox, depth: usize) -> Result<(), MpdError> {
        for r in b.references {
            if !r.to_index {
                if self.leaves.len() as u64 >= crate::segments::MAX_SEGMENTS_PER_TRACK {
                    return Err(MpdError::TooLarge("segments per track"));
                }
                self.leaves.push(Subsegment {
                    range: r.range,
                    t: r.t,
                    d: r.d,
                });
                continue;
            }
            if depth >= MAX_SIDX_DEPTH {
                return Err(bad(format!(
                    "the hierarchical sidx nests deeper than {MAX_SIDX_DEPTH} levels"
                )));
            }
            self.boxes = self.boxes.saturating_add(1);
            if self.boxes > MAX_SIDX_BOXES {
                return Err(bad(format!(
                    "the hierarchical sidx references more than {MAX_SIDX_BOXES} boxes"
                )));
            }
            if let Some(child) = self.child(r.range)? {
                if child.timescale != self.timescale {
                    return Err(bad(format!(
                        "a referenced sidx has timescale {}, the top one {}",
                        child.timescale, self.timescale
                    )));
                }
                // Below MAX_SIDX_DEPTH, checked above.
                self.visit(child, depth.saturating_add(1))?;
            }
        }
        Ok(())
    }

    /// The box at the start of the referenced range `[a, b]`, or `None` once the bytes it
    /// needs are listed.
    fn child(&mut self, [a, b]: [u64; 2]) -> Result<Option<SidxBox>, MpdError> {
        if let Some(bytes) = self.in_top(a, b) {
            if let Some(len) = box_len(bytes, a)?.filter(|&n| n <= bytes.len()) {
                return bytes.get(..len).map(|x| parse_sidx_box(x, a)).transpose();
            }
        }
        // `a <= b` (bounds-checked when parsed); FIRST_FETCH - 1 cannot wrap.
        let probe = [a, b.min(a.saturating_add(FIRST_FETCH - 1))];
        let Some(bytes) = self.fetched(probe)? else {
            return Ok(None);
        };
        let len = box_len(bytes, a)?
            .ok_or_else(|| bad(format!("the sidx box referenced at {a} is truncated")))?;
        let bytes = match bytes.get(..len) {
            Some(whole) => whole,
            None => {
                let whole = crate::byterange::range_len([a, b])
                    .filter(|&room| len as u64 <= room)
                    .and_then(|_| Some([a, a.checked_add((len as u64).checked_sub(1)?)?]))
                    .ok_or_else(|| {
                        bad(format!(
                            "the sidx box referenced at {a} is longer than its reference"
                        ))
                    })?;
                match self.fetched(whole)? {
                    Some(bytes) => bytes
                        .get(..len)
                        .ok_or_else(|| bad(format!("the sidx box at {a} is truncated")))?,
                    None => return Ok(None),
                }
            }
        };
        parse_sidx_box(bytes, a).map(Some)
    }

    /// The bytes fetched for `range`, or `None` after listing it (within the caps).
    fn fetched(&mut self, range: [u64; 2]) -> Result<Option<&'a [u8]>, MpdError> {
        self.bytes = self
            .bytes
            .saturating_add(crate::byterange::range_len(range).unwrap_or(u64::MAX));
        if self.bytes > MAX_SIDX_TREE_BYTES {
            return Err(bad(format!(
                "the referenced sidx boxes exceed {MAX_SIDX_TREE_BYTES} bytes"
            )));
        }
        let got = (self.lookup)(range);
        if got.is_none() && !self.needs.contains(&range) {
            self.needs.push(range);
        }
        Ok(got)
    }

    /// The bytes of `[a, b]` the top index bytes hold, from `a` on.
    fn in_top(&self, a: u64, b: u64) -> Option<&'a [u8]> {
        let start = usize::try_from(a.checked_sub(self.offset)?).ok()?;
        let end = usize::try_from(b.checked_sub(self.offset)?.checked_add(1)?).ok()?;
        let top: &'a [u8] = self.top;
        top.get(start..end.min(top.len()))
    }
}

/// The length of the `sidx` box `bytes` start with (at file offset `at`, for messages): `None`
/// when even its header is not there yet. A box of another type, or larger than
/// [`MAX_SIDX_BOX_BYTES`], is an error.
fn box_len(bytes: &[u8], at: u64) -> Result<Option<usize>, MpdError> {
    let Some(header) = bytes.get(..8) else {
        return Ok(None);
    };
    if &header[4..8] != b"sidx" {
        return Err(bad(format!(
            "the reference to an index at {at} does not point at a sidx box"
        )));
    }
    let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
    let size = match size32 {
        1 => match bytes.get(8..16) {
            Some(s) => u64::from_be_bytes(s.try_into().map_err(|_| bad("truncated".into()))?),
            None => return Ok(None),
        },
        s => u64::from(s),
    };
    if !(8..=MAX_SIDX_BOX_BYTES).contains(&size) {
        return Err(bad(format!(
            "the sidx box referenced at {at} claims {size} bytes"
        )));
    }
    #[allow(
        clippy::cast_possible_truncation,
        reason = "at most MAX_SIDX_BOX_BYTES (1 MiB): fits a usize"
    )]
    Ok(Some(size as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A version-1 sidx box with (reference_type, size, duration) references.
    fn sidx(timescale: u32, earliest: u64, first: u64, refs: &[(bool, u32, u32)]) -> Vec<u8> {
        crate::test_support::sidx_box(1, timescale, earliest, first, refs)
    }

    /// A file with a top box at 1000 indexing two parts, each a box directly followed by its
    /// media, as packagers lay them out; media bytes are zeros. Gives (file, top box, leaves).
    fn two_level(media: u32) -> (Vec<u8>, Vec<u8>, Vec<[u64; 2]>) {
        let child_a = sidx(1000, 0, 0, &[(false, media, 2000), (false, 50, 2000)]);
        let child_b = sidx(1000, 4000, 0, &[(false, 70, 1000)]);
        let (la, lb) = (child_a.len() as u32, child_b.len() as u32);
        let top = sidx(
            1000,
            0,
            0,
            &[(true, la + media + 50, 4000), (true, lb + 70, 1000)],
        );
        let mut file = vec![0u8; 1000];
        file.extend(&top);
        let a = file.len() as u64 + u64::from(la);
        file.extend(&child_a);
        file.resize(file.len() + media as usize + 50, 0);
        let b = file.len() as u64 + u64::from(lb);
        file.extend(&child_b);
        file.resize(file.len() + 70, 0);
        let m = u64::from(media);
        let leaves = vec![[a, a + m - 1], [a + m, a + m + 49], [b, b + 69]];
        (file, top, leaves)
    }

    /// Resolves `top` (at 1000) against `file` round after round; gives the index and the
    /// ranges fetched.
    fn resolve_rounds(file: &[u8], top: &[u8]) -> Result<(SegmentIndex, Vec<[u64; 2]>), MpdError> {
        let mut fetched: HashMap<[u64; 2], Vec<u8>> = HashMap::new();
        let mut asked = Vec::new();
        for _ in 0..=MAX_SIDX_DEPTH + 1 {
            match resolve_sidx(top, 1000, |r| fetched.get(&r).map(Vec::as_slice))? {
                Resolved::Index(index) => return Ok((index, asked)),
                Resolved::Needs(ranges) => {
                    for r in ranges {
                        let bytes = file.get(r[0] as usize..=r[1] as usize).unwrap_or_default();
                        fetched.insert(r, bytes.to_vec());
                        asked.push(r);
                    }
                }
            }
        }
        panic!("no end")
    }

    #[test]
    fn the_leaves_of_a_two_level_index_are_its_subsegments_in_order() {
        let (file, top, leaves) = two_level(100);
        let (index, asked) = resolve_rounds(&file, &top).unwrap();
        assert_eq!(asked.len(), 2, "one fetch per referenced box");
        let got: Vec<([u64; 2], u64, u64)> = index
            .subsegments
            .iter()
            .map(|s| (s.range, s.t, s.d))
            .collect();
        assert_eq!(
            got,
            [
                (leaves[0], 0, 2000),
                (leaves[1], 2000, 2000),
                (leaves[2], 4000, 1000)
            ]
        );
    }

    #[test]
    fn only_the_start_of_a_referenced_range_is_fetched_not_the_media_it_covers() {
        let (file, top, leaves) = two_level(3_000_000);
        let (index, asked) = resolve_rounds(&file, &top).unwrap();
        let first = asked[0];
        assert_eq!(first[1] - first[0] + 1, FIRST_FETCH);
        assert_eq!(index.subsegments.len(), 3);
        assert_eq!(index.subsegments[0].range, leaves[0]);
    }

    #[test]
    fn a_referenced_box_larger_than_the_first_fetch_is_fetched_whole_next() {
        let refs: Vec<(bool, u32, u32)> = vec![(false, 10, 1); 6000];
        let child = sidx(1000, 0, 0, &refs);
        let top = sidx(1000, 0, 0, &[(true, child.len() as u32 + 60_000, 6000)]);
        let mut file = vec![0u8; 1000];
        file.extend(&top);
        let at = file.len() as u64;
        file.extend(&child);
        file.resize(file.len() + 60_000, 0);
        let (index, asked) = resolve_rounds(&file, &top).unwrap();
        assert_eq!(
            asked,
            [
                [at, at + FIRST_FETCH - 1],
                [at, at + child.len() as u64 - 1]
            ]
        );
        assert_eq!(index.subsegments.len(), 6000);
    }

    #[test]
    fn boxes_inside_the_fetched_index_range_need_no_second_fetch() {
        let child = sidx(1000, 0, 0, &[(false, 10, 1000)]);
        let mut top = sidx(1000, 0, 0, &[(true, child.len() as u32 + 10, 1000)]);
        let top_len = top.len() as u64;
        top.extend(&child);
        let got = resolve_sidx(&top, 0, |_| None).unwrap();
        let Resolved::Index(index) = got else {
            panic!("{got:?}")
        };
        assert_eq!(index.subsegments[0].range[0], top_len + child.len() as u64);
    }

    #[test]
    fn a_chain_deeper_than_the_cap_is_refused_clearly() {
        // Every box references one box of the same bytes: the walk never ends but for the cap.
        let size = sidx(1, 0, 0, &[(true, 1, 1)]).len() as u32;
        let looped = sidx(1, 0, 0, &[(true, size, 1)]);
        let err = resolve_sidx(&looped, 0, |_| Some(looped.as_slice())).unwrap_err();
        assert_eq!(
            err,
            MpdError::BadIndex("the hierarchical sidx nests deeper than 4 levels".into())
        );
    }

    #[test]
    fn too_many_referenced_boxes_or_bytes_are_refused() {
        let many: Vec<(bool, u32, u32)> = vec![(true, 100, 1); MAX_SIDX_BOXES + 1];
        let err = resolve_sidx(&sidx(1, 0, 0, &many), 0, |_| None).unwrap_err();
        assert!(matches!(err, MpdError::BadIndex(m) if m.contains("more than 1024 boxes")));
        let big: Vec<(bool, u32, u32)> = vec![(true, 0x7fff_ffff, 1); 300];
        let err = resolve_sidx(&sidx(1, 0, 0, &big), 0, |_| None).unwrap_err();
        assert!(matches!(err, MpdError::BadIndex(m) if m.contains("exceed")));
    }

    #[test]
    fn a_referenced_box_with_another_timescale_or_no_sidx_is_an_error() {
        let (mut file, top, _) = two_level(100);
        let err = resolve_sidx(&top, 1000, |_| Some(&b"not a box"[..])).unwrap_err();
        assert!(matches!(err, MpdError::BadIndex(m) if m.contains("does not point at a sidx")));
        let at = 1000 + top.len();
        file[at + 19] = 0xe9; // the first child's timescale: 1000 -> 1001
        let err = resolve_rounds(&file, &top).unwrap_err();
        assert!(matches!(err, MpdError::BadIndex(m) if m.contains("timescale")));
    }
}
