#!/usr/bin/env bash
# Makes the CENC-encrypted (ClearKey) DASH test stream in tests/.content/encrypted/.
#
#   tests/content/make-encrypted.sh            # output in tests/.content/encrypted
#   CONTENT_DIR=/tmp/c tests/content/make-encrypted.sh
#
# 12 s of testsrc2 + a 440 Hz sine: one H.264 rendition (640x360 ~400k) and one AAC track
# (eng), 2 s segments, SegmentTemplate + SegmentTimeline (encrypted/manifest.mpd), every sample
# encrypted with AES-128-CTR ('cenc' scheme) under one fixed test key. The MPD declares
# xmlns:cenc and, in each AdaptationSet,
#   <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID="…"/>
#   <ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0"/>
# and each init segment carries tenc (default KID) and a W3C common pssh (1077efec-…) with the KID.
#
# ffmpeg's own `-encryption_scheme cenc-aes-ctr` does not work for DASH in ffmpeg 5.1 (no
# senc/saiz/saio in the fragments: undecryptable), so ffmpeg encodes the clear stream and
# tests/content/cenc-encrypt.mjs encrypts it, then decrypts every segment again and compares it
# with the clear original. The key id and key below must equal tests/content/encrypted-keys.mjs.
#
# Idempotent (tests/content/lib.sh): bump RECIPE when the commands below change.
set -euo pipefail

KID_HEX="6f66666c696e652d6d616e6167657231"   # "offline-manager1"
KEY_HEX="3a8c5e1f0b7d49a2c6e4f1085d9b2c70"
RECIPE="v1 12s 25fps 2s-seg 360p400k aac-eng timeline cenc-ctr kid=$KID_HEX"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="${CONTENT_DIR:-$REPO/tests/.content}"
DEST="$OUT/encrypted"
MARKER="$OUT/.complete-encrypted"

is_complete() {
  marker_ok "$MARKER" "$DEST/manifest.mpd"
}

# The constants here and in encrypted-keys.mjs must agree.
check_keys() {
  node --input-type=module -e "
    import {kid, key} from '$REPO/tests/content/encrypted-keys.mjs';
    if (kid.hex !== '$KID_HEX' || key.hex !== '$KEY_HEX') {
      console.error('make-encrypted.sh: KID_HEX/KEY_HEX differ from tests/content/encrypted-keys.mjs');
      process.exit(1);
    }"
}

encode_clear() {
  local dir="$1"
  mkdir -p "$dir"
  ff -f lavfi -i "testsrc2=size=640x360:rate=25:duration=12" \
     -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=12" \
     -map 0:v -map 1:a \
     -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p \
     -g 50 -keyint_min 50 -sc_threshold 0 -b:v 400k -maxrate 480k -bufsize 800k \
     -c:a aac -b:a 128k -ac 2 -metadata:s:v language= -metadata:s:a:0 language=eng \
     -f dash -seg_duration 2 -use_template 1 -use_timeline 1 \
     -adaptation_sets "id=0,streams=v id=1,streams=a" \
     "$dir/manifest.mpd"
}

# Fails loudly when the result is not what the tests expect.
verify() {
  local dir="$1" mpd="$1/manifest.mpd" init
  grep -q 'type="static"' "$mpd" || { echo "not static: $mpd" >&2; exit 1; }
  grep -q '<SegmentTimeline>' "$mpd" || { echo "no SegmentTimeline in $mpd" >&2; exit 1; }
  grep -q 'xmlns:cenc="urn:mpeg:cenc:2013"' "$mpd" || { echo "no cenc namespace in $mpd" >&2; exit 1; }
  local sets mp4p ck
  sets=$(grep -c '<AdaptationSet' "$mpd")
  mp4p=$(grep -c 'urn:mpeg:dash:mp4protection:2011" value="cenc" cenc:default_KID=' "$mpd")
  ck=$(grep -c 'urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0"' "$mpd")
  [[ "$sets" -eq 2 && "$mp4p" -eq 2 && "$ck" -eq 2 ]] || { echo "ContentProtection missing in $mpd" >&2; exit 1; }
  if command -v xmllint >/dev/null; then xmllint --noout "$mpd"; fi
  for init in "$dir"/init-stream*.m4s; do
    grep -q tenc "$init" && grep -q pssh "$init" || { echo "no tenc/pssh in $init" >&2; exit 1; }
  done
  for seg in "$dir"/chunk-stream*.m4s; do
    grep -q senc "$seg" || { echo "no senc in $seg" >&2; exit 1; }
  done
}

build() {
  local start=$SECONDS
  new_work "$OUT" .build-encrypted
  encode_clear "$WORK/encrypted"
  node "$REPO/tests/content/cenc-encrypt.mjs" "$WORK/encrypted" "$KID_HEX" "$KEY_HEX"
  verify "$WORK/encrypted"
  rm -f "$MARKER"
  rm -rf "$DEST"
  mv "$WORK/encrypted" "$DEST"
  echo "$RECIPE" > "$MARKER"
  cleanup_work
  echo "content: encrypted in $DEST ($(find "$DEST" -type f | wc -l) files) built in $((SECONDS - start)) s"
}

main() {
  require_ffmpeg
  check_keys
  mkdir -p "$OUT"
  take_lock "$OUT/.lock-encrypted"
  if is_complete; then
    echo "content: encrypted in $DEST (up to date)"
  else
    build
  fi
}

main "$@"
