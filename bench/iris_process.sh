#!/usr/bin/env bash
# Whole-process time of `ember train examples/iris.toml` (which also draws its plots and writes
# report.html) against the equivalent PyTorch script (bench/iris_pytorch.py, no plots), best of 3.
# Usage: bench/iris_process.sh [BUILD_DIR]   (run from the repository root, after get-data.sh)
set -euo pipefail
build=${1:-build}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
best() {  # best wall time in seconds of 3 runs of "$@"
  local best=999 t
  for _ in 1 2 3; do
    /usr/bin/time -f %e -o "$tmp" "$@" >/dev/null 2>&1
    t=$(tail -1 "$tmp")
    best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
  done
  echo "$best"
}
ember=$(best "$build/tools/ember/ember" train examples/iris.toml --out /tmp/iris_ember_run -q)
torch=$(OMP_WAIT_POLICY=PASSIVE best /usr/bin/python3 bench/iris_pytorch.py data/iris.csv)
awk -v e="$ember" -v t="$torch" 'BEGIN {
  printf "iris_process: ember train %.2f s, PyTorch script %.2f s: Ember %.1fx faster\n", e, t, t / e }'
