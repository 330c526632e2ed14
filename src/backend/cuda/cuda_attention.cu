// CUDA attention: a straightforward exact kernel (one block per query row, scores in shared
// memory, double sums), forward and a deterministic two-kernel backward by recomputation.
#include <limits>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_block.cuh"
#include "backend/cuda/cuda_common.cuh"

namespace ember::cuda {

namespace {
using Params = backend::Backend::AttentionParams;

// Element strides of the (A, H, rows, cols) views (unit stride in the last dim, except bias).
struct View4 {
  const void* data;
  int64_t s0, s1, s2, s3;
};
View4 view4(const Tensor& t) {
  if (!t.defined()) return {nullptr, 0, 0, 0, 0};
  return {t.raw_data(), t.stride(0), t.stride(1), t.stride(2), t.stride(3)};
}
template <class T>
__device__ const T* row_of(const View4& v, int64_t a, int64_t h, int64_t i) {
  return static_cast<const T*>(v.data) + a * v.s0 + h * v.s1 + i * v.s2;
}

// Score of query i and key j: scale q_i . k_j + bias, -inf where causal masks it (double).
template <class T>
__device__ double score(const View4& q, const View4& k, const View4& bias, const Params& p,
                        int64_t a, int64_t h, int64_t i, int64_t j) {
  if (p.causal && j > i) return -INFINITY;
  const T* qi = row_of<T>(q, a, h, i);
  const T* kj = row_of<T>(k, a, h, j);
  double s = 0;
  for (int64_t d = 0; d < p.D; ++d) s += static_cast<double>(qi[d]) * static_cast<double>(kj[d]);
  s *= p.scale;
  if (bias.data != nullptr) s += static_cast<double>(row_of<T>(bias, a, h, i)[j * bias.s3]);
  return s;
}

// One block per (a, h, i): P = softmax(scores) in shared memory, out_i = P v, lse_i.
template <class T>
__global__ void attention_forward_kernel(View4 q, View4 k, View4 v, View4 bias, Params p, T* out,
                                         double* lse) {
  extern __shared__ double sh[];  // (S) scores, then probabilities
  for (int64_t row = blockIdx.x; row < p.A * p.H * p.T; row += gridDim.x) {
    const int64_t i = row % p.T, ah = row / p.T, a = ah / p.H, h = ah % p.H;
    double m = -INFINITY;
    for (int64_t j = threadIdx.x; j < p.S; j += blockDim.x) {
      sh[j] = score<T>(q, k, bias, p, a, h, i, j);
      m = sh[j] > m ? sh[j] : m;
    }
    m = block_max(m);
    T* o = out + row * p.Dv;
    if (m == -INFINITY) {  // no key: zeros and lse = -inf
      for (int64_t d = threadIdx.x; d < p.Dv; d += blockDim.x) o[d] = T(0);
      if (threadIdx.x == 0) lse[row] = -INFINITY;
      __syncthreads();
      continue;
    }
    double l = 0;
    for (int64_t j = threadIdx.x; j < p.S; j += blockDim.x) {
      sh[j] = exp(sh[j] - m);
      l += sh[j];
    }
    l = block_sum(l);  // also orders the writes of sh before the reads below
    for (int64_t d = threadIdx.x; d < p.Dv; d += blockDim.x) {
      double acc = 0;
      for (int64_t j = 0; j < p.S; ++j)
        acc += sh[j] * static_cast<double>(row_of<T>(v, a, h, j)[d]);
      o[d] = static_cast<T>(acc / l);
    }
    if (threadIdx.x == 0) lse[row] = m + log(l);
    __syncthreads();
  }
}

// Backward, kernel 1, one block per query row i: P_ij = exp(s_ij - lse_i), dP_ij = dO_i . v_j,
// D_i = sum_j P_ij dP_ij, dS_ij = P_ij (dP_ij - D_i); dq_i = scale sum_j dS_ij k_j. Saves D_i.
template <class T>
__global__ void attention_dq_kernel(View4 q, View4 k, View4 v, View4 bias, Params p, const T* g,
                                    const double* lse, T* dq, double* dsum) {
  extern __shared__ double sh[];  // (S) P, then (S) dP / dS
  double* pr = sh;
  double* ds = sh + p.S;
  for (int64_t row = blockIdx.x; row < p.A * p.H * p.T; row += gridDim.x) {
    const int64_t i = row % p.T, ah = row / p.T, a = ah / p.H, h = ah % p.H;
    const T* gi = g + row * p.Dv;
    const double li = lse[row];
    double di = 0;
    for (int64_t j = threadIdx.x; j < p.S; j += blockDim.x) {
      const double s = score<T>(q, k, bias, p, a, h, i, j);
      pr[j] = (li == -INFINITY || s == -INFINITY) ? 0.0 : exp(s - li);
      const T* vj = row_of<T>(v, a, h, j);
      double dp = 0;
      for (int64_t d = 0; d < p.Dv; ++d)
        dp += static_cast<double>(gi[d]) * static_cast<double>(vj[d]);
      ds[j] = dp;
      di += pr[j] * dp;
    }
    di = block_sum(di);
    for (int64_t j = threadIdx.x; j < p.S; j += blockDim.x) ds[j] = pr[j] * (ds[j] - di);
    __syncthreads();
    for (int64_t d = threadIdx.x; d < p.D; d += blockDim.x) {
      double acc = 0;
      for (int64_t j = 0; j < p.S; ++j)
        acc += ds[j] * static_cast<double>(row_of<T>(k, a, h, j)[d]);
      dq[row * p.D + d] = static_cast<T>(p.scale * acc);
    }
    if (threadIdx.x == 0) dsum[row] = di;
    __syncthreads();
  }
}

// Backward, kernel 2, one block per key row j: dv_j = sum_i P_ij dO_i, dk_j = scale sum_i dS_ij
// q_i.
template <class T>
__global__ void attention_dkdv_kernel(View4 q, View4 k, View4 v, View4 bias, Params p, const T* g,
                                      const double* lse, const double* dsum, T* dk, T* dv) {
  extern __shared__ double sh[];  // (T) P, then (T) dS
  double* pc = sh;
  double* ds = sh + p.T;
  for (int64_t col = blockIdx.x; col < p.A * p.H * p.S; col += gridDim.x) {
    const int64_t j = col % p.S, ah = col / p.S, a = ah / p.H, h = ah % p.H;
    const T* vj = row_of<T>(v, a, h, j);
    for (int64_t i = threadIdx.x; i < p.T; i += blockDim.x) {
      const double li = lse[ah * p.T + i];
      const double s = score<T>(q, k, bias, p, a, h, i, j);
      const double pij = (li == -INFINITY || s == -INFINITY) ? 0.0 : exp(s - li);
      const T* gi = g + (ah * p.T + i) * p.Dv;
      double dp = 0;
      for (int64_t d = 0; d < p.Dv; ++d)
        dp += static_cast<double>(gi[d]) * static_cast<double>(vj[d]);
      pc[i] = pij;
      ds[i] = pij * (dp - dsum[ah * p.T + i]);
    }
    __syncthreads();
    for (int64_t d = threadIdx.x; d < p.Dv; d += blockDim.x) {
      double acc = 0;
      for (int64_t i = 0; i < p.T; ++i)
        acc += pc[i] * static_cast<double>(g[(ah * p.T + i) * p.Dv + d]);
      dv[col * p.Dv + d] = static_cast<T>(acc);
    }
    for (int64_t d = threadIdx.x; d < p.D; d += blockDim.x) {
      double acc = 0;
      for (int64_t i = 0; i < p.T; ++i)
        acc += ds[i] * static_cast<double>(row_of<T>(q, a, h, i)[d]);
      dk[col * p.D + d] = static_cast<T>(p.scale * acc);
    }
    __syncthreads();
  }
}

unsigned int grid_for_rows(int64_t rows) {
  constexpr int64_t kMaxBlocks = int64_t(1) << 20;
  return static_cast<unsigned int>(rows < kMaxBlocks ? rows : kMaxBlocks);
}

// Dynamic shared memory of n doubles; opts in to more than 48 KiB where the kernel needs it.
template <class Kernel>
size_t shared_bytes(Kernel kernel, int64_t n, const char* op) {
  constexpr size_t kMaxBytes = 200 * 1024;  // H100/H200 allow 227 KiB per block
  const size_t bytes = static_cast<size_t>(n) * sizeof(double);
  EMBER_CHECK_T(NotImplementedError, bytes <= kMaxBytes, op, " on CUDA: this kernel keeps a row ",
                "of ", n, " doubles in shared memory (at most ", kMaxBytes / sizeof(double),
                "); longer sequences are not supported yet");
  if (bytes > 48 * 1024)
    EMBER_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          static_cast<int>(bytes)));
  return bytes;
}
}  // namespace

void CudaBackend::attention_forward(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& bias, const AttentionParams& p, const Tensor& out,
                                    const Tensor& lse) {
  KernelContext ctx({&q, &k, &v, &bias, &out, &lse}, "scaled_dot_product_attention");
  const int64_t rows = p.A * p.H * p.T;
  if (rows == 0) return;
  EMBER_DISPATCH_FLOATING(q.dtype(), "scaled_dot_product_attention", [&] {
    auto kernel = attention_forward_kernel<scalar_t>;
    const size_t bytes = shared_bytes(kernel, std::max<int64_t>(p.S, 1), "attention");
    kernel<<<grid_for_rows(rows), kRowThreads, bytes, ctx.stream>>>(
        view4(q), view4(k), view4(v), view4(bias), p, static_cast<scalar_t*>(out.raw_data()),
        static_cast<double*>(lse.raw_data()));
    EMBER_CUDA_CHECK_LAUNCH("attention_forward_kernel");
  });
}

void CudaBackend::attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                     const Tensor& bias, const Tensor& out, const Tensor& grad_out,
                                     const Tensor& lse, const AttentionParams& p,
                                     const Tensor& grad_q, const Tensor& grad_k,
                                     const Tensor& grad_v) {
  KernelContext ctx({&q, &k, &v, &bias, &out, &grad_out, &lse, &grad_q, &grad_k, &grad_v},
                    "scaled_dot_product_attention_backward");
  EMBER_ASSERT(grad_out.is_contiguous() && lse.is_contiguous());
  const int64_t rows = p.A * p.H * p.T, cols = p.A * p.H * p.S;
  if (rows == 0 && cols == 0) return;
  // D_i = rowsum(P * dP) of every query row, passed from the first kernel to the second.
  Tensor dsum = ::ember::detail::make_tensor({std::max<int64_t>(rows, 1)}, kFloat64, q.device());
  EMBER_DISPATCH_FLOATING(q.dtype(), "scaled_dot_product_attention_backward", [&] {
    using T = scalar_t;
    const T* g = static_cast<const T*>(grad_out.raw_data());
    const double* pl = static_cast<const double*>(lse.raw_data());
    double* pd = static_cast<double*>(dsum.raw_data());
    if (rows > 0) {
      auto k1 = attention_dq_kernel<T>;
      const size_t bytes = shared_bytes(k1, 2 * std::max<int64_t>(p.S, 1), "attention backward");
      k1<<<grid_for_rows(rows), kRowThreads, bytes, ctx.stream>>>(
          view4(q), view4(k), view4(v), view4(bias), p, g, pl, static_cast<T*>(grad_q.raw_data()),
          pd);
      EMBER_CUDA_CHECK_LAUNCH("attention_dq_kernel");
    }
    if (cols > 0) {
      auto k2 = attention_dkdv_kernel<T>;
      const size_t bytes = shared_bytes(k2, 2 * std::max<int64_t>(p.T, 1), "attention backward");
      k2<<<grid_for_rows(cols), kRowThreads, bytes, ctx.stream>>>(
          view4(q), view4(k), view4(v), view4(bias), p, g, pl, pd,
          static_cast<T*>(grad_k.raw_data()), static_cast<T*>(grad_v.raw_data()));
      EMBER_CUDA_CHECK_LAUNCH("attention_dkdv_kernel");
    }
  });
}

}  // namespace ember::cuda
