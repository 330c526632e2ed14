// CUDA indexing kernels: gather, scatter_add, index_select, index_add (atomicAdd).
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_common.cuh"

namespace ember::cuda {

namespace {
// Note [CUDA index validation]: a device kernel cannot throw, so indices are copied to the host
// and checked before the launch (IndexError as on the CPU). This synchronises the stream once per
// call; a device-side check with a deferred error would avoid that (future work).
void check_indices(const Tensor& index, int64_t n, const char* op) {
  for (int64_t i : index.to_vector<int64_t>())
    EMBER_CHECK_INDEX(i >= 0 && i < n, op, ": index ", i, " is out of bounds for size ", n);
}

__device__ void atomic_add(float* p, float v) {
  atomicAdd(p, v);
}
__device__ void atomic_add(double* p, double v) {
  atomicAdd(p, v);
}
__device__ void atomic_add(int32_t* p, int32_t v) {
  atomicAdd(reinterpret_cast<int*>(p), v);
}
__device__ void atomic_add(int64_t* p, int64_t v) {
  // Two's complement: an unsigned add of the same bits is a signed add.
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

// out[a,k,b] = x[a, index[a,k,b], b]
template <class T>
__global__ void gather_kernel(const T* x, const int64_t* index, T* out, int64_t A, int64_t N,
                              int64_t K, int64_t B) {
  EMBER_CUDA_KERNEL_LOOP(o, A * K * B) {
    const int64_t b = o % B, a = o / (K * B);
    out[o] = x[(a * N + index[o]) * B + b];
  }
}

// out[a, index[a,k,b], b] += src[a,k,b]
template <class T>
__global__ void scatter_add_kernel(T* out, const int64_t* index, const T* src, int64_t A, int64_t N,
                                   int64_t K, int64_t B) {
  EMBER_CUDA_KERNEL_LOOP(s, A * K * B) {
    const int64_t b = s % B, a = s / (K * B);
    atomic_add(out + (a * N + index[s]) * B + b, src[s]);
  }
}

// out[a,k,b] = x[a, index[k], b]
template <class T>
__global__ void index_select_kernel(const T* x, const int64_t* index, T* out, int64_t A, int64_t N,
                                    int64_t K, int64_t B) {
  EMBER_CUDA_KERNEL_LOOP(o, A * K * B) {
    const int64_t b = o % B, k = (o / B) % K, a = o / (K * B);
    out[o] = x[(a * N + index[k]) * B + b];
  }
}

// out[a, index[k], b] += src[a,k,b]
template <class T>
__global__ void index_add_kernel(T* out, const int64_t* index, const T* src, int64_t A, int64_t N,
                                 int64_t K, int64_t B) {
  EMBER_CUDA_KERNEL_LOOP(s, A * K * B) {
    const int64_t b = s % B, k = (s / B) % K, a = s / (K * B);
    atomic_add(out + (a * N + index[k]) * B + b, src[s]);
  }
}

template <class T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}
}  // namespace

void CudaBackend::gather(const Tensor& x, const Tensor& index, int64_t A, int64_t N, int64_t B,
                         const Tensor& out) {
  KernelContext ctx({&x, &index, &out}, "gather");
  const int64_t K = B == 0 || A == 0 ? 0 : index.numel() / (A * B);
  const int64_t n = A * K * B;
  if (n == 0) return;
  check_indices(index, N, "gather");
  EMBER_CUDA_DISPATCH_ALL(x.dtype(), "gather", [&] {
    gather_kernel<scalar_t><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        ptr<const scalar_t>(x), ptr<const int64_t>(index), ptr<scalar_t>(out), A, N, K, B);
    EMBER_CUDA_CHECK_LAUNCH("gather_kernel");
  });
}

void CudaBackend::scatter_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t A,
                              int64_t N, int64_t B) {
  KernelContext ctx({&out, &index, &src}, "scatter_add");
  const int64_t K = B == 0 || A == 0 ? 0 : index.numel() / (A * B);
  const int64_t n = A * K * B;
  if (n == 0) return;
  check_indices(index, N, "scatter_add");
  EMBER_DISPATCH_NUMERIC(out.dtype(), "scatter_add", [&] {
    scatter_add_kernel<scalar_t><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        ptr<scalar_t>(out), ptr<const int64_t>(index), ptr<const scalar_t>(src), A, N, K, B);
    EMBER_CUDA_CHECK_LAUNCH("scatter_add_kernel");
  });
}

void CudaBackend::index_select(const Tensor& x, const Tensor& index, int64_t A, int64_t N,
                               int64_t B, const Tensor& out) {
  KernelContext ctx({&x, &index, &out}, "index_select");
  const int64_t K = index.numel();
  check_indices(index, N, "index_select");
  const int64_t n = A * K * B;
  if (n == 0) return;
  EMBER_CUDA_DISPATCH_ALL(x.dtype(), "index_select", [&] {
    index_select_kernel<scalar_t><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        ptr<const scalar_t>(x), ptr<const int64_t>(index), ptr<scalar_t>(out), A, N, K, B);
    EMBER_CUDA_CHECK_LAUNCH("index_select_kernel");
  });
}

void CudaBackend::index_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t A,
                            int64_t N, int64_t B) {
  KernelContext ctx({&out, &index, &src}, "index_add");
  const int64_t K = index.numel();
  check_indices(index, N, "index_add");
  const int64_t n = A * K * B;
  if (n == 0) return;
  EMBER_DISPATCH_NUMERIC(out.dtype(), "index_add", [&] {
    index_add_kernel<scalar_t><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        ptr<scalar_t>(out), ptr<const int64_t>(index), ptr<const scalar_t>(src), A, N, K, B);
    EMBER_CUDA_CHECK_LAUNCH("index_add_kernel");
  });
}

}  // namespace ember::cuda
