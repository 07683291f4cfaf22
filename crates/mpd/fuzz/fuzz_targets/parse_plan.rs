//! Any text as a manifest: xlink resolution, parsing, selection, planning and the local
//! manifest must return a value or an error, never panic, hang or allocate without bound. The
//! input also stands for every remote document the manifest links to and every index range it
//! needs, so the xlink and hierarchical-sidx rounds run too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mpd::{Planner, SelectOptions, Xlinks};
use std::collections::HashMap;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(base) = url::Url::parse("https://cdn.example/a/manifest.mpd") else { return };
    let Ok(mut links) = Xlinks::parse(text, &base) else { return };
    while let Ok(needs) = links.needs() {
        if needs.is_empty() {
            break;
        }
        let docs = needs.into_iter().map(|n| (n.url, text.to_string())).collect();
        if links.resolve(docs).is_err() {
            return;
        }
    }
    let root = links.into_root();
    for all in [false, true] {
        let options = SelectOptions { all, ..SelectOptions::default() };
        if let Ok(planner) = Planner::from_root(root.clone(), &base, &options) {
            let mut indexes = HashMap::new();
            for _ in 0..16 {
                match planner.pending_index_needs(&indexes) {
                    Ok(needs) if !needs.is_empty() => {
                        indexes.extend(needs.into_iter().map(|n| (n.key, data.to_vec())))
                    }
                    _ => break,
                }
            }
            let _ = planner.finish(&indexes);
        }
    }
});
