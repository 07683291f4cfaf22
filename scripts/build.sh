#!/usr/bin/env bash
# Builds dist/: the service worker (wasm, release, wasm-opt -Oz) and the page shim.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/dist
BG=$ROOT/target/sw-bindgen
mkdir -p "$OUT" "$BG"

cargo build --release --locked --target wasm32-unknown-unknown -p offline-manager-sw
wasm-bindgen --target no-modules --no-typescript --out-dir "$BG" --out-name offline-manager-sw \
  "$ROOT/target/wasm32-unknown-unknown/release/offline_manager_sw.wasm"
# Debian's binaryen 108 produces a module that fails to instantiate; npm's binaryen is used.
"$ROOT/node_modules/.bin/wasm-opt" -Oz --strip-debug --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-reference-types --enable-multivalue --enable-mutable-globals \
  "$BG/offline-manager-sw_bg.wasm" -o "$OUT/offline-manager-sw_bg.wasm"
version=$(sha256sum "$OUT/offline-manager-sw_bg.wasm" | cut -c1-16)
{
  cat "$BG/offline-manager-sw.js"
  sed "s/__OM_VERSION__/$version/" "$ROOT/sw/js/bootstrap.js"
} > "$OUT/offline-manager-sw.js"

node "$ROOT/page-shim/build.mjs"

raw=$(stat -c %s "$OUT/offline-manager-sw_bg.wasm")
gz=$(gzip -9c "$OUT/offline-manager-sw_bg.wasm" | wc -c)
echo "dist/offline-manager-sw_bg.wasm: $raw bytes raw, $gz bytes gzip (version $version)"
