#!/usr/bin/env bash
# Makes the DASH test content served by the media server (tests/server/media-server.mjs) to
# the tests and the demo.
#
#   tests/content/make-content.sh            # output in tests/.content
#   CONTENT_DIR=/tmp/c tests/content/make-content.sh
#
# One 12 s source (testsrc2 + a 440 Hz sine) is encoded once into an intermediate MP4
# with two H.264 renditions (640x360 ~400k, 1280x720 ~1200k) and one AAC track
# (language eng), then remuxed without re-encoding into two DASH streams:
#   template/manifest.mpd  SegmentTemplate with @duration and $Number%05d$
#   timeline/manifest.mpd  SegmentTemplate with a SegmentTimeline
#   list/manifest.mpd      SegmentList of byte ranges in one file per representation
#   base/manifest.mpd      SegmentBase with indexRange (sidx) and Initialization range
# plus poster.jpg (a frame at 1 s). Keyframes every 50 frames at 25 fps give 2 s segments.
#
# Idempotent (tests/content/lib.sh): bump RECIPE when the commands below change.
set -euo pipefail

RECIPE="v2 12s 25fps 2s-seg 360p400k 720p1200k aac-eng template timeline list base poster"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="${CONTENT_DIR:-$REPO/tests/.content}"
MARKER="$OUT/.complete"
STREAMS=(template timeline list base)

is_complete() {
  marker_ok "$MARKER" "$OUT/poster.jpg" "$OUT/template/manifest.mpd" "$OUT/timeline/manifest.mpd" \
    "$OUT/list/manifest.mpd" "$OUT/base/manifest.mpd"
}

summary() {
  local files bytes
  files=$(find "${STREAMS[@]/#/$OUT/}" -type f | wc -l)
  bytes=$(du -sk "$OUT" | cut -f1)
  echo "content: ${STREAMS[*]} + poster.jpg in $OUT ($files files, ${bytes} KiB)$1"
}

# Encode once: video 0 = 640x360, video 1 = 1280x720, audio 0 = AAC stereo (eng).
encode_source() {
  local dst="$1"
  ff -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=12" \
     -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=12" \
     -map 0:v -map 0:v -map 1:a \
     -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p \
     -g 50 -keyint_min 50 -sc_threshold 0 \
     -filter:v:0 scale=640:360 -b:v:0 400k -maxrate:v:0 480k -bufsize:v:0 800k \
     -b:v:1 1200k -maxrate:v:1 1440k -bufsize:v:1 2400k \
     -c:a aac -b:a 128k -ac 2 \
     -metadata:s:v language= -metadata:s:a:0 language=eng \
     "$dst"
}

# Remux the source into one DASH stream; $2 is 0 (template + @duration) or 1 (timeline).
make_dash() {
  local src="$1" timeline="$2" dir="$3"
  mkdir -p "$dir"
  ff -i "$src" -map 0 -c copy -metadata:s:v language= \
     -f dash -seg_duration 2 -use_template 1 -use_timeline "$timeline" \
     -adaptation_sets "id=0,streams=v id=1,streams=a" \
     "$dir/manifest.mpd"
}

# Remux into one file per representation; $2 is "list" (SegmentList of byte ranges) or "base"
# (a global sidx, rewritten into SegmentBase).
make_single_file() {
  local src="$1" form="$2" dir="$3" sidx=()
  [[ "$form" == base ]] && sidx=(-global_sidx 1)
  mkdir -p "$dir"
  ff -i "$src" -map 0 -c copy -metadata:s:v language= \
     -f dash -seg_duration 2 -use_template 0 -use_timeline 0 -single_file 1 "${sidx[@]}" \
     -adaptation_sets "id=0,streams=v id=1,streams=a" \
     "$dir/manifest.mpd"
  [[ "$form" == base ]] && node "$REPO/tests/content/segment-base.mjs" "$dir/manifest.mpd"
  return 0
}

make_poster() {
  ff -ss 1 -i "$1" -map 0:v:1 -frames:v 1 -q:v 3 "$2"
}

# Fails loudly when an MPD is not what the tests expect.
verify() {
  local dir="$1" mpd
  for s in "${STREAMS[@]}"; do
    mpd="$dir/$s/manifest.mpd"
    grep -q 'type="static"' "$mpd" || { echo "not static: $mpd" >&2; exit 1; }
  done
  ls "$dir/template"/init-stream*.m4s "$dir/timeline"/init-stream*.m4s >/dev/null
  grep -q '<SegmentURL mediaRange=' "$dir/list/manifest.mpd" || { echo "no SegmentList in list/" >&2; exit 1; }
  grep -q '<SegmentBase timescale="[0-9]*" indexRange=' "$dir/base/manifest.mpd" || { echo "no SegmentBase in base/" >&2; exit 1; }
  grep -q '<SegmentTimeline>' "$dir/timeline/manifest.mpd" \
    || { echo "no SegmentTimeline in timeline/manifest.mpd" >&2; exit 1; }
  if grep -q '<SegmentTimeline>' "$dir/template/manifest.mpd" \
     || ! grep -q 'duration="' "$dir/template/manifest.mpd"; then
    echo "template/manifest.mpd is not SegmentTemplate@duration" >&2; exit 1
  fi
  [[ -s "$dir/poster.jpg" ]] || { echo "no poster.jpg" >&2; exit 1; }
}

build() {
  local start=$SECONDS work
  new_work "$OUT" .build
  work="$WORK"
  encode_source "$work/source.mp4"
  make_dash "$work/source.mp4" 0 "$work/template"
  make_dash "$work/source.mp4" 1 "$work/timeline"
  make_single_file "$work/source.mp4" list "$work/list"
  make_single_file "$work/source.mp4" base "$work/base"
  make_poster "$work/source.mp4" "$work/poster.jpg"
  verify "$work"
  # Swap the finished tree in, then write the marker last.
  rm -f "$MARKER"
  for item in "${STREAMS[@]}" poster.jpg; do
    rm -rf "${OUT:?}/$item"
    mv "$work/$item" "$OUT/$item"
  done
  echo "$RECIPE" > "$MARKER"
  cleanup_work
  summary " built in $((SECONDS - start)) s"
}

main() {
  require_ffmpeg
  mkdir -p "$OUT"
  take_lock "$OUT/.lock"
  if is_complete; then
    summary " (up to date)"
  else
    build
  fi
}

main "$@"
