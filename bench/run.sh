#!/usr/bin/env bash
# Runs the side-by-side benchmarks (Ember + libtorch in one process, PyTorch from Python) under
# each thread setting that helps PyTorch on this machine, then prints the comparison table.
# Usage: bench/run.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# PyTorch's OpenMP pool and OpenBLAS's own pool can fight on few cores: try each setting.
settings=("default" "OMP_WAIT_POLICY=PASSIVE" "OPENBLAS_NUM_THREADS=1"
          "OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1")
for s in "${settings[@]}"; do
  envs=()
  [[ $s != default ]] && read -r -a envs <<<"$s"
  echo "== setting: $s" >&2
  env "${envs[@]}" "$build/bench/ember_bench" --benchmark_color=false 2>"$out/cpp.err" >/dev/null || {
    cat "$out/cpp.err" >&2; exit 1; }
  grep '^RESULT' "$out/cpp.err" | sed "s|\$|\t$s|" >>"$out/results.tsv"
  grep '^PEAK' "$out/cpp.err" >>"$out/peak.tsv"
  env "${envs[@]}" /usr/bin/python3 "$here/pytorch_bench.py" 2>&1 | grep '^RESULT' |
    sed "s|\$|\t$s|" >>"$out/results.tsv"
done
python3 "$here/report.py" "$out/results.tsv" "$out/peak.tsv"
echo "== conv layers (libtorch at 2 threads, OMP_WAIT_POLICY=PASSIVE)" >&2
OMP_WAIT_POLICY=PASSIVE "$build/bench/conv_bench"
