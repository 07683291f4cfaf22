#!/usr/bin/env bash
# Makes the DASH content of the download-engine tests: many small segments, so that a download
# slowed by the test proxy lasts long enough to stop the service worker many times.
#
#   tests/content/make-engine-content.sh            # output in tests/.content/many
#   CONTENT_DIR=/tmp/c tests/content/make-engine-content.sh
#
#   many/manifest.mpd  SegmentTemplate ($Number$), 60 s: one H.264 320x180 ~150k video track
#                      and one AAC 64k audio track, 1 s segments (60 + 60 + 2 init, ~1.7 MB)
#
# Idempotent (tests/content/lib.sh) and quick (~2 s on two cores).
set -euo pipefail

RECIPE="v1 60s 25fps 1s-seg 180p150k aac64k template"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="${CONTENT_DIR:-$REPO/tests/.content}"
DIR="$OUT/many"
MARKER="$DIR/.complete"

is_complete() {
  marker_ok "$MARKER" "$DIR/manifest.mpd"
}

build() {
  local work
  new_work "$OUT" .build-many
  work="$WORK"
  ff -f lavfi -i "testsrc2=size=320x180:rate=25:duration=60" \
     -f lavfi -i "sine=frequency=330:sample_rate=48000:duration=60" \
     -map 0:v -map 1:a \
     -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p \
     -g 25 -keyint_min 25 -sc_threshold 0 -b:v 150k -maxrate 180k -bufsize 300k \
     -c:a aac -b:a 64k -ac 2 -metadata:s:a:0 language=eng \
     "$work/source.mp4"
  mkdir -p "$work/many"
  ff -i "$work/source.mp4" -map 0 -c copy \
     -f dash -seg_duration 1 -use_template 1 -use_timeline 0 \
     -adaptation_sets "id=0,streams=v id=1,streams=a" \
     "$work/many/manifest.mpd"
  local segments
  segments=$(find "$work/many" -name 'chunk-*.m4s' | wc -l)
  if (( segments < 100 )); then
    echo "make-engine-content: expected 1 s segments, got $segments files" >&2
    exit 1
  fi
  rm -rf "$DIR"
  mv "$work/many" "$DIR"
  echo "$RECIPE" > "$MARKER"
  cleanup_work
  echo "engine content: $DIR ($segments segments, $(du -sk "$DIR" | cut -f1) KiB)"
}

main() {
  require_ffmpeg
  mkdir -p "$OUT"
  take_lock "$OUT/.lock-many"
  if is_complete; then
    echo "engine content: $DIR (up to date)"
  else
    build
  fi
}

main "$@"
