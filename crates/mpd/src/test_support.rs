//! Builders of binary test data, for this crate's tests and those of the crates using it (the
//! `test-support` feature, which only dev-dependencies enable). Not part of the API.
#![allow(
    clippy::cast_possible_truncation,
    clippy::arithmetic_side_effects,
    reason = "builds test boxes from small literal sizes and counts"
)]

/// A `sidx` box of `version` 0 or 1 (ISO/IEC 14496-12 §8.16.3) with one reference ID and
/// `(reference_type, referenced_size, subsegment_duration)` references, each starting with a
/// SAP of type 1. Version 0 writes `earliest` and `first` (the first offset) in 32 bits.
pub fn sidx_box(
    version: u8,
    timescale: u32,
    earliest: u64,
    first: u64,
    refs: &[(bool, u32, u32)],
) -> Vec<u8> {
    let mut body = vec![version, 0, 0, 0];
    body.extend(1u32.to_be_bytes());
    body.extend(timescale.to_be_bytes());
    if version == 0 {
        body.extend((earliest as u32).to_be_bytes());
        body.extend((first as u32).to_be_bytes());
    } else {
        body.extend(earliest.to_be_bytes());
        body.extend(first.to_be_bytes());
    }
    body.extend([0, 0]);
    body.extend((refs.len() as u16).to_be_bytes());
    for (to_index, size, d) in refs {
        body.extend((size | if *to_index { 0x8000_0000 } else { 0 }).to_be_bytes());
        body.extend(d.to_be_bytes());
        body.extend(0x9000_0000u32.to_be_bytes());
    }
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend(b"sidx");
    out.extend(body);
    out
}
