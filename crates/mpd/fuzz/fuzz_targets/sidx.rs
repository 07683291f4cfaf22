//! Any bytes as a segment index: a list of subsegments or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = mpd::sidx::parse_sidx(data, 1000) {
        for s in index.subsegments {
            assert!(s.range[0] <= s.range[1]);
        }
    }
});
