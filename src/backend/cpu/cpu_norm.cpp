// CPU batch-norm kernels over (N, C, S) layouts: per-channel statistics, the normalising
// forward, and the fused backward (channel sums, then dx), parallel over channels.
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/parallel.h"

namespace ember::cpu {

namespace {

// Channels per task so that a task holds about kGrain elements.
int64_t channel_grain(int64_t per_channel) {
  return std::max<int64_t>(1, kGrain / std::max<int64_t>(1, per_channel));
}

template <class T>
void stats_impl(const T* px, int64_t N, int64_t C, int64_t S, T* pm, T* pv) {
  const double count = static_cast<double>(N * S);
  parallel_for(0, C, channel_grain(N * S), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      double s = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* row = px + (n * C + c) * S;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < S; ++i) s += row[i];
      }
      const double mu = s / count;
      double q = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T* row = px + (n * C + c) * S;
#pragma omp simd reduction(+ : q)
        for (int64_t i = 0; i < S; ++i) {
          const double d = static_cast<double>(row[i]) - mu;
          q += d * d;
        }
      }
      pm[c] = static_cast<T>(mu);
      pv[c] = static_cast<T>(q / count);
    }
  });
}

template <class T>
void forward_impl(const T* px, int64_t N, int64_t C, int64_t S, const T* pm, const T* pv,
                  const T* pw, const T* pb, double eps, T* po) {
  parallel_for(0, N * C, channel_grain(S), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const int64_t c = p % C;
      const double invstd = 1.0 / std::sqrt(static_cast<double>(pv[c]) + eps);
      const double sc = (pw ? static_cast<double>(pw[c]) : 1.0) * invstd;
      const double sh = (pb ? static_cast<double>(pb[c]) : 0.0) - static_cast<double>(pm[c]) * sc;
      const T scale = static_cast<T>(sc), shift = static_cast<T>(sh);
      const T* xr = px + p * S;
      T* orow = po + p * S;
#pragma omp simd
      for (int64_t i = 0; i < S; ++i) orow[i] = xr[i] * scale + shift;
    }
  });
}

template <class T>
void backward_impl(const T* pg, const T* px, int64_t N, int64_t C, int64_t S, const T* pm,
                   const T* pv, const T* pw, double eps, bool training, T* pdx, T* pdw, T* pdb) {
  const double count = static_cast<double>(N * S);
  const bool need_sums = pdw || pdb || (pdx && training);
  parallel_for(0, C, channel_grain(N * S), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const double mu = static_cast<double>(pm[c]);
      const double invstd = 1.0 / std::sqrt(static_cast<double>(pv[c]) + eps);
      double sum_g = 0, sum_gd = 0;
      if (need_sums) {
        for (int64_t n = 0; n < N; ++n) {
          const T* g = pg + (n * C + c) * S;
          const T* xr = px + (n * C + c) * S;
#pragma omp simd reduction(+ : sum_g, sum_gd)
          for (int64_t i = 0; i < S; ++i) {
            sum_g += g[i];
            sum_gd += static_cast<double>(g[i]) * (static_cast<double>(xr[i]) - mu);
          }
        }
      }
      if (pdw) pdw[c] = static_cast<T>(sum_gd * invstd);
      if (pdb) pdb[c] = static_cast<T>(sum_g);
      if (!pdx) continue;
      const double a = (pw ? static_cast<double>(pw[c]) : 1.0) * invstd;
      const double k = training ? -a * invstd * invstd * sum_gd / count : 0.0;
      const double k0 = training ? -a * sum_g / count : 0.0;
      const T at = static_cast<T>(a), kt = static_cast<T>(k), k0t = static_cast<T>(k0);
      const T mut = pm[c];
      for (int64_t n = 0; n < N; ++n) {
        const T* g = pg + (n * C + c) * S;
        const T* xr = px + (n * C + c) * S;
        T* dx = pdx + (n * C + c) * S;
#pragma omp simd
        for (int64_t i = 0; i < S; ++i) dx[i] = at * g[i] + kt * (xr[i] - mut) + k0t;
      }
    }
  });
}

}  // namespace

// x: (N, C, S) -> mean, var (biased): (C). Two passes in double: sum, then squared deviations.
void CpuBackend::batch_norm_stats(const Tensor& x, const Tensor& mean, const Tensor& var) {
  EMBER_DISPATCH_FLOATING(x.dtype(), "batch_norm", [&] {
    stats_impl(x.data_ptr<scalar_t>(), x.size(0), x.size(1), x.size(2), mean.data_ptr<scalar_t>(),
               var.data_ptr<scalar_t>());
  });
}

// out = x * scale_c + shift_c with scale = weight / sqrt(var + eps), shift = bias - mean * scale.
void CpuBackend::batch_norm_forward(const Tensor& x, const Tensor& mean, const Tensor& var,
                                    const Tensor& weight, const Tensor& bias, double eps,
                                    const Tensor& out) {
  EMBER_DISPATCH_FLOATING(x.dtype(), "batch_norm", [&] {
    forward_impl(x.data_ptr<scalar_t>(), x.size(0), x.size(1), x.size(2), mean.data_ptr<scalar_t>(),
                 var.data_ptr<scalar_t>(), weight.defined() ? weight.data_ptr<scalar_t>() : nullptr,
                 bias.defined() ? bias.data_ptr<scalar_t>() : nullptr, eps,
                 out.data_ptr<scalar_t>());
  });
}

// Per channel: sum_g = sum(g), sum_gd = sum(g (x - mean)); then
//   training: dx = a g + k (x - mean) + k0 with a = w invstd, k = -a invstd^2 sum_gd / M,
//             k0 = -a sum_g / M;
//   eval:     dx = a g;  dweight = sum_gd invstd, dbias = sum_g.
void CpuBackend::batch_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& mean,
                                     const Tensor& var, const Tensor& weight, double eps,
                                     bool training, const Tensor& grad_x, const Tensor& grad_weight,
                                     const Tensor& grad_bias) {
  EMBER_DISPATCH_FLOATING(x.dtype(), "batch_norm_backward", [&] {
    backward_impl(grad_out.data_ptr<scalar_t>(), x.data_ptr<scalar_t>(), x.size(0), x.size(1),
                  x.size(2), mean.data_ptr<scalar_t>(), var.data_ptr<scalar_t>(),
                  weight.defined() ? weight.data_ptr<scalar_t>() : nullptr, eps, training,
                  grad_x.defined() ? grad_x.data_ptr<scalar_t>() : nullptr,
                  grad_weight.defined() ? grad_weight.data_ptr<scalar_t>() : nullptr,
                  grad_bias.defined() ? grad_bias.data_ptr<scalar_t>() : nullptr);
  });
}

}  // namespace ember::cpu
