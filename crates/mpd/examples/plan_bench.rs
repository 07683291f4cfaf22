//! Native half of the planner benchmark (the command is
//! `node tests/bench/mpd-bench.mjs`, which runs this and prints it beside wasm and shaka).
//!
//! `cargo run --release -p mpd --example plan_bench -- [--runs N] [--warmup N] FILE...`
//!
//! For every file: reads it once, then times `Planner::new` + `finish` with every
//! representation selected (`all: true`), `--warmup` untimed runs then `--runs` timed ones, and
//! prints one JSON line `{"file", "impl": "rust-native", "median_ms", "min_ms", "runs",
//! "segments"}` (segments = media segments planned, summed over the representations).
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::expect_used,
    reason = "a benchmark tool: prints its results, and stops on a file it cannot read"
)]

use mpd::{Planner, SelectOptions};
use std::collections::HashMap;
use std::time::Instant;
use url::Url;

fn plan_once(text: &str, url: &Url) -> Result<usize, mpd::MpdError> {
    let options = SelectOptions {
        all: true,
        ..Default::default()
    };
    let (plan, local) = Planner::new(text, url, &options)?.finish(&HashMap::new())?;
    std::hint::black_box(&local);
    Ok(plan.tracks.iter().map(|t| t.segments.len()).sum())
}

fn main() {
    let mut runs = 11usize;
    let mut warmup = 3usize;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(runs),
            "--warmup" => warmup = args.next().and_then(|v| v.parse().ok()).unwrap_or(warmup),
            _ => files.push(a),
        }
    }
    if files.is_empty() {
        eprintln!("usage: plan_bench [--runs N] [--warmup N] FILE...");
        std::process::exit(2);
    }
    let runs = runs.max(1);
    for file in files {
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("plan_bench: {file}: {e}");
                std::process::exit(1);
            }
        };
        let path = std::fs::canonicalize(&file).expect("canonical path");
        let url = Url::from_file_path(&path).expect("file URL");
        let mut segments = 0;
        for _ in 0..warmup {
            segments = plan_once(&text, &url).unwrap_or_else(|e| fail(&file, e));
        }
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            segments = plan_once(&text, &url).unwrap_or_else(|e| fail(&file, e));
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let median = if runs % 2 == 1 {
            times[runs / 2]
        } else {
            (times[runs / 2 - 1] + times[runs / 2]) / 2.0
        };
        let line = serde_json::json!({
            "file": file,
            "impl": "rust-native",
            "median_ms": median,
            "min_ms": times[0],
            "runs": runs,
            "segments": segments,
        });
        println!("{line}");
    }
}

fn fail(file: &str, e: mpd::MpdError) -> ! {
    eprintln!("plan_bench: {file}: {e}");
    std::process::exit(1);
}
