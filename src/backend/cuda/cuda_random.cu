// CUDA random kernels: uniform, normal and fused dropout from a counter-based Philox4x32-10.
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_common.cuh"

namespace ember::cuda {

namespace {
// Note [CUDA random numbers]: each call draws one 64-bit key from the ember Generator, and element
// i gets Philox4x32-10(counter = i, key). A seed therefore gives the same tensor on every run and
// every GPU, independent of the launch geometry; the numbers differ from the CPU backend's.
struct Philox {
  uint32_t x[4];
};
__device__ Philox philox(uint64_t counter, uint64_t key) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0,
           c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint32_t lo0 = 0xD2511F53u * c0, hi0 = __umulhi(0xD2511F53u, c0);
    const uint32_t lo1 = 0xCD9E8D57u * c2, hi1 = __umulhi(0xCD9E8D57u, c2);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox{{c0, c1, c2, c3}};
}
// Uniform in [0, 1) with 53 random bits.
__device__ double uniform53(uint32_t a, uint32_t b) {
  const uint64_t bits = ((static_cast<uint64_t>(a) << 32) | b) >> 11;
  return static_cast<double>(bits) * 0x1.0p-53;
}

template <class T>
__global__ void uniform_kernel(T* out, int64_t n, double low, double high, uint64_t key) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    const Philox r = philox(static_cast<uint64_t>(i), key);
    double u;
    if constexpr (std::is_same_v<T, float>) {
      u = static_cast<double>(r.x[0] >> 8) * 0x1.0p-24;  // exactly representable, as on the CPU
    } else {
      u = uniform53(r.x[0], r.x[1]);
    }
    out[i] = static_cast<T>(low + (high - low) * u);
  }
}

template <class T>
__global__ void normal_kernel(T* out, int64_t n, double mean, double std, uint64_t key) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    const Philox r = philox(static_cast<uint64_t>(i), key);
    const double u1 = 1.0 - uniform53(r.x[0], r.x[1]);  // (0, 1]: log is finite
    const double u2 = uniform53(r.x[2], r.x[3]);
    const double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
    out[i] = static_cast<T>(mean + std * z);
  }
}

template <class T>
__global__ void dropout_kernel(const T* x, T* out, T* mask, int64_t n, double p, T scale,
                               uint64_t key) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    const Philox r = philox(static_cast<uint64_t>(i), key);
    const T m = uniform53(r.x[0], r.x[1]) >= p ? scale : T(0);
    mask[i] = m;
    out[i] = x[i] * m;
  }
}
}  // namespace

void CudaBackend::uniform(const Tensor& out, double low, double high, Generator& gen) {
  KernelContext ctx({&out}, "uniform_");
  EMBER_ASSERT(out.is_contiguous());
  const int64_t n = out.numel();
  if (n == 0) return;
  const uint64_t key = gen.next_u64();
  EMBER_DISPATCH_FLOATING(out.dtype(), "uniform_", [&] {
    uniform_kernel<scalar_t><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        static_cast<scalar_t*>(out.raw_data()), n, low, high, key);
    EMBER_CUDA_CHECK_LAUNCH("uniform_kernel");
  });
}

void CudaBackend::normal(const Tensor& out, double mean, double std, Generator& gen) {
  KernelContext ctx({&out}, "normal_");
  EMBER_ASSERT(out.is_contiguous());
  const int64_t n = out.numel();
  if (n == 0) return;
  const uint64_t key = gen.next_u64();
  EMBER_DISPATCH_FLOATING(out.dtype(), "normal_", [&] {
    normal_kernel<scalar_t><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        static_cast<scalar_t*>(out.raw_data()), n, mean, std, key);
    EMBER_CUDA_CHECK_LAUNCH("normal_kernel");
  });
}

void CudaBackend::dropout(const Tensor& x, double p, Generator& gen, const Tensor& out,
                          const Tensor& mask) {
  KernelContext ctx({&x, &out, &mask}, "dropout");
  EMBER_ASSERT(x.is_contiguous() && out.is_contiguous() && mask.is_contiguous());
  const int64_t n = x.numel();
  if (n == 0) return;
  const uint64_t key = gen.next_u64();
  EMBER_DISPATCH_FLOATING(x.dtype(), "dropout", [&] {
    const scalar_t scale = static_cast<scalar_t>(1.0 / (1.0 - p));
    dropout_kernel<scalar_t><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        static_cast<const scalar_t*>(x.raw_data()), static_cast<scalar_t*>(out.raw_data()),
        static_cast<scalar_t*>(mask.raw_data()), n, p, scale, key);
    EMBER_CUDA_CHECK_LAUNCH("dropout_kernel");
  });
}

}  // namespace ember::cuda
