#!/usr/bin/env bash
# Makes WebM DASH content as real packagers write it: SegmentBase over WebM files whose index is
# a Cues element (not an MP4 sidx), and a duration with year, month and day parts.
#
#   tests/content/make-webm.sh            # output in tests/.content/webm
#   CONTENT_DIR=/tmp/c tests/content/make-webm.sh
#
#   webm/manifest.mpd  ffmpeg's webm_dash_manifest: VP9 320x180 ~200k (keyframe every 2 s) and
#                      Opus 64k, 8 s, each one file with Cues; mediaPresentationDuration rewritten
#                      as P0Y0M0DT0H0M8.000S (the form shaka packager and Unified Streaming write)
#
# Idempotent (tests/content/lib.sh) and quick (~3 s on two cores).
set -euo pipefail

RECIPE="v1 8s vp9-320x180-200k-g50 opus64k webm_dash_manifest ymd-duration"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="${CONTENT_DIR:-$REPO/tests/.content}"
DIR="$OUT/webm"
MARKER="$DIR/.complete"

if marker_ok "$MARKER"; then
  echo "webm content: $DIR (up to date)"
  exit 0
fi
require_ffmpeg
mkdir -p "$OUT"
new_work "$OUT" .build-webm
ff -f lavfi -i "testsrc2=size=320x180:rate=25:duration=8" -c:v libvpx-vp9 -deadline realtime -cpu-used 8 \
   -g 50 -keyint_min 50 -b:v 200k -dash 1 -f webm "$WORK/video.webm"
ff -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=8" -c:a libopus -b:a 64k \
   -dash 1 -cluster_time_limit 2000 -f webm "$WORK/audio.webm"
ff -f webm_dash_manifest -i "$WORK/video.webm" -f webm_dash_manifest -i "$WORK/audio.webm" -c copy -map 0 -map 1 \
   -f webm_dash_manifest -adaptation_sets "id=0,streams=0 id=1,streams=1" "$WORK/manifest.mpd"
sed -i -E 's/mediaPresentationDuration="[^"]*"/mediaPresentationDuration="P0Y0M0DT0H0M8.000S"/' "$WORK/manifest.mpd"
sed -i -E "s#$WORK/##g" "$WORK/manifest.mpd"
grep -q 'indexRange=' "$WORK/manifest.mpd" || { echo "make-webm: no SegmentBase indexRange in the manifest" >&2; exit 1; }
rm -rf "$DIR"
mkdir -p "$DIR"
mv "$WORK/video.webm" "$WORK/audio.webm" "$WORK/manifest.mpd" "$DIR/"
echo "$RECIPE" > "$MARKER"
echo "webm content: $DIR ($(du -sk "$DIR" | cut -f1) KiB)"
