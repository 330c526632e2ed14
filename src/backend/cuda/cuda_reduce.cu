// CUDA reductions over (A, R, B) layouts (sum, prod, max, min, argmax, argmin) and prefix sums.
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_common.cuh"

namespace ember::cuda {

namespace {
using backend::ReduceOp;

template <class T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <class T>
__device__ bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return v != v;
  } else {
    return false;
  }
}

// A candidate of max/min/argmax/argmin: NaN wins, then the better value, then the lower index
// (the CPU backend's first occurrence), so the result does not depend on the reduction order.
template <class T>
struct Extreme {
  T value;
  int64_t index;
};
template <class T>
__device__ Extreme<T> pick(Extreme<T> a, Extreme<T> b, bool want_max) {
  if (b.index < 0) return a;
  if (a.index < 0) return b;
  const bool an = is_nan(a.value), bn = is_nan(b.value);
  if (an || bn) return (an && bn) ? (a.index < b.index ? a : b) : (an ? a : b);
  if (a.value == b.value) return a.index < b.index ? a : b;
  return (want_max ? b.value > a.value : b.value < a.value) ? b : a;
}

constexpr int kReduceThreads = 256;

// One block per output (a, b): threads stride over R, then a shared-memory tree.
template <class T>
__global__ void fold_kernel(const T* x, T* out, int64_t A, int64_t R, int64_t B, bool prod) {
  __shared__ acc_t<T> buf[kReduceThreads];
  for (int64_t o = blockIdx.x; o < A * B; o += gridDim.x) {
    const int64_t a = o / B, b = o % B;
    const T* base = x + a * R * B + b;
    acc_t<T> acc = prod ? 1 : 0;
    for (int64_t r = threadIdx.x; r < R; r += blockDim.x) {
      const acc_t<T> v = static_cast<acc_t<T>>(base[r * B]);
      acc = prod ? acc * v : acc + v;
    }
    buf[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (static_cast<int>(threadIdx.x) < s)
        buf[threadIdx.x] = prod ? buf[threadIdx.x] * buf[threadIdx.x + s]
                                : buf[threadIdx.x] + buf[threadIdx.x + s];
      __syncthreads();
    }
    if (threadIdx.x == 0) out[o] = static_cast<T>(buf[0]);
    __syncthreads();
  }
}

template <class T>
__global__ void extreme_kernel(const T* x, T* values, int64_t* indices, int64_t A, int64_t R,
                               int64_t B, bool want_max) {
  __shared__ T vbuf[kReduceThreads];
  __shared__ int64_t ibuf[kReduceThreads];
  for (int64_t o = blockIdx.x; o < A * B; o += gridDim.x) {
    const int64_t a = o / B, b = o % B;
    const T* base = x + a * R * B + b;
    Extreme<T> best{T{}, -1};
    for (int64_t r = threadIdx.x; r < R; r += blockDim.x)
      best = pick(best, Extreme<T>{base[r * B], r}, want_max);
    vbuf[threadIdx.x] = best.value;
    ibuf[threadIdx.x] = best.index;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (static_cast<int>(threadIdx.x) < s) {
        const Extreme<T> m =
            pick(Extreme<T>{vbuf[threadIdx.x], ibuf[threadIdx.x]},
                 Extreme<T>{vbuf[threadIdx.x + s], ibuf[threadIdx.x + s]}, want_max);
        vbuf[threadIdx.x] = m.value;
        ibuf[threadIdx.x] = m.index;
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      if (values != nullptr) values[o] = vbuf[0];
      if (indices != nullptr) indices[o] = ibuf[0];
    }
    __syncthreads();
  }
}

// One thread per (a, b) column, sequential along R (as the CPU backend, in the same order).
template <class T>
__global__ void cumsum_kernel(const T* x, T* out, int64_t A, int64_t R, int64_t B) {
  EMBER_CUDA_KERNEL_LOOP(o, A * B) {
    const int64_t a = o / B, b = o % B;
    acc_t<T> acc = 0;
    for (int64_t r = 0; r < R; ++r) {
      const int64_t i = (a * R + r) * B + b;
      acc += static_cast<acc_t<T>>(x[i]);
      out[i] = static_cast<T>(acc);
    }
  }
}

unsigned int reduce_blocks(int64_t outputs) {
  constexpr int64_t kMaxBlocks = int64_t(1) << 20;
  return static_cast<unsigned int>(outputs < kMaxBlocks ? outputs : kMaxBlocks);
}
}  // namespace

void CudaBackend::reduce(ReduceOp op, const Tensor& x, int64_t A, int64_t R, int64_t B,
                         const Tensor& out) {
  KernelContext ctx({&x, &out}, "reduce");
  const bool is_arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  const bool is_extreme = op != ReduceOp::Sum && op != ReduceOp::Prod;
  EMBER_CHECK_INDEX(!is_extreme || R > 0, "max/min/argmax/argmin: cannot reduce over an empty ",
                    "dimension (size 0)");
  EMBER_ASSERT(x.is_contiguous() && out.is_contiguous());
  if (A * B == 0) return;
  EMBER_DISPATCH_NUMERIC(x.dtype(), "reduce", [&] {
    const scalar_t* px = static_cast<const scalar_t*>(x.raw_data());
    if (is_extreme) {
      const bool want_max = op == ReduceOp::Max || op == ReduceOp::ArgMax;
      scalar_t* pv = is_arg ? nullptr : static_cast<scalar_t*>(out.raw_data());
      int64_t* pi = is_arg ? static_cast<int64_t*>(out.raw_data()) : nullptr;
      extreme_kernel<scalar_t>
          <<<reduce_blocks(A * B), kReduceThreads, 0, ctx.stream>>>(px, pv, pi, A, R, B, want_max);
      EMBER_CUDA_CHECK_LAUNCH("extreme_kernel");
    } else {
      fold_kernel<scalar_t><<<reduce_blocks(A * B), kReduceThreads, 0, ctx.stream>>>(
          px, static_cast<scalar_t*>(out.raw_data()), A, R, B, op == ReduceOp::Prod);
      EMBER_CUDA_CHECK_LAUNCH("fold_kernel");
    }
  });
}

void CudaBackend::cumsum(const Tensor& x, int64_t A, int64_t R, int64_t B, const Tensor& out) {
  KernelContext ctx({&x, &out}, "cumsum");
  EMBER_ASSERT(x.is_contiguous() && out.is_contiguous());
  if (A * B == 0 || R == 0) return;
  EMBER_DISPATCH_NUMERIC(x.dtype(), "cumsum", [&] {
    cumsum_kernel<scalar_t><<<detail::blocks_for(A * B), detail::kThreads, 0, ctx.stream>>>(
        static_cast<const scalar_t*>(x.raw_data()), static_cast<scalar_t*>(out.raw_data()), A, R,
        B);
    EMBER_CUDA_CHECK_LAUNCH("cumsum_kernel");
  });
}

}  // namespace ember::cuda
