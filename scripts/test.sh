#!/usr/bin/env bash
# Sets up everything, then runs every test: formatting and lints (Rust; TS/JS with Biome, and
# tsc on the worker bootstrap), native Rust tests, the node tests of the servers and the page
# shim, the end-to-end tests in headless Chromium, and the core end-to-end suite in each browser
# engine (Chromium, Firefox, WebKitGTK).
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
step "biome (format and lint of TS/JS) and tsc (bootstrap)"
node_modules/.bin/biome ci --error-on-warnings || status=1
node_modules/.bin/tsc -p sw/js || status=1

# clippy's incompatible_msrv (above) flags std APIs newer than the declared rust-version; this
# checks that every crate declares it and that no dependency needs a newer one.
step "MSRV (declared rust-version vs code and dependencies)"
node scripts/msrv.mjs || status=1

step "cargo test"
cargo test --workspace --locked 2>&1 | tee "$LOG/cargo.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
p=$(grep -Eo '^test result: .* ([0-9]+) passed; ([0-9]+) failed' "$LOG/cargo.log" | awk '{s+=$4} END {print s+0}')
f=$(grep -Eo '^test result: .* ([0-9]+) passed; ([0-9]+) failed' "$LOG/cargo.log" | awk '{s+=$6} END {print s+0}')
passed=$((passed + p)); failed=$((failed + f))

step "node --test (servers, page shim and its npm package, differential vs shaka-player, end to end in Chromium, the Vite + Workbox app)"
node --test --test-concurrency=1 tests/server/ page-shim/test/ tests/shaka-diff/ tests/e2e/ tests/app-vite/ 2>&1 | tee "$LOG/node.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
p=$(awk '/^# pass / {print $3}' "$LOG/node.log" | tail -1)
f=$(( $(awk '/^# fail / {print $3}' "$LOG/node.log" | tail -1) + $(awk '/^# cancelled / {print $3}' "$LOG/node.log" | tail -1) ))
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))

# The core suite once per engine, one after another; each reports its own counts and time.
engine_lines=()
for engine in chromium firefox webkit; do
  step "core suite in $engine (tests/engines)"
  t0=$(date +%s)
  ENGINE=$engine node --test --test-concurrency=1 tests/engines/ 2>&1 | tee "$LOG/engine-$engine.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  count() { awk -v k="$1" '$1 == "#" && $2 == k {print $3}' "$LOG/engine-$engine.log" | tail -1; }
  p=$(count pass); f=$(( $(count fail) + $(count cancelled) )); s=$(count skipped)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  engine_lines+=("$engine: ${p:-0} passed, ${f:-0} failed, ${s:-0} skipped in $(( $(date +%s) - t0 )) s")
done

echo
printf '%s\n' "${engine_lines[@]}"
echo "total: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] || { echo "FAILED"; exit 1; }
