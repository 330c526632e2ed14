// Strided iteration for CPU kernels: N operands of one shape, coalesced into innermost runs.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "backend/cpu/parallel.h"
#include "ember/core/tensor.h"

namespace ember::cpu {

/// Operands of one elementwise loop: a shape and, per operand, a base pointer and byte strides.
/// Dims of size 1 are dropped and adjacent dims that are contiguous for every operand are merged,
/// so a contiguous tensor becomes a single run.
template <size_t N>
struct StridedLoop {
  std::vector<int64_t> sizes;                       // outermost first; last one is the run
  std::vector<std::array<int64_t, N>> strides;      // bytes
  std::array<char*, N> base{};

  StridedLoop(const std::array<const Tensor*, N>& ts) {
    const Shape& shape = ts[0]->shape();
    for (size_t k = 0; k < N; ++k)
      base[k] = static_cast<char*>(ts[k]->raw_data());
    for (size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] == 1) continue;
      std::array<int64_t, N> st;
      for (size_t k = 0; k < N; ++k)
        st[k] = ts[k]->stride(static_cast<int64_t>(d)) * static_cast<int64_t>(ts[k]->element_size());
      if (!sizes.empty()) {
        bool merge = true;
        for (size_t k = 0; k < N; ++k)
          merge = merge && strides.back()[k] == st[k] * shape[d];
        if (merge) {
          sizes.back() *= shape[d];
          strides.back() = st;
          continue;
        }
      }
      sizes.push_back(shape[d]);
      strides.push_back(st);
    }
    if (sizes.empty()) {  // 0-d or all ones: one run of one element
      sizes.push_back(1);
      strides.push_back({});
    }
  }

  int64_t run_length() const { return sizes.back(); }
  int64_t outer_count() const {
    int64_t n = 1;
    for (size_t d = 0; d + 1 < sizes.size(); ++d) n *= sizes[d];
    return n;
  }

  /// Calls run(ptrs, n, strides) for every innermost run, in parallel when large.
  template <class F>
  void for_each_run(const F& run) const {
    const int64_t n_inner = run_length();
    const int64_t n_outer = outer_count();
    if (n_outer * n_inner == 0) return;
    const std::array<int64_t, N> inner = strides.back();
    const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, n_inner));
    const int64_t ndim_outer = static_cast<int64_t>(sizes.size()) - 1;
    parallel_for(0, n_outer, grain, [&](int64_t begin, int64_t end) {
      std::vector<int64_t> idx(static_cast<size_t>(ndim_outer), 0);
      std::array<char*, N> p = base;
      int64_t rem = begin;
      for (int64_t d = ndim_outer - 1; d >= 0; --d) {
        idx[d] = rem % sizes[d];
        rem /= sizes[d];
        for (size_t k = 0; k < N; ++k) p[k] += idx[d] * strides[d][k];
      }
      for (int64_t i = begin; i < end; ++i) {
        run(p, n_inner, inner);
        for (int64_t d = ndim_outer - 1; d >= 0; --d) {
          for (size_t k = 0; k < N; ++k) p[k] += strides[d][k];
          if (++idx[d] < sizes[d]) break;
          for (size_t k = 0; k < N; ++k) p[k] -= sizes[d] * strides[d][k];
          idx[d] = 0;
        }
      }
    });
  }
};

}  // namespace ember::cpu
