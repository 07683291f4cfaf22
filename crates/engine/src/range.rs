//! RFC 9110 single byte-range requests, as the worker answers them from a stored Blob.
//!
//! The header comes from the page's request: no arithmetic on it may overflow.
#![cfg_attr(
    not(test),
    warn(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)
)]

/// What to answer to a request with an optional `Range` header, for a body of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 200 with the whole body (no header, or one we ignore as malformed or multi-range).
    Full,
    /// 206 with bytes `start..=end`.
    Partial {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

/// Interprets `bytes=a-b`, `bytes=a-` and `bytes=-n` (b clamped to size−1).
pub fn answer(header: Option<&str>, size: u64) -> RangeAnswer {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let parse = |s: &str| {
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse::<u64>().ok()
        } else {
            None
        }
    };
    match (a.is_empty(), b.is_empty()) {
        (true, true) => RangeAnswer::Full,
        (true, false) => match parse(b) {
            None => RangeAnswer::Full,
            Some(0) => RangeAnswer::Unsatisfiable,
            Some(_) if size == 0 => RangeAnswer::Unsatisfiable,
            Some(n) => RangeAnswer::Partial {
                start: size.saturating_sub(n),
                // `size` is not 0 here.
                end: size.saturating_sub(1),
            },
        },
        (false, _) => {
            let Some(start) = parse(a) else {
                return RangeAnswer::Full;
            };
            let end = if b.is_empty() {
                Some(u64::MAX)
            } else {
                parse(b)
            };
            let Some(end) = end else {
                return RangeAnswer::Full;
            };
            if end < start {
                return RangeAnswer::Full;
            }
            if start >= size {
                return RangeAnswer::Unsatisfiable;
            }
            RangeAnswer::Partial {
                start,
                // `size` is above `start` here, so not 0.
                end: end.min(size.saturating_sub(1)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_range_is_clamped_to_the_body() {
        assert_eq!(
            answer(Some("bytes=10-999"), 100),
            RangeAnswer::Partial { start: 10, end: 99 }
        );
    }

    #[test]
    fn open_and_suffix_ranges() {
        assert_eq!(
            answer(Some("bytes=90-"), 100),
            RangeAnswer::Partial { start: 90, end: 99 }
        );
        assert_eq!(
            answer(Some("bytes=-10"), 100),
            RangeAnswer::Partial { start: 90, end: 99 }
        );
        assert_eq!(
            answer(Some("bytes=-1000"), 100),
            RangeAnswer::Partial { start: 0, end: 99 }
        );
    }

    #[test]
    fn start_past_the_end_is_unsatisfiable() {
        assert_eq!(answer(Some("bytes=100-"), 100), RangeAnswer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=-0"), 100), RangeAnswer::Unsatisfiable);
    }

    #[test]
    fn malformed_or_multiple_ranges_get_the_whole_body() {
        for h in [
            "bytes=abc",
            "items=1-2",
            "bytes=5-1",
            "bytes=1-2,4-5",
            "bytes=-",
            "bytes=+1-2",
        ] {
            assert_eq!(answer(Some(h), 100), RangeAnswer::Full, "{h}");
        }
        assert_eq!(answer(None, 100), RangeAnswer::Full);
    }
}
