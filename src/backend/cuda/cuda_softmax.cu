// CUDA softmax and log-softmax over the last dim, forward and backward (one block per row).
#include <cfloat>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_block.cuh"
#include "backend/cuda/cuda_common.cuh"

namespace ember::cuda {

namespace {
// x, y: (M, N) contiguous; y = softmax(x) or log_softmax(x) along N.
template <class T>
__global__ void softmax_kernel(const T* x, T* y, int64_t M, int64_t N, bool log) {
  for (int64_t row = blockIdx.x; row < M; row += gridDim.x) {
    const T* xr = x + row * N;
    T* yr = y + row * N;
    T m = -INFINITY;
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x) m = xr[j] > m ? xr[j] : m;
    m = block_max(m);
    if (isinf(m) && m < 0) m = 0;  // all -inf: exp(-inf) = 0 instead of NaN from inf - inf
    double s = 0;                  // the CPU backend also sums in double
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x) s += exp(xr[j] - m);
    s = block_sum(s);
    if (log) {
      const T lse = m + static_cast<T>(::log(s));
      for (int64_t j = threadIdx.x; j < N; j += blockDim.x) yr[j] = xr[j] - lse;
    } else {
      const T inv = static_cast<T>(1.0 / s);
      for (int64_t j = threadIdx.x; j < N; j += blockDim.x) yr[j] = exp(xr[j] - m) * inv;
    }
  }
}

// softmax: out = y (g - sum(g y)); log-softmax: out = g - exp(y) sum(g).
template <class T>
__global__ void softmax_backward_kernel(const T* y, const T* g, T* out, int64_t M, int64_t N,
                                        bool log) {
  for (int64_t row = blockIdx.x; row < M; row += gridDim.x) {
    const T* yr = y + row * N;
    const T* gr = g + row * N;
    T* o = out + row * N;
    double acc = 0;
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x) acc += log ? gr[j] : gr[j] * yr[j];
    const T s = static_cast<T>(block_sum(acc));
    for (int64_t j = threadIdx.x; j < N; j += blockDim.x)
      o[j] = log ? gr[j] - exp(yr[j]) * s : yr[j] * (gr[j] - s);
  }
}

unsigned int row_blocks(int64_t rows) {
  constexpr int64_t kMaxBlocks = int64_t(1) << 20;
  return static_cast<unsigned int>(rows < kMaxBlocks ? rows : kMaxBlocks);
}
}  // namespace

void CudaBackend::softmax(const Tensor& x, const Tensor& out, bool log) {
  KernelContext ctx({&x, &out}, "softmax");
  EMBER_ASSERT(x.is_contiguous() && out.is_contiguous());
  const int64_t N = x.dim() == 0 ? 1 : x.size(-1);
  const int64_t M = N == 0 ? 0 : x.numel() / N;
  if (M == 0 || N == 0) return;
  EMBER_DISPATCH_FLOATING(x.dtype(), "softmax", [&] {
    softmax_kernel<scalar_t><<<row_blocks(M), kRowThreads, 0, ctx.stream>>>(
        static_cast<const scalar_t*>(x.raw_data()), static_cast<scalar_t*>(out.raw_data()), M, N,
        log);
    EMBER_CUDA_CHECK_LAUNCH("softmax_kernel");
  });
}

void CudaBackend::softmax_backward(const Tensor& y, const Tensor& g, const Tensor& out, bool log) {
  KernelContext ctx({&y, &g, &out}, "softmax_backward");
  EMBER_ASSERT(y.is_contiguous() && g.is_contiguous() && out.is_contiguous());
  const int64_t N = y.dim() == 0 ? 1 : y.size(-1);
  const int64_t M = N == 0 ? 0 : y.numel() / N;
  if (M == 0 || N == 0) return;
  EMBER_DISPATCH_FLOATING(y.dtype(), "softmax_backward", [&] {
    softmax_backward_kernel<scalar_t><<<row_blocks(M), kRowThreads, 0, ctx.stream>>>(
        static_cast<const scalar_t*>(y.raw_data()), static_cast<const scalar_t*>(g.raw_data()),
        static_cast<scalar_t*>(out.raw_data()), M, N, log);
    EMBER_CUDA_CHECK_LAUNCH("softmax_backward_kernel");
  });
}

}  // namespace ember::cuda
