#!/usr/bin/env bash
# Makes the big DASH content of the download benchmark (tests/bench/download-bench.mjs).
#
#   tests/bench/make-big-content.sh            # output in target/bench/content
#   BENCH_CONTENT_DIR=/tmp/c tests/bench/make-big-content.sh
#
# 10 s of 1280x720 testsrc2 with strong temporal noise, so that x264 (-preset ultrafast, a few
# seconds on 2 cores) really spends its ~16 Mbit/s (2 s segments of ~4 MB, incompressible, like
# real high-bitrate video), plus 10 s of AAC pink noise. Both are looped without re-encoding
# (-stream_loop, -c copy) into one 520 s DASH stream (SegmentTemplate @duration, 2 s segments).
# Further representations are hard links of the same files under other names:
#   reps/v16m/  the encoded video (declared 16.6 Mbit/s)   reps/a-eng/  the AAC track (lang eng)
#   reps/v8m/   the same bytes, declared 8 Mbit/s            reps/a-fra/  the same bytes, lang fra
#   reps/v4m/   the same bytes, declared 4 Mbit/s            reps/a-deu/  the same bytes, lang deu
# and two MPDs list them (one video AdaptationSet of three representations, three audio
# AdaptationSets, one per language):
#   bench-200m.mpd  104 s = 52 segments per track: highest video + 3 audio ≈ 220 MB
#   bench-1g.mpd    520 s = 260 segments per track: highest video + 3 audio ≈ 1.1 GB
# Segment files: reps/ID/init.mp4 and reps/ID/NNNNN.m4s (from 00001).
#
# Idempotent (tests/content/lib.sh): bump RECIPE when the commands below change.
set -euo pipefail

RECIPE="v1 720p-noise-16M ultrafast 10s-loop-520s 2s-seg v16m,v8m,v4m a-eng,a-fra,a-deu 200m=104s 1g=520s"
source "$(dirname "${BASH_SOURCE[0]}")/../content/lib.sh"
OUT="${BENCH_CONTENT_DIR:-$REPO/target/bench/content}"
MARKER="$OUT/.complete"
TOTAL_S=520
VIDEO_REPS=("v16m:16599614" "v8m:8000000" "v4m:4000000")
AUDIO_REPS=("a-eng:eng" "a-fra:fra" "a-deu:deu")

is_complete() {
  marker_ok "$MARKER" "$OUT/bench-200m.mpd" "$OUT/bench-1g.mpd"
}

summary() {
  echo "bench content: $OUT ($(du -sk "$OUT/reps/v16m" | cut -f1) KiB per video rep)$1"
}

# The MPD for $1 seconds (a multiple of 2).
write_mpd() {
  local secs="$1" id bw lang
  local tpl='<SegmentTemplate timescale="1000" duration="2000" startNumber="1" initialization="reps/$RepresentationID$/init.mp4" media="reps/$RepresentationID$/$Number%05d$.m4s"/>'
  cat <<EOF
<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static"
  mediaPresentationDuration="PT${secs}S" maxSegmentDuration="PT2S" minBufferTime="PT4S">
  <Period id="0" start="PT0S">
    <AdaptationSet id="0" contentType="video" mimeType="video/mp4" codecs="$VCODEC" segmentAlignment="true" startWithSAP="1" frameRate="25/1">
      $tpl
EOF
  for rep in "${VIDEO_REPS[@]}"; do
    id="${rep%%:*}"; bw="${rep#*:}"
    echo "      <Representation id=\"$id\" bandwidth=\"$bw\" width=\"1280\" height=\"720\" sar=\"1:1\"/>"
  done
  echo "    </AdaptationSet>"
  local n=1
  for rep in "${AUDIO_REPS[@]}"; do
    id="${rep%%:*}"; lang="${rep#*:}"
    cat <<EOF
    <AdaptationSet id="$n" contentType="audio" mimeType="audio/mp4" codecs="mp4a.40.2" lang="$lang" segmentAlignment="true" startWithSAP="1">
      $tpl
      <Representation id="$id" bandwidth="$ABW" audioSamplingRate="48000">
        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
      </Representation>
    </AdaptationSet>
EOF
    n=$((n + 1))
  done
  echo "  </Period>"
  echo "</MPD>"
}

# Hard-links the DASH output of stream $2 (in $1) into reps/$3.
link_rep() {
  local raw="$1" stream="$2" dir="$3/reps/$4" f base
  mkdir -p "$dir"
  ln "$raw/init-stream$stream.m4s" "$dir/init.mp4"
  for f in "$raw"/chunk-stream"$stream"-*.m4s; do
    base="${f##*-}"
    ln "$f" "$dir/$base"
  done
}

build() {
  local start=$SECONDS work raw rep
  new_work "$OUT" .build
  work="$WORK"
  raw="$work/raw"
  mkdir -p "$raw"
  ff -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=10" -vf "noise=alls=40:allf=t+u" \
     -c:v libx264 -preset ultrafast -pix_fmt yuv420p -g 50 -keyint_min 50 -sc_threshold 0 \
     -b:v 16M -maxrate 16M -bufsize 16M -an "$work/clip.mp4"
  ff -f lavfi -i "anoisesrc=d=10:c=pink:r=48000:a=0.3" -ac 2 -c:a aac -b:a 128k "$work/audio.m4a"
  ff -stream_loop -1 -i "$work/clip.mp4" -stream_loop -1 -i "$work/audio.m4a" -t "$TOTAL_S" \
     -map 0:v -map 1:a -c copy -f dash -seg_duration 2 -use_template 1 -use_timeline 0 \
     -adaptation_sets "id=0,streams=v id=1,streams=a" "$raw/manifest.mpd"
  VCODEC="$(grep -o 'codecs="avc1[^"]*"' "$raw/manifest.mpd" | head -1 | cut -d'"' -f2)"
  ABW="$(grep -o 'bandwidth="[0-9]*"' "$raw/manifest.mpd" | sed -n 2p | cut -d'"' -f2)"
  local segs=$((TOTAL_S / 2))
  for s in 0 1; do
    [[ -f "$raw/chunk-stream$s-$(printf %05d "$segs").m4s" ]] || { echo "stream $s: fewer than $segs segments" >&2; exit 1; }
  done
  for rep in "${VIDEO_REPS[@]}"; do link_rep "$raw" 0 "$work" "${rep%%:*}"; done
  for rep in "${AUDIO_REPS[@]}"; do link_rep "$raw" 1 "$work" "${rep%%:*}"; done
  write_mpd 104 > "$work/bench-200m.mpd"
  write_mpd "$TOTAL_S" > "$work/bench-1g.mpd"
  rm -f "$MARKER"
  rm -rf "${OUT:?}/reps" "$OUT/bench-200m.mpd" "$OUT/bench-1g.mpd"
  mv "$work/reps" "$work/bench-200m.mpd" "$work/bench-1g.mpd" "$OUT/"
  echo "$RECIPE" > "$MARKER"
  cleanup_work
  summary " built in $((SECONDS - start)) s"
}

main() {
  require_ffmpeg
  mkdir -p "$OUT"
  take_lock "$OUT/.lock"
  if is_complete; then summary " (up to date)"; else build; fi
}

main "$@"
