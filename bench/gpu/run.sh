#!/usr/bin/env bash
# One verification run on a GPU machine (H200, sm_90): configure and build the CUDA backend into
# build-gpu, run the CUDA test suite (every kernel against the CPU), the GPU micro-benchmarks and
# GPT-2 small training next to PyTorch, and print a short table last.
# Usage: bench/gpu/run.sh [BUILD_DIR]   (about 6-10 min on 16 cores)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-gpu}
jobs=$(nproc)
log=$(mktemp -d)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

# libtorch is needed by the test tree's configure step; use pip torch's CMake files when the
# Debian libtorch-dev is absent.
prefix=()
if ! ls /usr/lib/x86_64-linux-gnu/cmake/Torch >/dev/null 2>&1; then
  tp=$(python3 -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null) &&
    prefix=(-DCMAKE_PREFIX_PATH="$tp")
fi
command -v nvcc >/dev/null || [[ ! -x /usr/local/cuda/bin/nvcc ]] ||
  prefix+=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
t0=$(date +%s)
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEMBER_CUDA=ON -DEMBER_CUDA_ARCHS=90 \
  -DEMBER_BUILD_BENCH=OFF -DEMBER_MPI=OFF "${prefix[@]}" >"$log/configure.txt" 2>&1 ||
  { tail -30 "$log/configure.txt"; echo "configure failed"; exit 1; }
cmake --build "$build" -j"$jobs" --target ember ember_cuda_tests >"$log/build.txt" 2>&1 ||
  { grep -E "error" -A3 "$log/build.txt" | head -60; echo "build failed"; exit 1; }
t1=$(date +%s)

timeout 300 "$build/tests/ember_cuda_tests" --gtest_color=no >"$log/tests.txt" 2>&1
tests_rc=$?
grep -E "^\[  (FAILED|SKIPPED) |Failure|error|Expected|Which is|max abs diff" "$log/tests.txt" | head -80

bench_rc=0
g++ -std=c++20 -O2 -I"$root/include" -DEMBER_WITH_CUDA "$root/bench/gpu/cuda_bench.cpp" \
  -L"$build" -lember -Wl,-rpath,"$build" -o "$log/cuda_bench" >"$log/bench_build.txt" 2>&1 &&
  timeout 180 "$log/cuda_bench" >"$log/bench.txt" 2>&1 || bench_rc=$?

# GPT-2 small training, Ember next to PyTorch (eager tf32/bf16 with SDPA and fused AdamW, compile).
gpt_rc=0
g++ -std=c++20 -O2 -I"$root/include" -DEMBER_WITH_CUDA "$root/bench/gpu/gpt2_train.cpp" \
  -L"$build" -lember -Wl,-rpath,"$build" -o "$log/gpt2_train" >"$log/gpt_build.txt" 2>&1 &&
  timeout 240 "$log/gpt2_train" 16 20 high >"$log/gpt.txt" 2>&1 || gpt_rc=$?
timeout 300 python3 "$root/bench/gpu/gpt2_train_torch.py" 16 20 >>"$log/gpt.txt" 2>&1 || gpt_rc=$?

echo
echo "== summary"
printf "%-40s %s\n" "build (ember + ember_cuda_tests)" "$((t1 - t0)) s on $jobs cores"
printf "%-40s %s\n" "ember_cuda_tests" "$(grep -E '^\[  (PASSED|FAILED)  \]' "$log/tests.txt" |
  tr '\n' ' ') (rc $tests_rc)"
grep -E '^\[  FAILED  \] [A-Za-z]' "$log/tests.txt" | sed 's/^/  /'
[[ $bench_rc != 0 ]] && { echo "cuda_bench failed (rc $bench_rc):"; tail -20 "$log/bench.txt" \
  "$log/bench_build.txt"; }
grep '^RESULT' "$log/bench.txt" 2>/dev/null | cut -f2- | awk -F'\t' '{printf "%-40s %s  %s\n", $1, $2, $3}'
[[ $gpt_rc != 0 ]] && { echo "GPT-2 benchmark failed (rc $gpt_rc):"; tail -20 "$log/gpt.txt" \
  "$log/gpt_build.txt"; }
grep '^RESULT' "$log/gpt.txt" 2>/dev/null | cut -f2- | awk -F'\t' '{printf "%-40s %s  %s\n", $1, $2, $3}'
exit $tests_rc
