#!/usr/bin/env bash
# Vendors the Kaltura Player UMD bundles into tests/.vendor/kaltura-player/.
#
# `npm install @playkit-js/kaltura-player-js@3.17.95` fails (it depends on a playkit-js-dash
# version that is not published), so the package tarball is fetched with `npm pack` and
# unpacked as is. Idempotent: does nothing when the OVP bundle is already there.
set -euo pipefail

PKG="@playkit-js/kaltura-player-js"
VERSION="3.17.95"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$REPO/tests/.vendor/kaltura-player"
BUNDLE="$DEST/dist/kaltura-ovp-player.js"

if [[ -f "$BUNDLE" ]]; then
  echo "vendor: kaltura-player $VERSION present in $DEST"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# `npm pack` prints the tarball's file name on its last stdout line.
tarball="$(cd "$tmp" && npm pack --silent "$PKG@$VERSION" | tail -n 1)"
tar -xzf "$tmp/$tarball" -C "$tmp"

rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$tmp/package" "$DEST"

[[ -f "$BUNDLE" ]] || { echo "vendor: $BUNDLE missing after unpack" >&2; exit 1; }
echo "vendor: kaltura-player $VERSION unpacked to $DEST"
