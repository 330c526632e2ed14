// CUDA row sort (stable, by rank: simple and exact, O(N^2) per row) and nonzero (two passes).
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_common.cuh"
#include "ember/core/cuda.h"

namespace ember::cuda {

namespace {
template <class T>
__device__ bool is_nan_value(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return v != v;
  } else {
    return false;
  }
}
// a before b in ascending order; NaN sorts as the largest value, as in PyTorch.
template <class T>
__device__ bool less_than(T a, T b) {
  if (is_nan_value(a)) return false;
  if (is_nan_value(b)) return true;
  return a < b;
}

// One block per row: element i goes to its rank = #elements ordered before it + #equal elements
// with a smaller index, which is exactly the stable sort's position.
template <class T>
__global__ void sort_rows_kernel(const T* x, int64_t M, int64_t N, bool descending, T* values,
                                 int64_t* indices) {
  for (int64_t m = blockIdx.x; m < M; m += gridDim.x) {
    const T* row = x + m * N;
    for (int64_t i = threadIdx.x; i < N; i += blockDim.x) {
      const T xi = row[i];
      int64_t rank = 0;
      for (int64_t j = 0; j < N; ++j) {
        const T xj = row[j];
        const bool before = descending ? less_than(xi, xj) : less_than(xj, xi);
        const bool equal = !less_than(xi, xj) && !less_than(xj, xi);
        rank += (before || (equal && j < i)) ? 1 : 0;
      }
      values[m * N + rank] = xi;
      indices[m * N + rank] = i;
    }
  }
}

constexpr int kPerThread = 16;
constexpr int kChunk = kPerThread * detail::kThreads;  // mask elements per block

// counts[b] = number of true elements in chunk b.
__global__ void count_chunks_kernel(const bool* mask, int64_t n, int64_t* counts) {
  __shared__ int64_t part[detail::kThreads];
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * kChunk + threadIdx.x * kPerThread;
  int64_t c = 0;
  for (int64_t i = begin; i < begin + kPerThread && i < n; ++i) c += mask[i] ? 1 : 0;
  part[threadIdx.x] = c;
  __syncthreads();
  if (threadIdx.x == 0) {
    int64_t total = 0;
    for (int t = 0; t < detail::kThreads; ++t) total += part[t];
    counts[blockIdx.x] = total;
  }
}

// Writes the flat positions of chunk b's true elements from offsets[b] on, in order.
__global__ void write_positions_kernel(const bool* mask, int64_t n, const int64_t* offsets,
                                       int64_t* out) {
  __shared__ int64_t start[detail::kThreads];
  const int64_t begin = static_cast<int64_t>(blockIdx.x) * kChunk + threadIdx.x * kPerThread;
  int64_t c = 0;
  for (int64_t i = begin; i < begin + kPerThread && i < n; ++i) c += mask[i] ? 1 : 0;
  start[threadIdx.x] = c;
  __syncthreads();
  if (threadIdx.x == 0) {  // exclusive scan of the per-thread counts
    int64_t run = offsets[blockIdx.x];
    for (int t = 0; t < detail::kThreads; ++t) {
      const int64_t ct = start[t];
      start[t] = run;
      run += ct;
    }
  }
  __syncthreads();
  int64_t pos = start[threadIdx.x];
  for (int64_t i = begin; i < begin + kPerThread && i < n; ++i)
    if (mask[i]) out[pos++] = i;
}
}  // namespace

void CudaBackend::sort_rows(const Tensor& x, bool descending, const Tensor& values,
                            const Tensor& indices) {
  KernelContext ctx({&x, &values, &indices}, "sort");
  EMBER_ASSERT(x.is_contiguous() && values.is_contiguous() && indices.is_contiguous());
  const int64_t N = x.dim() == 0 ? 1 : x.size(-1);
  const int64_t M = N == 0 ? 0 : x.numel() / N;
  if (M == 0) return;
  EMBER_DISPATCH_NUMERIC(x.dtype(), "sort", [&] {
    constexpr int64_t kMaxBlocks = int64_t(1) << 20;
    sort_rows_kernel<scalar_t><<<static_cast<unsigned int>(M < kMaxBlocks ? M : kMaxBlocks),
                                 detail::kThreads, 0, ctx.stream>>>(
        static_cast<const scalar_t*>(x.raw_data()), M, N, descending,
        static_cast<scalar_t*>(values.raw_data()), static_cast<int64_t*>(indices.raw_data()));
    EMBER_CUDA_CHECK_LAUNCH("sort_rows_kernel");
  });
}

Tensor CudaBackend::nonzero_flat(const Tensor& mask) {
  KernelContext ctx({&mask}, "nonzero");
  EMBER_ASSERT(mask.is_contiguous() && mask.dtype() == kBool);
  const int64_t n = mask.numel();
  if (n == 0) return ::ember::detail::make_tensor({0}, kInt64, mask.device());
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  EMBER_CHECK_T(NotImplementedError, chunks < (int64_t(1) << 31), "nonzero on CUDA: ", n,
                " elements is too many");
  const unsigned int grid = static_cast<unsigned int>(chunks);
  const bool* pm = static_cast<const bool*>(mask.raw_data());
  Tensor counts = ::ember::detail::make_tensor({chunks}, kInt64, mask.device());
  count_chunks_kernel<<<grid, detail::kThreads, 0, ctx.stream>>>(
      pm, n, static_cast<int64_t*>(counts.raw_data()));
  EMBER_CUDA_CHECK_LAUNCH("count_chunks_kernel");
  // The output size is data-dependent: the per-chunk counts come to the host (this waits).
  std::vector<int64_t> offsets = counts.to_vector<int64_t>();
  int64_t total = 0;
  for (int64_t& c : offsets) {
    const int64_t ct = c;
    c = total;
    total += ct;
  }
  Tensor dev_offsets = ::ember::detail::make_tensor({chunks}, kInt64, mask.device());
  detail::copy_bytes(dev_offsets.raw_data(), mask.device(), offsets.data(), Device::cpu(),
                     offsets.size() * sizeof(int64_t));
  Tensor out = ::ember::detail::make_tensor({total}, kInt64, mask.device());
  if (total == 0) return out;
  write_positions_kernel<<<grid, detail::kThreads, 0, ctx.stream>>>(
      pm, n, static_cast<const int64_t*>(dev_offsets.raw_data()),
      static_cast<int64_t*>(out.raw_data()));
  EMBER_CUDA_CHECK_LAUNCH("write_positions_kernel");
  return out;
}

}  // namespace ember::cuda
