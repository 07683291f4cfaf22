//! Writes every generated file (see `engine::schema`) and the README's error table, from the
//! repository root: `cargo run -p engine --features ts --example generate`.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a developer tool: it says what it wrote, and failing loudly is right"
)]

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for file in engine::schema::files() {
        let path = root.join(file.path);
        std::fs::create_dir_all(path.parent().expect("a file has a directory")).expect("mkdir");
        std::fs::write(&path, file.text).expect("write a generated file");
        println!("wrote {}", file.path);
    }
    let readme = root.join("README.md");
    let text = std::fs::read_to_string(&readme).expect("read README.md");
    let text =
        engine::schema::with_error_table(&text).expect("README.md has the error-table marks");
    std::fs::write(&readme, text).expect("write README.md");
    println!("wrote the error table of README.md");
}
