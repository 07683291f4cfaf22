# Shared by the content recipes (tests/content/make-*.sh, tests/bench/make-big-content.sh); each
# sources it after `set -euo pipefail`, with RECIPE set:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# A recipe is idempotent: its marker file, written last, holds RECIPE, and when the marker and
# the outputs are there nothing is done (bump RECIPE when the commands change). It builds in a
# temporary directory next to its output and moves the finished files in.
#
# Provides:
#   REPO                        the repository root
#   ff ARGS...                  ffmpeg, quiet, no stdin, overwriting
#   require_ffmpeg              exits with a hint when ffmpeg is missing
#   marker_ok MARKER [FILE...]  true when MARKER holds $RECIPE and every FILE exists
#   take_lock FILE              serialises concurrent runs (parallel tests may all call a recipe)
#                               on fd 9, when flock is available
#   new_work DIR PREFIX         sets WORK to a new directory DIR/PREFIX.XXXXXX
#   cleanup_work                removes WORK (also done on exit)

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }

require_ffmpeg() {
  command -v ffmpeg >/dev/null || { echo "ffmpeg is required (apt-get install ffmpeg)" >&2; exit 1; }
}

marker_ok() {
  local marker="$1" f
  shift
  [[ -f "$marker" ]] && [[ "$(cat "$marker")" == "$RECIPE" ]] || return 1
  for f in "$@"; do
    [[ -f "$f" ]] || return 1
  done
}

take_lock() {
  exec 9>"$1"
  if command -v flock >/dev/null; then flock 9; fi
}

WORK=""
cleanup_work() { [[ -n "$WORK" ]] && rm -rf "$WORK"; WORK=""; }
trap cleanup_work EXIT

new_work() { WORK="$(mktemp -d "$1/$2.XXXXXX")"; }
