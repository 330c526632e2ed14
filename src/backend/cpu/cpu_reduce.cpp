// CPU reductions over (A, R, B) layouts, prefix sums, row softmax and row sort.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/parallel.h"

namespace ember::cpu {

namespace {
template <class T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(v);
  else
    return false;
}

// Sum or product of R elements with stride B starting at x.
template <class T>
acc_t<T> fold(backend::ReduceOp op, const T* x, int64_t R, int64_t B) {
  acc_t<T> acc = op == backend::ReduceOp::Sum ? 0 : 1;
  if (op == backend::ReduceOp::Sum) {
    if (B == 1) {
#pragma omp simd reduction(+ : acc)
      for (int64_t r = 0; r < R; ++r) acc += x[r];
    } else {
      for (int64_t r = 0; r < R; ++r) acc += x[r * B];
    }
  } else {
    for (int64_t r = 0; r < R; ++r) acc *= x[r * B];
  }
  return acc;
}

// Index of the max (or min) of R elements with stride B; NaN wins, first occurrence on ties.
template <class T>
int64_t arg_extreme(const T* x, int64_t R, int64_t B, bool want_max) {
  int64_t best = 0;
  T bv = x[0];
  if (is_nan(bv)) return 0;
  for (int64_t r = 1; r < R; ++r) {
    const T v = x[r * B];
    if (is_nan(v)) return r;
    if (want_max ? v > bv : v < bv) {
      bv = v;
      best = r;
    }
  }
  return best;
}
}  // namespace

void CpuBackend::reduce(backend::ReduceOp op, const Tensor& x, int64_t A, int64_t R, int64_t B,
                        const Tensor& out) {
  using backend::ReduceOp;
  const bool is_arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  const bool is_extreme = op != ReduceOp::Sum && op != ReduceOp::Prod;
  EMBER_CHECK_INDEX(!is_extreme || R > 0, "max/min/argmax/argmin: cannot reduce over an empty ",
                    "dimension (size 0)");
  EMBER_DISPATCH_NUMERIC(x.dtype(), "reduce", [&] {
    const scalar_t* px = x.data_ptr<scalar_t>();
    const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, R));
    if (op == ReduceOp::Sum && B > 1) {
      // Column sums: accumulate rows into a buffer so the inner loop runs over contiguous b.
      scalar_t* po = out.data_ptr<scalar_t>();
      parallel_for(0, B, std::max<int64_t>(16, kGrain / std::max<int64_t>(1, R * A)),
                   [&](int64_t b0, int64_t b1) {
                     const int64_t n = b1 - b0;
                     std::vector<acc_t<scalar_t>> buf(static_cast<size_t>(n));
                     acc_t<scalar_t>* acc = buf.data();
                     for (int64_t a = 0; a < A; ++a) {
                       std::fill(buf.begin(), buf.end(), 0);
                       for (int64_t r = 0; r < R; ++r) {
                         const scalar_t* row = px + (a * R + r) * B + b0;
                         _Pragma("omp simd") for (int64_t j = 0; j < n; ++j) acc[j] +=
                             static_cast<acc_t<scalar_t>>(row[j]);
                       }
                       for (int64_t j = 0; j < n; ++j)
                         po[a * B + b0 + j] = static_cast<scalar_t>(acc[j]);
                     }
                   });
      return;
    }
    parallel_for(0, A * B, grain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t a = i / B, b = i % B;
        const scalar_t* base = px + a * R * B + b;
        if (is_arg) {
          out.data_ptr<int64_t>()[i] = arg_extreme(base, R, B, op == ReduceOp::ArgMax);
        } else if (is_extreme) {
          out.data_ptr<scalar_t>()[i] = base[arg_extreme(base, R, B, op == ReduceOp::Max) * B];
        } else {
          out.data_ptr<scalar_t>()[i] = static_cast<scalar_t>(fold(op, base, R, B));
        }
      }
    });
  });
}

void CpuBackend::cumsum(const Tensor& x, int64_t A, int64_t R, int64_t B, const Tensor& out) {
  EMBER_DISPATCH_NUMERIC(x.dtype(), "cumsum", [&] {
    const scalar_t* px = x.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    for (int64_t a = 0; a < A; ++a)
      for (int64_t b = 0; b < B; ++b) {
        acc_t<scalar_t> acc = 0;
        for (int64_t r = 0; r < R; ++r) {
          const int64_t i = (a * R + r) * B + b;
          acc += px[i];
          po[i] = static_cast<scalar_t>(acc);
        }
      }
  });
}

void CpuBackend::softmax(const Tensor& x, const Tensor& out, bool log) {
  const int64_t N = x.size(-1);
  const int64_t M = N == 0 ? 0 : x.numel() / N;
  EMBER_DISPATCH_FLOATING(x.dtype(), "softmax", [&] {
    const scalar_t* px = x.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    parallel_for(0, M, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, N)),
                 [&](int64_t m0, int64_t m1) {
                   for (int64_t m = m0; m < m1; ++m) {
                     const scalar_t* row = px + m * N;
                     scalar_t* o = po + m * N;
                     scalar_t mx = -std::numeric_limits<scalar_t>::infinity();
                     for (int64_t n = 0; n < N; ++n) mx = row[n] > mx ? row[n] : mx;
                     if (std::isinf(mx) && mx < 0)
                       mx = 0;  // all -inf: keep exp(-inf) = 0, avoid NaN from inf-inf
                     double sum = 0;
                     for (int64_t n = 0; n < N; ++n) {
                       const scalar_t e = std::exp(row[n] - mx);
                       if (!log) o[n] = e;
                       sum += e;
                     }
                     if (log) {
                       const scalar_t lse = mx + static_cast<scalar_t>(std::log(sum));
                       for (int64_t n = 0; n < N; ++n) o[n] = row[n] - lse;
                     } else {
                       const scalar_t inv = static_cast<scalar_t>(1.0 / sum);
                       for (int64_t n = 0; n < N; ++n) o[n] *= inv;
                     }
                   }
                 });
  });
}

void CpuBackend::softmax_backward(const Tensor& y, const Tensor& g, const Tensor& out, bool log) {
  const int64_t N = y.size(-1);
  const int64_t M = N == 0 ? 0 : y.numel() / N;
  EMBER_DISPATCH_FLOATING(y.dtype(), "softmax_backward", [&] {
    const scalar_t* py = y.data_ptr<scalar_t>();
    const scalar_t* pg = g.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    parallel_for(0, M, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, N)),
                 [&](int64_t m0, int64_t m1) {
                   for (int64_t m = m0; m < m1; ++m) {
                     const scalar_t* yr = py + m * N;
                     const scalar_t* gr = pg + m * N;
                     scalar_t* o = po + m * N;
                     double s = 0;
                     if (log) {
                       // d/dx log_softmax: g - softmax * sum(g)
                       for (int64_t n = 0; n < N; ++n) s += gr[n];
                       for (int64_t n = 0; n < N; ++n)
                         o[n] = gr[n] - std::exp(yr[n]) * static_cast<scalar_t>(s);
                     } else {
                       // d/dx softmax: y * (g - sum(g * y))
                       for (int64_t n = 0; n < N; ++n) s += static_cast<double>(gr[n]) * yr[n];
                       for (int64_t n = 0; n < N; ++n)
                         o[n] = yr[n] * (gr[n] - static_cast<scalar_t>(s));
                     }
                   }
                 });
  });
}

void CpuBackend::sort_rows(const Tensor& x, bool descending, const Tensor& values,
                           const Tensor& indices) {
  const int64_t N = x.size(-1);
  const int64_t M = N == 0 ? 0 : x.numel() / N;
  EMBER_DISPATCH_NUMERIC(x.dtype(), "sort", [&] {
    const scalar_t* px = x.data_ptr<scalar_t>();
    scalar_t* pv = values.data_ptr<scalar_t>();
    int64_t* pi = indices.data_ptr<int64_t>();
    parallel_for(0, M, 1, [&](int64_t m0, int64_t m1) {
      std::vector<int64_t> idx(static_cast<size_t>(N));
      for (int64_t m = m0; m < m1; ++m) {
        const scalar_t* row = px + m * N;
        std::iota(idx.begin(), idx.end(), 0);
        // NaN sorts as the largest value, as in PyTorch.
        auto less = [&](int64_t i, int64_t j) {
          const scalar_t a = row[i], b = row[j];
          if (is_nan(a)) return false;
          if (is_nan(b)) return true;
          return a < b;
        };
        if (descending) {
          std::stable_sort(idx.begin(), idx.end(),
                           [&](int64_t i, int64_t j) { return less(j, i); });
        } else {
          std::stable_sort(idx.begin(), idx.end(), less);
        }
        for (int64_t n = 0; n < N; ++n) {
          pi[m * N + n] = idx[n];
          pv[m * N + n] = row[idx[n]];
        }
      }
    });
  });
}

}  // namespace ember::cpu
