// CUDA layer norm and RMS norm over the rows of (M, N), forward and backward (a block per row).
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_block.cuh"
#include "backend/cuda/cuda_common.cuh"

namespace ember::cuda {

namespace {
// Statistics in x's type, as the CPU kernel (Note [LayerNorm numerics] in cpu_attention.cpp).
template <class T>
__global__ void layer_norm_kernel(const T* x, const T* w, const T* b, int64_t M, int64_t N, T eps,
                                  T* out, T* mean_out, T* rstd_out) {
  for (int64_t r = blockIdx.x; r < M; r += gridDim.x) {
    const T* xr = x + r * N;
    T s = 0;
    for (int64_t c = threadIdx.x; c < N; c += blockDim.x) s += xr[c];
    const T mean = block_sum(s) / static_cast<T>(N);
    T q = 0;
    for (int64_t c = threadIdx.x; c < N; c += blockDim.x) q += (xr[c] - mean) * (xr[c] - mean);
    const T rstd = T(1) / sqrt(block_sum(q) / static_cast<T>(N) + eps);
    const T shift = -rstd * mean;
    if (threadIdx.x == 0) {
      mean_out[r] = mean;
      rstd_out[r] = rstd;
    }
    T* o = out + r * N;
    for (int64_t c = threadIdx.x; c < N; c += blockDim.x) {
      T y = xr[c] * rstd + shift;
      if (w != nullptr) y *= w[c];
      if (b != nullptr) y += b[c];
      o[c] = y;
    }
  }
}

// dx = rstd g w + bt x + ct with bt = (db mean - ds) rstd^3 / N, ct = -bt mean - db rstd / N.
template <class T>
__global__ void layer_norm_dx_kernel(const T* g, const T* x, const T* mean, const T* rstd,
                                     const T* w, int64_t M, int64_t N, T* dx) {
  for (int64_t r = blockIdx.x; r < M; r += gridDim.x) {
    const T* gr = g + r * N;
    const T* xr = x + r * N;
    T ds = 0, db = 0;
    for (int64_t c = threadIdx.x; c < N; c += blockDim.x) {
      const T gw = w != nullptr ? gr[c] * w[c] : gr[c];
      ds += gw * xr[c];
      db += gw;
    }
    ds = block_sum(ds);
    db = block_sum(db);
    const T rt = rstd[r], mu = mean[r], scale = T(1) / static_cast<T>(N);
    const T bt = (db * mu - ds) * rt * rt * rt * scale, ct = -bt * mu - db * rt * scale;
    T* o = dx + r * N;
    for (int64_t c = threadIdx.x; c < N; c += blockDim.x) {
      const T gw = w != nullptr ? gr[c] * w[c] : gr[c];
      o[c] = rt * gw + bt * xr[c] + ct;
    }
  }
}

// dweight[c] = sum_r g (x rstd - rstd mean), dbias[c] = sum_r g; double sums, one thread a column.
template <class T>
__global__ void layer_norm_dwdb_kernel(const T* g, const T* x, const T* mean, const T* rstd,
                                       int64_t M, int64_t N, T* dw, T* db) {
  EMBER_CUDA_KERNEL_LOOP(c, N) {
    double sw = 0, sb = 0;
    for (int64_t r = 0; r < M; ++r) {
      const T gv = g[r * N + c];
      sw += static_cast<double>(gv * (x[r * N + c] * rstd[r] + (-rstd[r] * mean[r])));
      sb += static_cast<double>(gv);
    }
    if (dw != nullptr) dw[c] = static_cast<T>(sw);
    if (db != nullptr) db[c] = static_cast<T>(sb);
  }
}

// rstd = 1 / sqrt(mean(x^2) + eps) (double sums, as on the CPU); out = x rstd w.
template <class T>
__global__ void rms_norm_kernel(const T* x, const T* w, int64_t M, int64_t N, double eps, T* out,
                                T* rstd_out) {
  for (int64_t r = blockIdx.x; r < M; r += gridDim.x) {
    const T* xr = x + r * N;
    double q = 0;
    for (int64_t c = threadIdx.x; c < N; c += blockDim.x)
      q += static_cast<double>(xr[c]) * static_cast<double>(xr[c]);
    const T rstd = static_cast<T>(1.0 / sqrt(block_sum(q) / static_cast<double>(N) + eps));
    if (threadIdx.x == 0) rstd_out[r] = rstd;
    T* o = out + r * N;
    for (int64_t c = threadIdx.x; c < N; c += blockDim.x)
      o[c] = w != nullptr ? xr[c] * rstd * w[c] : xr[c] * rstd;
  }
}

// dx = rstd g w - x rstd^3 sum(g w x) / N.
template <class T>
__global__ void rms_norm_dx_kernel(const T* g, const T* x, const T* rstd, const T* w, int64_t M,
                                   int64_t N, T* dx) {
  for (int64_t r = blockIdx.x; r < M; r += gridDim.x) {
    const T* gr = g + r * N;
    const T* xr = x + r * N;
    double ds = 0;
    for (int64_t c = threadIdx.x; c < N; c += blockDim.x)
      ds += static_cast<double>(gr[c]) * (w != nullptr ? static_cast<double>(w[c]) : 1.0) *
            static_cast<double>(xr[c]);
    ds = block_sum(ds);
    const double rd = rstd[r];
    const T rt = rstd[r], k = static_cast<T>(-rd * rd * rd * ds / static_cast<double>(N));
    T* o = dx + r * N;
    for (int64_t c = threadIdx.x; c < N; c += blockDim.x)
      o[c] = (w != nullptr ? rt * gr[c] * w[c] : rt * gr[c]) + k * xr[c];
  }
}

// dweight[c] = sum_r g x rstd (double sums, one thread a column).
template <class T>
__global__ void rms_norm_dw_kernel(const T* g, const T* x, const T* rstd, int64_t M, int64_t N,
                                   T* dw) {
  EMBER_CUDA_KERNEL_LOOP(c, N) {
    double s = 0;
    for (int64_t r = 0; r < M; ++r)
      s += static_cast<double>(g[r * N + c] * (x[r * N + c] * rstd[r]));
    dw[c] = static_cast<T>(s);
  }
}

unsigned int row_blocks(int64_t rows) {
  constexpr int64_t kMaxBlocks = int64_t(1) << 20;
  return static_cast<unsigned int>(rows < kMaxBlocks ? rows : kMaxBlocks);
}
template <class T>
T* ptr_or_null(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}
}  // namespace

void CudaBackend::layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                     double eps, const Tensor& out, const Tensor& mean,
                                     const Tensor& rstd) {
  KernelContext ctx({&x, &weight, &bias, &out, &mean, &rstd}, "layer_norm");
  const int64_t M = x.size(0), N = x.size(1);
  if (M == 0 || N == 0) return;
  EMBER_DISPATCH_FLOATING(x.dtype(), "layer_norm", [&] {
    layer_norm_kernel<scalar_t><<<row_blocks(M), kRowThreads, 0, ctx.stream>>>(
        ptr_or_null<const scalar_t>(x), ptr_or_null<const scalar_t>(weight),
        ptr_or_null<const scalar_t>(bias), M, N, static_cast<scalar_t>(eps),
        ptr_or_null<scalar_t>(out), ptr_or_null<scalar_t>(mean), ptr_or_null<scalar_t>(rstd));
    EMBER_CUDA_CHECK_LAUNCH("layer_norm_kernel");
  });
}

void CudaBackend::layer_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& mean,
                                      const Tensor& rstd, const Tensor& weight,
                                      const Tensor& grad_x, const Tensor& grad_weight,
                                      const Tensor& grad_bias) {
  KernelContext ctx({&x, &grad_out, &mean, &rstd, &weight, &grad_x, &grad_weight, &grad_bias},
                    "layer_norm_backward");
  const int64_t M = x.size(0), N = x.size(1);
  if (N == 0) return;
  EMBER_DISPATCH_FLOATING(x.dtype(), "layer_norm_backward", [&] {
    using T = scalar_t;
    if (grad_x.defined() && M > 0) {
      layer_norm_dx_kernel<T><<<row_blocks(M), kRowThreads, 0, ctx.stream>>>(
          ptr_or_null<const T>(grad_out), ptr_or_null<const T>(x), ptr_or_null<const T>(mean),
          ptr_or_null<const T>(rstd), ptr_or_null<const T>(weight), M, N, ptr_or_null<T>(grad_x));
      EMBER_CUDA_CHECK_LAUNCH("layer_norm_dx_kernel");
    }
    if (grad_weight.defined() || grad_bias.defined()) {
      layer_norm_dwdb_kernel<T><<<detail::blocks_for(N), detail::kThreads, 0, ctx.stream>>>(
          ptr_or_null<const T>(grad_out), ptr_or_null<const T>(x), ptr_or_null<const T>(mean),
          ptr_or_null<const T>(rstd), M, N, ptr_or_null<T>(grad_weight), ptr_or_null<T>(grad_bias));
      EMBER_CUDA_CHECK_LAUNCH("layer_norm_dwdb_kernel");
    }
  });
}

void CudaBackend::rms_norm_forward(const Tensor& x, const Tensor& weight, double eps,
                                   const Tensor& out, const Tensor& rstd) {
  KernelContext ctx({&x, &weight, &out, &rstd}, "rms_norm");
  const int64_t M = x.size(0), N = x.size(1);
  if (M == 0 || N == 0) return;
  EMBER_DISPATCH_FLOATING(x.dtype(), "rms_norm", [&] {
    rms_norm_kernel<scalar_t><<<row_blocks(M), kRowThreads, 0, ctx.stream>>>(
        ptr_or_null<const scalar_t>(x), ptr_or_null<const scalar_t>(weight), M, N, eps,
        ptr_or_null<scalar_t>(out), ptr_or_null<scalar_t>(rstd));
    EMBER_CUDA_CHECK_LAUNCH("rms_norm_kernel");
  });
}

void CudaBackend::rms_norm_backward(const Tensor& grad_out, const Tensor& x, const Tensor& rstd,
                                    const Tensor& weight, const Tensor& grad_x,
                                    const Tensor& grad_weight) {
  KernelContext ctx({&x, &grad_out, &rstd, &weight, &grad_x, &grad_weight}, "rms_norm_backward");
  const int64_t M = x.size(0), N = x.size(1);
  if (N == 0) return;
  EMBER_DISPATCH_FLOATING(x.dtype(), "rms_norm_backward", [&] {
    using T = scalar_t;
    if (grad_x.defined() && M > 0) {
      rms_norm_dx_kernel<T><<<row_blocks(M), kRowThreads, 0, ctx.stream>>>(
          ptr_or_null<const T>(grad_out), ptr_or_null<const T>(x), ptr_or_null<const T>(rstd),
          ptr_or_null<const T>(weight), M, N, ptr_or_null<T>(grad_x));
      EMBER_CUDA_CHECK_LAUNCH("rms_norm_dx_kernel");
    }
    if (grad_weight.defined()) {
      rms_norm_dw_kernel<T><<<detail::blocks_for(N), detail::kThreads, 0, ctx.stream>>>(
          ptr_or_null<const T>(grad_out), ptr_or_null<const T>(x), ptr_or_null<const T>(rstd), M, N,
          ptr_or_null<T>(grad_weight));
      EMBER_CUDA_CHECK_LAUNCH("rms_norm_dw_kernel");
    }
  });
}

}  // namespace ember::cuda
