#!/usr/bin/env bash
# GPT side by side: austen_char training steps and KV-cached greedy generation (austen-shaped and
# GPT-2-small-shaped models, batch 1), Ember and libtorch in one process (bench/gpt_bench.cpp),
# PyTorch in Python (bench/gpt_bench.py); 2 threads each. Prints tokens/s and Ember's ratios.
# Usage: bench/gpt_bench.sh [BUILD_DIR]   (about 5 minutes; no data needed: random tokens)
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "== GPT: austen_char training (B=32, T=128) and generation (16-token prompt, 128 new, greedy)" >&2
# Each framework runs with passive OpenMP waits and with OpenMP's default (spin, then sleep), and
# keeps its faster one per row: libtorch's training step and its libtorch-mv generation are
# faster with the default, Ember's about the same. Ember and libtorch share the OpenMP OpenBLAS in
# one process, so OPENBLAS_NUM_THREADS would apply to both; it is left unset there (it made
# libtorch's training step slower, not faster).
export OMP_NUM_THREADS=2
OMP_WAIT_POLICY=PASSIVE "$build/bench/gpt_bench" all >>"$out"
for what in train train-bf16 "gen austen" "gen gpt2"; do
  env -u OMP_WAIT_POLICY "$build/bench/gpt_bench" $what >>"$out"
done
OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/gpt_bench.py" --what all >>"$out"
env -u OMP_WAIT_POLICY -u OPENBLAS_NUM_THREADS /usr/bin/python3 "$here/gpt_bench.py" \
  --what all >>"$out"
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1
/usr/bin/python3 "$here/gpt_bench.py" --what rss-train >>"$out"
/usr/bin/python3 "$here/gpt_bench.py" --what rss-gen >>"$out"
awk -F'\t' '
  $1 == "TRAIN" {  # the train-bf16 rows are ember-bf16, libtorch-bf16, pytorch-bf16
    r = $2 ~ /-bf16$/ ? "train-bf16" : "train"; i = $2; sub(/-bf16$/, "", i)
    if ((r, i) in tps && tps[r, i] >= $6) next
    tps[r, i] = $6; rng[r, i] = sprintf("%.2f-%.2f", $4, $5)
  }
  $1 == "GEN" {
    if (($2, $3) in tps && tps[$2, $3] >= $7) next
    tps[$2, $3] = $7; rng[$2, $3] = sprintf("%.2f-%.2f", $5, $6)
  }
  $1 == "RSS"   { rss[$2, $3] = sprintf("%.0f (+%.0f)", $6, $6 - $4) }
  $1 == "AGREE" && !seen[$2]++ { agree = agree sprintf(" %s %d/%d,", $2, $3, $5) }
  function cell(r, i) { return (r, i) in tps ? sprintf("%11.1f", tps[r, i]) : sprintf("%11s", "-") }
  END {
    split("train train-bf16 austen gpt2", rows, " ")
    split("ember libtorch libtorch-mv pytorch", impls, " ")
    name["train"] = "train tokens/s"; name["train-bf16"] = "train tokens/s, bfloat16"
    name["austen"] = "generate austen tok/s"
    name["gpt2"] = "generate gpt2-small tok/s"
    printf "  %-26s %11s %11s %11s %11s   %s\n", "", "ember", "libtorch", "libtorch-mv", "pytorch",
           "ember vs libtorch / libtorch-mv / pytorch"
    for (i = 1; i <= 4; ++i) {
      r = rows[i]
      best = (r, "libtorch-mv") in tps ? sprintf("%.2fx", tps[r, "ember"] / tps[r, "libtorch-mv"]) : "-"
      printf "  %-26s %s %s %s %s   %.2fx / %s / %.2fx\n", name[r], cell(r, "ember"),
             cell(r, "libtorch"), cell(r, "libtorch-mv"), cell(r, "pytorch"),
             tps[r, "ember"] / tps[r, "libtorch"], best, tps[r, "ember"] / tps[r, "pytorch"]
    }
    printf "  seconds per step (train) or per 128 tokens (generate), min-max over repetitions:\n"
    for (i = 1; i <= 4; ++i) {
      printf "    %-10s", rows[i]
      for (j = 1; j <= 4; ++j)
        if ((rows[i], impls[j]) in rng) printf " %s %s", impls[j], rng[rows[i], impls[j]]
      printf "\n"
    }
    printf "  greedy tokens equal to libtorch (same weights), ember:%s\n", agree
    printf "  peak RSS MB (+ over the loaded process before the model), one framework per process:\n"
    for (t = 1; t <= 2; ++t) {
      task = t == 1 ? "train" : "gen"
      printf "    %-11s ember %s, libtorch %s, pytorch %s\n", task == "gen" ? "gpt2 gen" : "austen train",
             rss[task, "ember"], rss[task, "libtorch"], rss[task, "pytorch"]
    }
    printf "  (libtorch-mv: libtorch with addmv for single rows; see Note [libtorch single-row matmul])\n"
    printf "  (bfloat16: Ember at set_float32_matmul_precision(\"medium\"), libtorch and PyTorch under\n"
    printf "  CPU autocast; every row at each framework'"'"'s faster of passive and default OpenMP waits)\n"
  }' "$out"
