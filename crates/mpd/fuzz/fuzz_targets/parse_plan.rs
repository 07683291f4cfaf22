//! Any text as a manifest: parsing, selection, planning and the local manifest must return a
//! value or an error, never panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mpd::{Planner, SelectOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(base) = url::Url::parse("https://cdn.example/a/manifest.mpd") else { return };
    for all in [false, true] {
        let options = SelectOptions { all, ..SelectOptions::default() };
        if let Ok(planner) = Planner::new(text, &base, &options) {
            let indexes = planner.index_needs().into_iter().map(|n| (n.key, data.to_vec())).collect();
            let _ = planner.finish(&indexes);
        }
    }
});
