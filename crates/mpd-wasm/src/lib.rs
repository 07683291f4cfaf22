//! The planner of the `mpd` crate behind one wasm-bindgen function, so the benchmark
//! (`tests/bench/mpd-bench.mjs`) can time it in wasm beside shaka-player's DASH parser.

use mpd::{Planner, SelectOptions};
use std::collections::HashMap;
use url::Url;
use wasm_bindgen::prelude::*;

/// Parses `text` (fetched from `url`), selects every representation, plans it and writes the
/// local manifest; returns the number of media segments planned (so no work is optimised away).
#[wasm_bindgen]
pub fn plan_all(text: &str, url: &str) -> Result<u32, JsValue> {
    let url = Url::parse(url).map_err(|e| JsValue::from_str(&e.to_string()))?;
    let options = SelectOptions {
        all: true,
        ..Default::default()
    };
    let planner =
        Planner::new(text, &url, &options).map_err(|e| JsValue::from_str(&e.to_string()))?;
    let (plan, local) = planner
        .finish(&HashMap::new())
        .map_err(|e| JsValue::from_str(&e.to_string()))?;
    std::hint::black_box(&local);
    let segments: usize = plan.tracks.iter().map(|t| t.segments.len()).sum();
    Ok(segments as u32)
}
