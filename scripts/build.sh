#!/usr/bin/env bash
# Builds dist/: the service worker (wasm, release, wasm-opt -Oz) and the page shim, then stages
# the npm package (page-shim/package.json) in page-shim/dist/ + page-shim/README.md (git-ignored).
# The package version (page-shim/package.json "version") is the one version: it is stamped into
# the worker (its replies' `workerVersion`) and the shim (`OfflineManager.version`); the worker's
# wasm cache is named after the wasm's content hash. The worker script is the wasm-bindgen glue,
# then sw/js/generated/constants.js (the protocol version, local URLs, IndexedDB layout and error
# codes, generated from crates/engine: `cargo run -p engine --features ts --example generate`),
# then sw/js/requests.js (the requests and segment records the wasm has JS build), then
# sw/js/bootstrap.js, minified as one script by esbuild.
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
hash=$(sha256sum "$OUT/offline-manager-sw_bg.wasm" | cut -c1-16)
version=$(node -p 'require(process.argv[1]).version' "$ROOT/page-shim/package.json")
CONSTANTS=$ROOT/sw/js/generated/constants.js
protocol=$(sed -n 's/^const OM_PROTOCOL_VERSION = \([0-9][0-9]*\);$/\1/p' "$CONSTANTS")
[[ $version =~ ^[0-9A-Za-z.+-]+$ ]] || { echo "build.sh: bad version '$version' in page-shim/package.json" >&2; exit 1; }
[ -n "$protocol" ] || { echo "build.sh: OM_PROTOCOL_VERSION not found in sw/js/generated/constants.js" >&2; exit 1; }
{
  cat "$BG/offline-manager-sw.js"
  cat "$CONSTANTS"
  cat "$ROOT/sw/js/requests.js"
  sed -e "s/__OM_VERSION__/$version/g" -e "s/__OM_WASM_HASH__/$hash/g" "$ROOT/sw/js/bootstrap.js"
} > "$OUT/offline-manager-sw.js"

node "$ROOT/page-shim/build.mjs"
sed -i "s/__OM_VERSION__/$version/g" "$OUT/offline-manager.js" "$OUT/kaltura-offline-manager.js"
for f in offline-manager-sw.js offline-manager.js kaltura-offline-manager.js; do
  if grep -q '__OM_[A-Z_]*__' "$OUT/$f"; then echo "build.sh: unstamped placeholder left in dist/$f" >&2; exit 1; fi
done
# The worker script minified (esbuild, no bundling: the script's top-level names, which the wasm
# glue, the bootstrap and an app's own worker share, stay as they are): a cold worker parses
# ~34 KB instead of ~87 KB before its first answer, ~0.6 ms of its ~12.5 ms on this machine
# (alternating A/B of the two scripts in one browser, 60 cold starts each).
"$ROOT/node_modules/.bin/esbuild" "$OUT/offline-manager-sw.js" --minify --target=es2020 --legal-comments=none \
  --log-level=warning --allow-overwrite --outfile="$OUT/offline-manager-sw.js"

# The npm package's files (what page-shim/package.json "files" lists) and its README.
PKG=$ROOT/page-shim/dist
rm -rf "$PKG"
mkdir -p "$PKG"
cp -r "$OUT/offline-manager.js" "$OUT/offline-manager.d.ts" "$OUT/types" "$OUT/kaltura-offline-manager.js" \
  "$OUT/offline-manager-sw.js" "$OUT/offline-manager-sw_bg.wasm" "$PKG/"
cp "$ROOT/README.md" "$ROOT/page-shim/README.md"

raw=$(stat -c %s "$OUT/offline-manager-sw_bg.wasm")
gz=$(gzip -9c "$OUT/offline-manager-sw_bg.wasm" | wc -c)
echo "dist/offline-manager-sw_bg.wasm: $raw bytes raw, $gz bytes gzip (package $version, protocol $protocol, wasm $hash)"
