#!/usr/bin/env bash
# `ember train --distributed` when a rank hangs: rank 1 of a 2-rank Fashion-MNIST run is stopped
# (SIGSTOP) mid-training; rank 0 must stop within --dist-timeout with a message naming rank 1, and
# the job must end non-zero (ProcessGroup::abort) instead of waiting forever.
# usage: train_failure_test.sh MPIEXEC EMBER SOURCE_DIR TMPDIR
set -uo pipefail
mpiexec=$1
ember=$2
cd "$3" || exit 1
out_dir=$4/train_failure
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
rm -rf "$out_dir" && mkdir -p "$out_dir"
log=$out_dir/log.txt

timeout 120 "$mpiexec" --oversubscribe -np 2 "$ember" train examples/fmnist_mlp.toml --distributed \
  --dist-timeout 3 --set training.epochs=100 --out "$out_dir/run" -q >"$log" 2>&1 &
job=$!

# Rank 1: the ember process whose environment says OMPI_COMM_WORLD_RANK=1; wait until it trains
# (rank 0 has written the run directory's config).
rank1=""
for _ in $(seq 1 300); do
  for pid in $(pgrep -f "ember train examples/fmnist_mlp.toml --distributed"); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1"; then
      rank1=$pid
    fi
  done
  [[ -n $rank1 && -f $out_dir/run/config.toml ]] && break
  sleep 0.1
done
if [[ -z $rank1 ]]; then
  echo "FAIL: rank 1 never started"; cat "$log"; kill "$job" 2>/dev/null; exit 1
fi
sleep 1
kill -STOP "$rank1"
start=$(date +%s.%N)
wait "$job"
rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
kill -CONT "$rank1" 2>/dev/null
kill -KILL "$rank1" 2>/dev/null
echo "--- mpirun exit $rc, ${secs}s after rank 1 stopped"
sed 's/^/    /' "$log" | head -20
failures=0
[[ $rc -ne 0 && $rc -ne 124 ]] || { echo "FAIL: expected a non-zero exit before the 120 s guard, got $rc"; failures=1; }
(($(echo "$secs < 20" | bc))) || { echo "FAIL: took ${secs}s (timeout 3 s)"; failures=1; }
grep -qE "ember train: .*timed out after 3 s on rank 0: rank 1 (did not arrive|stopped inside it)" "$log" ||
  { echo "FAIL: the message does not name rank 1"; failures=1; }
((failures == 0)) && echo "train_failure_test: passed"
exit $failures
