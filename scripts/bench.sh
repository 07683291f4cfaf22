#!/usr/bin/env bash
# The scoreboard: every speed, size and memory figure beside its peer, in one table
# (tests/bench/scoreboard.mjs; JSON in target/bench/latest.json). Builds the release dist/ with
# scripts/build.sh first, and the MPD benchmark's native and wasm planners, unless --no-build is
# given. Not part of CI: 11–15 minutes on 2 cores.
#
#   bash scripts/bench.sh [--no-build] [--only download,mpd,serve,start,play-while-downloading,background,coldstart,size,limits,link,scale]
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
for a in "$@"; do
  if [ "$a" = "--no-build" ]; then build=0; fi
done
if [ "$build" -eq 1 ]; then
  bash scripts/build.sh
fi
exec node tests/bench/scoreboard.mjs "$@"
