#!/usr/bin/env bash
# One training epoch of the Fashion-MNIST CNN: Ember and libtorch (one process), PyTorch (Python,
# under each thread setting); prints images per second and Ember's speed-up over each.
# Usage: bench/cnn_epoch.sh [BUILD_DIR]   (needs data/fashion-mnist: make data)
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
data=$here/../data/fashion-mnist
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "== CNN training epoch (60,000 Fashion-MNIST images, batch 128)" >&2
OMP_WAIT_POLICY=PASSIVE "$build/bench/cnn_epoch" "$data" >>"$out"
for s in "OMP_WAIT_POLICY=PASSIVE" "OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1"; do
  read -r -a envs <<<"$s"
  env "${envs[@]}" /usr/bin/python3 "$here/cnn_epoch.py" "$data" >>"$out"
done
awk -F'\t' '
  { if (!($2 in best) || $3 < best[$2]) best[$2] = $3 }
  END {
    for (impl in best) printf "  %-9s %6.2f s  %6.0f images/s\n", impl, best[impl], 60000 / best[impl]
    printf "  ember vs libtorch: %.2fx, vs pytorch: %.2fx (throughput ratio, best of 2 runs each)\n",
           best["libtorch"] / best["ember"], best["pytorch"] / best["ember"]
  }' "$out"
