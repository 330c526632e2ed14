// CPU recommendation kernels: embedding bags (forward, scatter-add backward), the FM
// interaction, and the row-sparse optimizer updates (SparseAdam, Adagrad's sparse path).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/parallel.h"

// The optimizer updates follow torch's sparse code paths op by op (Note [Fused optimizer
// rounding] in cpu_optim.cpp): no contraction, one rounding per ATen op.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace ember::cpu {

using BagMode = backend::Backend::BagMode;

namespace {

// Bags per parallel chunk, scaled so each chunk does about kGrain element updates.
int64_t bag_grain(int64_t work_per_bag) {
  return std::max<int64_t>(1, kGrain / std::max<int64_t>(1, work_per_bag));
}

// Number of non-padding entries of each bag, for the mean.
template <class Idx>
int64_t bag_count(const Idx* ix, int64_t begin, int64_t end, int64_t padding_idx) {
  int64_t n = 0;
  for (int64_t i = begin; i < end; ++i) n += ix[i] != padding_idx;
  return n;
}

template <class T>
void bag_forward(const T* w, const int64_t* ix, const int64_t* off, const T* psw, BagMode mode,
                 int64_t pad, int64_t B, int64_t D, T* out, int64_t* amax) {
  const int64_t avg_len = B > 0 ? off[B] / B + 1 : 1;
  parallel_for(0, B, bag_grain(avg_len * D), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* o = out + b * D;
      std::fill(o, o + D, T(0));
      int64_t* a = amax ? amax + b * D : nullptr;
      if (a) std::fill(a, a + D, int64_t{-1});
      int64_t count = 0;
      for (int64_t i = off[b]; i < off[b + 1]; ++i) {
        const int64_t r = ix[i];
        if (r == pad) continue;
        const T* row = w + r * D;
        if (mode == BagMode::Max) {
          for (int64_t d = 0; d < D; ++d) {
            if (count == 0 || row[d] > o[d]) {
              o[d] = row[d];
              a[d] = r;
            }
          }
        } else if (psw) {
          const T s = psw[i];
          for (int64_t d = 0; d < D; ++d) o[d] += s * row[d];
        } else {
          for (int64_t d = 0; d < D; ++d) o[d] += row[d];
        }
        ++count;
      }
      if (mode == BagMode::Mean && count > 0) {
        const T c = static_cast<T>(count);
        for (int64_t d = 0; d < D; ++d) o[d] /= c;
      }
    }
  });
}

// Sum/mean weight gradient: grad_weight[ix[i]] += scale_i * g[bag(i)]. Entries are sorted by
// (row, position) so that threads own disjoint rows and each row sums in position order (the
// result does not depend on the thread count).
template <class T>
void bag_backward_sum(const T* g, const int64_t* ix, const int64_t* off, const T* psw, BagMode mode,
                      int64_t pad, int64_t B, int64_t D, T* gw) {
  const int64_t N = off[B];
  std::vector<int64_t> bag(static_cast<size_t>(N));
  std::vector<T> scale(static_cast<size_t>(N), T(1));
  for (int64_t b = 0; b < B; ++b) {
    const int64_t count = mode == BagMode::Mean ? bag_count(ix, off[b], off[b + 1], pad) : 1;
    for (int64_t i = off[b]; i < off[b + 1]; ++i) {
      bag[i] = b;
      if (psw) {
        scale[i] = psw[i];
      } else if (count > 1) {
        scale[i] = T(1) / static_cast<T>(count);
      }
    }
  }
  auto add_entry = [&](int64_t i) {
    const int64_t r = ix[i];
    if (r == pad) return;
    const T* src = g + bag[i] * D;
    T* dst = gw + r * D;
    const T s = scale[i];
    for (int64_t d = 0; d < D; ++d) dst[d] += s * src[d];
  };
  if (N * D <= kGrain || omp_get_max_threads() == 1) {
    for (int64_t i = 0; i < N; ++i) add_entry(i);
    return;
  }
  std::vector<std::pair<int64_t, int64_t>> order(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) order[i] = {ix[i], i};
  std::sort(order.begin(), order.end());
  std::vector<int64_t> starts;  // first entry of each distinct row
  for (int64_t k = 0; k < N; ++k)
    if (k == 0 || order[k].first != order[k - 1].first) starts.push_back(k);
  starts.push_back(N);
  const auto R = static_cast<int64_t>(starts.size()) - 1;
  parallel_for(0, R, bag_grain(D * (N / std::max<int64_t>(R, 1) + 1)), [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s)
      for (int64_t k = starts[s]; k < starts[s + 1]; ++k) add_entry(order[k].second);
  });
}

// Max weight gradient: each (bag, column) routes to its argmax row. Columns are independent,
// so threads split the columns.
template <class T>
void bag_backward_max(const T* g, const int64_t* amax, int64_t B, int64_t D, T* gw) {
  const int64_t col_grain = std::max<int64_t>(16, kGrain / std::max<int64_t>(B, 1));
  parallel_for(0, D, col_grain, [&](int64_t d0, int64_t d1) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t d = d0; d < d1; ++d) {
        const int64_t r = amax[b * D + d];
        if (r >= 0) gw[r * D + d] += g[b * D + d];
      }
  });
}

}  // namespace

void CpuBackend::embedding_bag_forward(const Tensor& weight, const Tensor& indices,
                                       const Tensor& offsets, const Tensor& psw, BagMode mode,
                                       int64_t padding_idx, const Tensor& out,
                                       const Tensor& argmax) {
  EMBER_DISPATCH_FLOATING(weight.dtype(), "embedding_bag", [&] {
    using T = scalar_t;
    bag_forward<T>(weight.data_ptr<T>(), indices.data_ptr<int64_t>(), offsets.data_ptr<int64_t>(),
                   psw.defined() ? psw.data_ptr<T>() : nullptr, mode, padding_idx, out.size(0),
                   weight.size(1), out.data_ptr<T>(),
                   mode == BagMode::Max ? argmax.data_ptr<int64_t>() : nullptr);
  });
}

void CpuBackend::embedding_bag_backward(const Tensor& grad_out, const Tensor& indices,
                                        const Tensor& offsets, const Tensor& psw, BagMode mode,
                                        int64_t padding_idx, const Tensor& argmax,
                                        const Tensor& grad_weight) {
  EMBER_DISPATCH_FLOATING(grad_weight.dtype(), "embedding_bag_backward", [&] {
    using T = scalar_t;
    const int64_t B = grad_out.size(0), D = grad_weight.size(1);
    if (mode == BagMode::Max) {
      bag_backward_max<T>(grad_out.data_ptr<T>(), argmax.data_ptr<int64_t>(), B, D,
                          grad_weight.data_ptr<T>());
    } else {
      bag_backward_sum<T>(grad_out.data_ptr<T>(), indices.data_ptr<int64_t>(),
                          offsets.data_ptr<int64_t>(), psw.defined() ? psw.data_ptr<T>() : nullptr,
                          mode, padding_idx, B, D, grad_weight.data_ptr<T>());
    }
  });
}

void CpuBackend::embedding_bag_psw_backward(const Tensor& grad_out, const Tensor& weight,
                                            const Tensor& indices, const Tensor& offsets,
                                            int64_t padding_idx, const Tensor& grad_psw) {
  EMBER_DISPATCH_FLOATING(weight.dtype(), "embedding_bag_psw_backward", [&] {
    using T = scalar_t;
    const T* g = grad_out.data_ptr<T>();
    const T* w = weight.data_ptr<T>();
    const int64_t* ix = indices.data_ptr<int64_t>();
    const int64_t* off = offsets.data_ptr<int64_t>();
    T* out = grad_psw.data_ptr<T>();
    const int64_t B = grad_out.size(0), D = weight.size(1), N = grad_psw.numel();
    std::fill(out, out + N, T(0));  // entries after the last bag (include_last_offset)
    parallel_for(0, B, bag_grain(D * (off[B] / std::max<int64_t>(B, 1) + 1)),
                 [&](int64_t b0, int64_t b1) {
                   for (int64_t b = b0; b < b1; ++b)
                     for (int64_t i = off[b]; i < off[b + 1]; ++i) {
                       if (ix[i] == padding_idx) continue;
                       T acc = 0;
                       for (int64_t d = 0; d < D; ++d) acc += g[b * D + d] * w[ix[i] * D + d];
                       out[i] = acc;
                     }
                 });
  });
}

void CpuBackend::fm_interaction_forward(const Tensor& v, const Tensor& out) {
  EMBER_DISPATCH_FLOATING(v.dtype(), "fm_interaction", [&] {
    using T = scalar_t;
    const T* x = v.data_ptr<T>();
    T* o = out.data_ptr<T>();
    const int64_t B = v.size(0), F = v.size(1), K = v.size(2);
    parallel_for(0, B, bag_grain(F * K), [&](int64_t b0, int64_t b1) {
      std::vector<double> s(static_cast<size_t>(K)), q(static_cast<size_t>(K));
      for (int64_t b = b0; b < b1; ++b) {
        std::fill(s.begin(), s.end(), 0.0);
        std::fill(q.begin(), q.end(), 0.0);
        for (int64_t f = 0; f < F; ++f) {
          const T* row = x + (b * F + f) * K;
          for (int64_t k = 0; k < K; ++k) {
            const double e = row[k];
            s[k] += e;
            q[k] += e * e;
          }
        }
        double acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += s[k] * s[k] - q[k];
        o[b] = static_cast<T>(0.5 * acc);
      }
    });
  });
}

void CpuBackend::fm_interaction_backward(const Tensor& v, const Tensor& g, const Tensor& grad_v) {
  EMBER_DISPATCH_FLOATING(v.dtype(), "fm_interaction_backward", [&] {
    using T = scalar_t;
    const T* x = v.data_ptr<T>();
    const T* gb = g.data_ptr<T>();
    T* gv = grad_v.data_ptr<T>();
    const int64_t B = v.size(0), F = v.size(1), K = v.size(2);
    parallel_for(0, B, bag_grain(F * K), [&](int64_t b0, int64_t b1) {
      std::vector<double> s(static_cast<size_t>(K));
      for (int64_t b = b0; b < b1; ++b) {
        std::fill(s.begin(), s.end(), 0.0);
        for (int64_t f = 0; f < F; ++f)
          for (int64_t k = 0; k < K; ++k) s[k] += x[(b * F + f) * K + k];
        const double gg = gb[b];
        for (int64_t f = 0; f < F; ++f)
          for (int64_t k = 0; k < K; ++k) {
            const int64_t e = (b * F + f) * K + k;
            gv[e] = static_cast<T>(gg * (s[k] - static_cast<double>(x[e])));
          }
      }
    });
  });
}

void CpuBackend::zero_rows(const Tensor& x, const Tensor& rows) {
  const int64_t n = rows.numel();
  const int64_t C = x.dim() == 0 ? 1 : x.numel() / std::max<int64_t>(x.size(0), 1);
  const int64_t* r = rows.data_ptr<int64_t>();
  const size_t row_bytes = static_cast<size_t>(C) * x.element_size();
  auto* base = static_cast<char*>(x.raw_data());
  parallel_for(0, n, bag_grain(C), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) std::memset(base + r[i] * row_bytes, 0, row_bytes);
  });
}

namespace {

// Calls f(e0, e1) over the element ranges of the given unique rows (all rows when undefined).
template <class F>
void for_rows(const Tensor& param, const Tensor& rows, const F& f) {
  if (!rows.defined()) {
    parallel_for(0, param.numel(), kGrain, f);
    return;
  }
  const int64_t C = param.numel() / std::max<int64_t>(param.size(0), 1);
  const int64_t* r = rows.data_ptr<int64_t>();
  parallel_for(0, rows.numel(), bag_grain(C), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) f(r[i] * C, (r[i] + 1) * C);
  });
}

}  // namespace

void CpuBackend::sparse_adam_step(const Tensor& param, const Tensor& grad, const Tensor& m,
                                  const Tensor& v, const Tensor& rows, double lr, double beta1,
                                  double beta2, double eps, int64_t step, bool maximize) {
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
  const double step_size = lr * std::sqrt(bc2) / bc1;
  EMBER_DISPATCH_FLOATING(param.dtype(), "sparse_adam_step", [&] {
    using T = scalar_t;
    T* const p = param.data_ptr<T>();
    const T* const g = grad.data_ptr<T>();
    T* const pm = m.data_ptr<T>();
    T* const pv = v.data_ptr<T>();
    const T sign = maximize ? T(-1) : T(1), c1 = static_cast<T>(1 - beta1),
            c2 = static_cast<T>(1 - beta2), e = static_cast<T>(eps),
            neg_step = static_cast<T>(-step_size);
    for_rows(param, rows, [=](int64_t e0, int64_t e1) {
      for (int64_t i = e0; i < e1; ++i) {
        const T gi = sign * g[i];
        const T mu = (gi - pm[i]) * c1;
        const T vu = (gi * gi - pv[i]) * c2;
        pm[i] = pm[i] + mu;
        pv[i] = pv[i] + vu;
        const T denom = std::sqrt(pv[i]) + e;
        p[i] = p[i] + neg_step * (pm[i] / denom);
      }
    });
  });
}

void CpuBackend::adagrad_rows_step(const Tensor& param, const Tensor& grad, const Tensor& sum,
                                   const Tensor& rows, double clr, double eps, bool maximize) {
  EMBER_DISPATCH_FLOATING(param.dtype(), "adagrad_rows_step", [&] {
    using T = scalar_t;
    T* const p = param.data_ptr<T>();
    const T* const g = grad.data_ptr<T>();
    T* const s = sum.data_ptr<T>();
    const T sign = maximize ? T(-1) : T(1), e = static_cast<T>(eps), neg_clr = static_cast<T>(-clr);
    for_rows(param, rows, [=](int64_t e0, int64_t e1) {
      for (int64_t i = e0; i < e1; ++i) {
        const T gi = sign * g[i];
        s[i] = s[i] + gi * gi;
        const T std_i = std::sqrt(s[i]) + e;
        p[i] = p[i] + neg_clr * (gi / std_i);
      }
    });
  });
}

}  // namespace ember::cpu
