//! The generated files (TypeScript protocol declarations, the bootstrap's constants, the README's
//! error table) are what the Rust definitions say: a change to a protocol type, a code or the
//! layout without running the generator fails here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a panic is a failed test"
)]

use engine::schema::{files, with_error_table, COMMAND};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn every_generated_file_is_current() {
    for file in files() {
        let on_disk = std::fs::read_to_string(root().join(file.path)).unwrap_or_default();
        assert!(
            on_disk == file.text,
            "{} is stale or missing: run `{COMMAND}`",
            file.path
        );
    }
}

#[test]
fn the_readme_error_table_lists_every_code_as_the_engine_defines_it() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let current = with_error_table(&readme).expect("README.md has the error-table marks");
    assert!(
        current == readme,
        "README.md's error table is stale: run `{COMMAND}`"
    );
}
