//! Any bytes as a WebM init range and Cues: a list of clusters or an error, never a panic.
//! The first two bytes (big-endian) say how many of the rest are the init bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_at_checked(2) else { return };
    let split = usize::from(u16::from_be_bytes([head[0], head[1]])).min(rest.len());
    let (init, cues) = rest.split_at(split);
    let Ok(layout) = mpd::webm::parse_init(init, 0) else { return };
    for fallback in [None, Some(3.0)] {
        if let Ok(index) = mpd::webm::parse_cues(cues, 1000, &layout, fallback) {
            for s in &index.subsegments {
                assert!(s.range[0] <= s.range[1] && s.range[1] <= mpd::MAX_OFFSET);
                assert!(s.d > 0);
            }
        }
    }
});
