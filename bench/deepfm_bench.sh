#!/usr/bin/env bash
# DeepFM side by side: training steps at batch 1024 of examples/movielens_deepfm.toml's model,
# Ember and libtorch in one process (bench/deepfm_bench.cpp, 1 and 2 OpenMP threads), PyTorch in
# Python (bench/movielens_deepfm.py --bench) at several thread settings; the fastest setting of
# each is kept, in float32 and in bfloat16 (--bf16: Ember at set_float32_matmul_precision("medium"),
# libtorch and PyTorch under CPU autocast). Prints samples/s, Ember's ratios and the bytes of the
# embedding tables + Adam state.
# Usage: bench/deepfm_bench.sh [BUILD_DIR] [PREPARED_DIR]   (about 3 minutes)
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
# apply to both; it is left unset there. Both run with passive OpenMP waits and with OpenMP's
# default (spin, then sleep), which libtorch's step prefers.
for t in 1 2; do
  for p in "" --bf16; do
    OMP_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE "$build/bench/deepfm_bench" $data --reps "$reps" \
      --steps "$steps" $p | sed "s/^/omp=$t,passive\t/" >>"$out"
    OMP_NUM_THREADS=$t env -u OMP_WAIT_POLICY "$build/bench/deepfm_bench" $data --reps "$reps" \
      --steps "$steps" $p | sed "s/^/omp=$t\t/" >>"$out"
  done
done
for t in 1 2; do
  for p in "" --bf16; do
    OMP_NUM_THREADS=$t /usr/bin/python3 "$here/movielens_deepfm.py" $data --bench --threads "$t" \
      --reps "$reps" --steps "$steps" $p | sed "s/^/threads=$t\t/" >>"$out"
    OMP_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 \
      /usr/bin/python3 "$here/movielens_deepfm.py" $data --bench --threads "$t" --reps "$reps" \
      --steps "$steps" $p | sed "s/^/threads=$t,passive,openblas=1\t/" >>"$out"
  done
done
awk -F'\t' '
  $2 == "TRAIN" {
    impl = $3; sps = $NF
    printf "  %-13s %-32s %8.1f samples/s (%.1f ms/step, min-max %.1f-%.1f)\n", impl, $1, sps,
           1e3 * $(NF - 3), 1e3 * $(NF - 2), 1e3 * $(NF - 1)
    if (sps > best[impl]) { best[impl] = sps; how[impl] = $1 }
  }
  $2 == "RATIO" { printf "  %-13s %-32s ember/libtorch in the same run: %.2fx\n", "", $1, $4 }
  $2 == "MEM" && !(($3) in mem) {
    mem[$3] = sprintf("tables %.0f KB, grads %.0f KB, Adam state %.0f KB", $4 / 1024, $5 / 1024,
                      $6 / 1024)
  }
  function ratio(a, b) { return (a in best) && (b in best) ? sprintf("%.2fx", best[a] / best[b]) : "-" }
  END {
    printf "  best thread setting of each (float32, and bfloat16: Ember at matmul precision \"medium\",\n"
    printf "  libtorch and PyTorch under CPU autocast):\n"
    split("ember libtorch pytorch", impls, " ")
    precs[1] = ""; precs[2] = "-bf16"
    for (p = 1; p <= 2; ++p)
      for (i = 1; i <= 3; ++i) {
        k = impls[i] precs[p]
        if (k in best) printf "    %-13s %9.1f samples/s  (%s)\n", k, best[k], how[k]
      }
    printf "  float32:  ember vs libtorch %s, ember vs pytorch %s, libtorch vs pytorch %s\n",
           ratio("ember", "libtorch"), ratio("ember", "pytorch"), ratio("libtorch", "pytorch")
    printf "  bfloat16: ember vs libtorch %s, ember vs pytorch %s, libtorch vs pytorch %s\n",
           ratio("ember-bf16", "libtorch-bf16"), ratio("ember-bf16", "pytorch-bf16"),
           ratio("libtorch-bf16", "pytorch-bf16")
    for (i = 1; i <= 3; ++i) {  # each framework at its fastest precision
      k = impls[i]
      top[k] = best[k] > best[k "-bf16"] ? k : k "-bf16"
    }
    printf "  fastest of each: ember vs libtorch %s (%s vs %s), ember vs pytorch %s (%s vs %s)\n",
           ratio(top["ember"], top["libtorch"]), top["ember"], top["libtorch"],
           ratio(top["ember"], top["pytorch"]), top["ember"], top["pytorch"]
    printf "  embedding tables (linear.weight + embedding.weight) after training steps:\n"
    printf "    ember     %s\n    libtorch  %s\n", mem["ember"], mem["libtorch"]
  }' "$out"
