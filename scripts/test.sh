#!/usr/bin/env bash
# Sets up everything, then runs every test: formatting and lints, native Rust tests, the node
# tests of the servers and the page shim, and the end-to-end tests in headless Chromium.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
LOG=target/test-logs; mkdir -p "$LOG"
status=0
passed=0; failed=0
step() { printf '\n\033[1m== %s\033[0m\n' "$1"; }

step "cargo fmt --check"
cargo fmt --all -- --check || status=1
step "cargo clippy -D warnings (native and wasm)"
cargo clippy --workspace --all-targets --locked -- -D warnings || status=1
cargo clippy -p offline-manager-sw --target wasm32-unknown-unknown --locked -- -D warnings || status=1

step "cargo test"
cargo test --workspace --locked 2>&1 | tee "$LOG/cargo.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
p=$(grep -Eo '^test result: .* ([0-9]+) passed; ([0-9]+) failed' "$LOG/cargo.log" | awk '{s+=$4} END {print s+0}')
f=$(grep -Eo '^test result: .* ([0-9]+) passed; ([0-9]+) failed' "$LOG/cargo.log" | awk '{s+=$6} END {print s+0}')
passed=$((passed + p)); failed=$((failed + f))

step "node --test (servers, page shim, differential vs shaka-player, end to end in Chromium)"
node --test --test-concurrency=1 tests/server/ page-shim/test/ tests/shaka-diff/ tests/e2e/ 2>&1 | tee "$LOG/node.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
p=$(awk '/^# pass / {print $3}' "$LOG/node.log" | tail -1); f=$(awk '/^# fail / {print $3}' "$LOG/node.log" | tail -1)
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))

echo
echo "total: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] || { echo "FAILED"; exit 1; }
