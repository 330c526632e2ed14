#!/usr/bin/env bash
# Failure tests of the MPI process group: rank 1 stops answering (SIGSTOP), is killed (SIGKILL), or
# calls a different allreduce; rank 0 must fail naming rank 1 and the whole job must end non-zero.
# usage: failure_test.sh MPIEXEC DRIVER
set -uo pipefail
mpiexec=$1
driver=$2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
failures=0

# check MODE EXIT_CODE MAX_SECONDS PATTERN... : runs the driver on 2 ranks and checks the exit
# code, the time and the output (NP ranks, default 2).
check() {
  local mode=$1 want_rc=$2 max_s=$3
  shift 3
  local out start end rc
  out=$(mktemp)
  start=$(date +%s.%N)
  timeout 60 "$mpiexec" --oversubscribe -np "${NP:-2}" "$driver" "$mode" 3 >"$out" 2>&1
  rc=$?
  end=$(date +%s.%N)
  local secs
  secs=$(echo "$end - $start" | bc)
  echo "--- $mode on ${NP:-2} ranks: exit $rc after ${secs}s"
  sed 's/^/    /' "$out" | head -20
  if [[ $rc -ne $want_rc ]]; then
    echo "FAIL $mode: expected exit code $want_rc (124: the 60 s guard), got $rc"
    failures=$((failures + 1))
  fi
  if (($(echo "$secs > $max_s" | bc))); then
    echo "FAIL $mode: took ${secs}s, more than ${max_s}s"
    failures=$((failures + 1))
  fi
  for pattern in "$@"; do
    if ! grep -qE "$pattern" "$out"; then
      echo "FAIL $mode: output lacks /$pattern/"
      failures=$((failures + 1))
    fi
  done
  rm -f "$out"
}

# Rank 0 times out after 3 s naming rank 1, then MPI_Abort(3) ends the job (rank 1 is stopped).
check stop 3 15 "allreduce #2 \(4\.0 kB float32\) timed out after 3 s on rank 0: rank 1 did not arrive \(rank 0 arrived\)" \
  "check that rank 1 is alive" \
  "rank 0: then barrier threw after 0\.0[0-9]* s: barrier: the process group is broken by an earlier failure"
# With 3 ranks, ranks 0 and 2 both name rank 1 (the first to abort ends the job).
NP=3 check stop 3 15 "timed out after 3 s on rank [02]: rank 1 did not arrive \(ranks 0, 2 arrived\)"
# OpenMPI notices the killed process and tears the job down (exit 128 + SIGKILL).
check kill 137 15 "rank 1.*(signal 9|Killed)"
# Rank 0 sends 1000 floats, rank 1 2000: the arrival tokens catch it on both ranks.
check mismatch 3 15 "collective mismatch: rank [01] called allreduce #2 \((4\.0|8\.0) kB float32, sum\) but rank [01] called allreduce #2"

if ((failures > 0)); then
  echo "failure_test: $failures check(s) failed"
  exit 1
fi
echo "failure_test: all checks passed"
