#!/usr/bin/env bash
# Bounded fuzzing of the MPD parser/planner and the sidx reader (not part of the test command):
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60; FUZZ_TARGETS="webm sidx" picks targets)
# Needs cargo-fuzz (installed when missing) and a nightly toolchain; without nightly it runs
# the stable toolchain with RUSTC_BOOTSTRAP=1, which unlocks the -Z flags cargo-fuzz passes.
set -euo pipefail
cd "$(dirname "$0")/../crates/mpd"
seconds=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
if rustup toolchain list | grep -q '^nightly'; then run=(cargo +nightly fuzz); else run=(env RUSTC_BOOTSTRAP=1 cargo fuzz); fi
for target in ${FUZZ_TARGETS:-parse_plan sidx webm duration}; do
  echo "== fuzzing $target for ${seconds}s"
  # New inputs go to the working corpus under target/; the committed seeds stay read-only.
  mkdir -p "fuzz/target/corpus/$target"
  "${run[@]}" run "$target" "fuzz/target/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144
done
