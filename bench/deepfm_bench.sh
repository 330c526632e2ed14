#!/usr/bin/env bash
# DeepFM side by side: training steps at batch 1024 of examples/movielens_deepfm.toml's model,
# Ember and libtorch in one process (bench/deepfm_bench.cpp, 1 and 2 OpenMP threads), PyTorch in
# Python (bench/movielens_deepfm.py --bench) at several thread settings; the fastest setting of
# each is kept. Prints samples/s, Ember's ratios and the bytes of the embedding tables + Adam state.
# Usage: bench/deepfm_bench.sh [BUILD_DIR] [PREPARED_DIR]   (about 4 minutes)
#   PREPARED_DIR: `ember prepare examples/movielens_deepfm.toml --out DIR` (the real layout and
#   rows); without it, MovieLens-shaped random ids. REPS / STEPS override 7 blocks of 50 steps.
set -euo pipefail
build=${1:-build}
data=${2:-}
reps=${REPS:-7}
steps=${STEPS:-50}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "== DeepFM training steps, batch 1024 (${data:-random MovieLens-shaped ids}), $reps x $steps steps" >&2
# Ember and libtorch share the OpenMP OpenBLAS in one process, so OPENBLAS_NUM_THREADS would
# apply to both; it is left unset there.
for t in 1 2; do
  OMP_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE \
    "$build/bench/deepfm_bench" $data --reps "$reps" --steps "$steps" | sed "s/^/omp=$t\t/" >>"$out"
done
for t in 1 2; do
  OMP_NUM_THREADS=$t /usr/bin/python3 "$here/movielens_deepfm.py" $data --bench --threads "$t" \
    --reps "$reps" --steps "$steps" | sed "s/^/threads=$t\t/" >>"$out"
  OMP_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 \
    /usr/bin/python3 "$here/movielens_deepfm.py" $data --bench --threads "$t" --reps "$reps" \
    --steps "$steps" | sed "s/^/threads=$t,passive,openblas=1\t/" >>"$out"
done
awk -F'\t' '
  $2 == "TRAIN" {
    impl = $3; sps = $NF
    printf "  %-9s %-32s %8.1f samples/s (%.1f ms/step, min-max %.1f-%.1f)\n", impl, $1, sps,
           1e3 * $(NF - 3), 1e3 * $(NF - 2), 1e3 * $(NF - 1)
    if (sps > best[impl]) { best[impl] = sps; how[impl] = $1 }
  }
  $2 == "RATIO" { printf "  %-9s %-32s ember/libtorch in the same run: %.2fx\n", "", $1, $4 }
  $2 == "MEM" && !(($3) in mem) {
    mem[$3] = sprintf("tables %.0f KB, grads %.0f KB, Adam state %.0f KB", $4 / 1024, $5 / 1024,
                      $6 / 1024)
  }
  END {
    printf "  best setting of each:\n"
    split("ember libtorch pytorch", impls, " ")
    for (i = 1; i <= 3; ++i)
      printf "    %-9s %9.1f samples/s  (%s)\n", impls[i], best[impls[i]], how[impls[i]]
    printf "  ember vs libtorch %.2fx, ember vs pytorch %.2fx, libtorch vs pytorch %.2fx\n",
           best["ember"] / best["libtorch"], best["ember"] / best["pytorch"],
           best["libtorch"] / best["pytorch"]
    printf "  embedding tables (linear.weight + embedding.weight) after training steps:\n"
    printf "    ember     %s\n    libtorch  %s\n", mem["ember"], mem["libtorch"]
  }' "$out"
