#!/usr/bin/env bash
# Makes the demo's feature sample: long enough to watch, with the choices a person makes.
#
#   tests/content/make-demo.sh            # output in tests/.content/demo
#   CONTENT_DIR=/tmp/c tests/content/make-demo.sh
#
#   demo/manifest.mpd  SegmentTemplate ($Number$, 4 s segments), 3 min: H.264 at 240p ~250k,
#                      360p ~500k and 720p ~1.2M; AAC audio in English (440 Hz) and Spanish
#                      (660 Hz); WebVTT subtitles in English and Spanish (sidecar files, one
#                      AdaptationSet each)
#
# Idempotent (a marker holding the recipe is written last); ~30 s on two cores.
set -euo pipefail

RECIPE="v1 180s 25fps 4s-seg 240p250k 360p500k 720p1200k aac-eng-spa vtt-en-es"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="${CONTENT_DIR:-$REPO/tests/.content}"
DIR="$OUT/demo"
SECONDS_LONG=180

if marker_ok "$DIR/.complete" "$DIR/manifest.mpd"; then
  echo "demo content: $DIR (up to date)"
  exit 0
fi
require_ffmpeg
mkdir -p "$OUT"
take_lock "$OUT/.lock-demo"
new_work "$OUT" .build-demo
ff -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=$SECONDS_LONG" \
   -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$SECONDS_LONG" \
   -f lavfi -i "sine=frequency=660:sample_rate=48000:duration=$SECONDS_LONG" \
   -filter_complex "[0:v]split=3[a][b][c];[a]scale=426:240[v240];[b]scale=640:360[v360];[c]copy[v720]" \
   -map "[v240]" -map "[v360]" -map "[v720]" -map 1:a -map 2:a \
   -c:v libx264 -preset ultrafast -profile:v main -pix_fmt yuv420p -g 100 -keyint_min 100 -sc_threshold 0 \
   -b:v:0 250k -b:v:1 500k -b:v:2 1200k -c:a aac -b:a 96k -ac 2 \
   -metadata:s:a:0 language=eng -metadata:s:a:1 language=spa \
   -f dash -seg_duration 4 -use_template 1 -use_timeline 0 \
   -adaptation_sets "id=0,streams=v id=1,streams=3 id=2,streams=4" "$WORK/manifest.mpd"
# Subtitles: one cue every 4 s, in each language, as sidecar WebVTT files.
for lang in en es; do
  {
    echo "WEBVTT"
    for ((t = 0; t < SECONDS_LONG; t += 4)); do
      printf '\n%02d:%02d:%02d.000 --> %02d:%02d:%02d.500\n' $((t / 3600)) $((t / 60 % 60)) $((t % 60)) $((t / 3600)) $(((t + 3) / 60 % 60)) $(((t + 3) % 60))
      if [[ $lang == en ]]; then echo "Second $t of the sample"; else echo "Segundo $t de la muestra"; fi
    done
  } > "$WORK/subs-$lang.vtt"
done
subs='<AdaptationSet id="3" contentType="text" mimeType="text/vtt" lang="en"><Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/><Representation id="sub-en" bandwidth="256"><BaseURL>subs-en.vtt</BaseURL></Representation></AdaptationSet>'
subs+='<AdaptationSet id="4" contentType="text" mimeType="text/vtt" lang="es"><Role schemeIdUri="urn:mpeg:dash:role:2011" value="subtitle"/><Representation id="sub-es" bandwidth="256"><BaseURL>subs-es.vtt</BaseURL></Representation></AdaptationSet>'
sed -i "s#</Period>#$subs</Period>#" "$WORK/manifest.mpd"
rm -rf "$DIR"
mv "$WORK" "$DIR"
WORK=""
echo "$RECIPE" > "$DIR/.complete"
echo "demo content: $DIR ($(du -sk "$DIR" | cut -f1) KiB)"
