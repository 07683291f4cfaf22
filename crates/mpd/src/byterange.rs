//! Inclusive byte ranges `[first, last]` read from manifests and segment indexes.
//!
//! Every offset here comes from outside data, so lengths are computed with checked arithmetic
//! in one place that the planner, the engine and the worker share.

use crate::error::MpdError;

/// The largest byte offset accepted: 2^53 − 1, the largest integer a JavaScript number holds
/// exactly. The worker passes offsets to `Blob.slice` and `Range` headers as numbers, so a larger
/// one would silently address the wrong byte; no real file comes near it (8 PiB).
pub const MAX_OFFSET: u64 = (1 << 53) - 1;

/// The number of bytes of `[a, b]`; `None` when `b < a` or the count does not fit a `u64`
/// (`[0, u64::MAX]`).
pub fn range_len([a, b]: [u64; 2]) -> Option<u64> {
    b.checked_sub(a)?.checked_add(1)
}

/// The length of a range that must be usable: `a <= b <= MAX_OFFSET`. `what` names the range in
/// the error (e.g. `<SegmentURL mediaRange="0-9">`).
pub fn checked_range(range: [u64; 2], what: impl FnOnce() -> String) -> Result<u64, MpdError> {
    match range_len(range) {
        Some(len) if range[1] <= MAX_OFFSET => Ok(len),
        _ => Err(MpdError::RangeOutOfBounds(what())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_of_an_inclusive_range() {
        assert_eq!(range_len([0, 0]), Some(1));
        assert_eq!(range_len([10, 19]), Some(10));
    }

    #[test]
    fn the_whole_u64_space_has_no_length() {
        assert_eq!(range_len([0, u64::MAX]), None);
        assert_eq!(range_len([1, u64::MAX]), Some(u64::MAX));
        assert_eq!(range_len([5, 4]), None);
    }

    #[test]
    fn offsets_past_what_javascript_can_address_are_out_of_bounds() {
        assert_eq!(checked_range([0, MAX_OFFSET], String::new), Ok(1 << 53));
        assert_eq!(
            checked_range([0, MAX_OFFSET + 1], || "r".into()),
            Err(MpdError::RangeOutOfBounds("r".into()))
        );
        assert!(checked_range([0, u64::MAX], String::new).is_err());
        assert!(checked_range([3, 2], String::new).is_err());
    }
}
