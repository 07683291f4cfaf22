//! Any bytes as a segment index: a list of subsegments or an error, never a panic. The bytes
//! also answer every range a hierarchical index references (from their own start, as far as
//! they reach), so the tree walk and its caps run too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mpd::sidx_tree::{resolve_sidx, Resolved};

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = mpd::sidx::parse_sidx(data, 1000) {
        for s in index.subsegments {
            assert!(s.range[0] <= s.range[1]);
        }
    }
    let fetched = |[a, b]: [u64; 2]| {
        let len = usize::try_from(b.saturating_sub(a).saturating_add(1)).unwrap_or(usize::MAX);
        data.get(..len.min(data.len()))
    };
    if let Ok(Resolved::Index(index)) = resolve_sidx(data, 1000, fetched) {
        for s in index.subsegments {
            assert!(s.range[0] <= s.range[1]);
        }
    }
});
