//! The worker's side of the protocol agreement test (page-shim/test/protocol-agreement.test.mjs):
//! - `protocol_check --shapes` prints the field names the worker sends (summaries, events,
//!   states) and accepts (download options), from real serde serialisations;
//! - `protocol_check` reads one JSON request per line and prints `{"ok": bool, "message"}` for
//!   each, as the worker's request validation judges it.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test tool: prints its answers to stdout, and a broken pipe or input may stop it"
)]

use engine::protocol::{EntrySummary, ProgressDetail, StateDetail};
use engine::{parse_request, State, StopReason};
use mpd::SelectOptions;
use serde_json::{json, Value};
use std::io::BufRead;

fn keys(v: Value) -> Vec<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn to_value<T: serde::Serialize>(v: T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn shapes() -> Value {
    let summary = EntrySummary {
        id: String::new(),
        state: State::Prepared,
        stop_reason: None,
        metadata: Value::Null,
        poster: Value::Null,
        duration: Value::Null,
        expected_size: 0,
        size: 0,
        segments_done: 0,
        segments_total: 0,
        progress: 0.0,
        expiration: None,
        error: None,
    };
    let progress = ProgressDetail {
        entry_id: String::new(),
        progress: 0.0,
        bytes_downloaded: 0,
        total_bytes: 0,
        segments_done: 0,
        segments_total: 0,
        speed: 0.0,
        eta: None,
    };
    let state = StateDetail {
        entry_id: String::new(),
        state: State::Paused,
        stop_reason: None,
    };
    let states = [
        State::Prepared,
        State::Downloading,
        State::Paused,
        State::Completed,
        State::Failed,
    ];
    let reasons = [
        StopReason::User,
        StopReason::Quota,
        StopReason::Network,
        StopReason::Error,
    ];
    let options = keys(to_value(SelectOptions::default()));
    json!({
        "summary": keys(to_value(summary)),
        "progress": keys(to_value(progress)),
        "statechange": keys(to_value(state)),
        "states": states.iter().map(to_value).collect::<Vec<_>>(),
        "stopReasons": reasons.iter().map(to_value).collect::<Vec<_>>(),
        "downloadOptions": options,
    })
}

fn main() {
    if std::env::args().any(|a| a == "--shapes") {
        println!("{}", shapes());
        return;
    }
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let verdict = match parse_request(&line) {
            Ok(_) => json!({"ok": true}),
            Err((_, e)) => json!({"ok": false, "message": e.message()}),
        };
        println!("{verdict}");
    }
}
