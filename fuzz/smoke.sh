#!/usr/bin/env bash
# A quick check that the fuzz targets still build and run: each target
# replays its corpus, then fuzzes for a few seconds (default 20).
#   fuzz/smoke.sh [seconds]
# The build is most of the time (5-15 min cold on 2 cores), so `make test`
# replays the corpora as a unit test instead (tests/fuzz_corpus.rs in core).
set -euo pipefail
exec "$(dirname "$0")/run.sh" "${1:-20}"
