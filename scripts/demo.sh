#!/usr/bin/env bash
# Sets up everything, then serves the demo on 127.0.0.1 (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node scripts/serve.mjs "$@"
