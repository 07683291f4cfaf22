#!/usr/bin/env bash
# Installs whatever is missing on a fresh Debian 12 machine (root, package registries only), then
# builds dist/ and the test content. Quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo

# The three browser engines the tests run in (Chromium; Firefox ESR; WebKitGTK's MiniBrowser with
# its WebDriver, under Xvfb, with GStreamer's decoders for MSE), ffmpeg for the test content.
PACKAGES=(chromium ffmpeg firefox-esr webkit2gtk-driver libwebkit2gtk-4.1-0 gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-libav xvfb xauth)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
command -v node >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "rustup: adding wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must equal the wasm-bindgen crate version in Cargo.lock exactly.
wb_version=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wb_version"; then
  say "cargo: installing wasm-bindgen-cli $wb_version (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

lock_sum=$(sha256sum package-lock.json | cut -c1-16)
if [ "$(cat node_modules/.om-lock 2>/dev/null)" != "$lock_sum" ]; then
  say "npm: installing build and test packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.om-lock
fi

bash tests/vendor.sh
bash tests/content/make-content.sh
bash tests/content/make-encrypted.sh
bash tests/content/make-engine-content.sh
bash tests/content/make-webm.sh
bash tests/content/make-demo.sh
say "building dist/"
bash scripts/build.sh
