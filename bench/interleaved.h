// Side-by-side timing for the C++ benches: Ember and libtorch alternated in blocks, medians kept.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "ember/ember.h"

namespace bench {

/// Mean seconds of one call of f over iters calls.
inline double seconds_of(const std::function<void()>& f, int iters) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / iters;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

/// Median seconds per call of ours and of theirs, timed alternately (reps blocks of iters calls
/// each, after one warm-up call of each for caches, scratch buffers and thread pools).
struct Medians {
  double ours, theirs;
};
inline Medians interleaved(const std::function<void()>& ours, const std::function<void()>& theirs,
                           int reps, int iters) {
  ours();
  theirs();
  std::vector<double> e, t;
  for (int r = 0; r < reps; ++r) {
    e.push_back(seconds_of(ours, iters));
    t.push_back(seconds_of(theirs, iters));
  }
  return {median(e), median(t)};
}

/// A libtorch copy of t (float32 or int64).
inline torch::Tensor to_torch(const ember::Tensor& t) {
  const ember::Tensor c = t.contiguous();
  const auto dt = c.dtype() == ember::kInt64 ? torch::kInt64 : torch::kFloat;
  return torch::from_blob(const_cast<void*>(c.raw_data()), c.shape(), dt).clone();
}

}  // namespace bench
