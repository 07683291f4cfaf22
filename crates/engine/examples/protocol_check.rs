//! The worker's side of the protocol agreement test (page-shim/test/protocol-agreement.test.mjs):
//! reads one JSON request per line and prints `{"ok": bool, "message"}` for each, as the
//! worker's request validation judges it. (The shapes themselves need no check: the shim's
//! types are generated from the worker's.)
#![allow(
    clippy::print_stdout,
    reason = "a test tool: it prints its verdicts to stdout"
)]

use engine::parse_request;
use serde_json::json;
use std::io::BufRead;

fn main() {
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let verdict = match parse_request(&line) {
            Ok(_) => json!({"ok": true}),
            Err((_, e)) => json!({"ok": false, "message": e.message()}),
        };
        println!("{verdict}");
    }
}
