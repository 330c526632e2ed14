// parallel_for over an index range with OpenMP (one threading runtime, shared with OpenBLAS).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace ember::cpu {

/// Runs f(begin, end) over chunks of [begin, end); serially when the range is below grain.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, const F& f) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int max_threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (n <= grain || max_threads == 1) {
    f(begin, end);
    return;
  }
  const int64_t threads = std::min<int64_t>(max_threads, (n + grain - 1) / grain);
#pragma omp parallel num_threads(static_cast<int>(threads))
  {
    const int64_t t = omp_get_thread_num();
    const int64_t chunk = (n + threads - 1) / threads;
    const int64_t b = begin + t * chunk;
    const int64_t e = std::min(end, b + chunk);
    if (b < e) f(b, e);
  }
}

/// Elements below which elementwise kernels stay on one thread.
constexpr int64_t kGrain = 32768;

}  // namespace ember::cpu
