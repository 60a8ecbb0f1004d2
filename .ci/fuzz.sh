#!/usr/bin/env bash
# Bounded fuzz run of the Python API: atheris over fuzz/fuzz_api.py
# for FUZZ_SECONDS (default 60). Needs fastloss importable and `pip install
# atheris`. Exit status is non-zero when the fuzzer finds a crash; the input is
# left as crash-* in FUZZ_ARTIFACTS (default .ci/fuzz-artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
if ! "$PY" -c "import atheris" 2>/dev/null; then
  echo "fuzz.sh: atheris is not installed (pip install atheris)" >&2
  exit 2
fi
seconds=${FUZZ_SECONDS:-60}
artifacts=${FUZZ_ARTIFACTS:-.ci/fuzz-artifacts}
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
mkdir -p "$artifacts"
"$PY" fuzz/fuzz_api.py -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" 2>&1 | tail -n 25
