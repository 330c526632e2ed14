// Shared device code of the CUDA kernels: dtype dispatch, bfloat16, strided indexing, launches.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "backend/cuda/cuda_runtime.h"
#include "ember/core/tensor.h"

namespace ember::cuda {

/// bfloat16 in device code: the same bits as ember::BFloat16, converted with the same rounding.
struct Bf16 {
  uint16_t bits;
};
__host__ __device__ inline float bf16_to_float(Bf16 v) {
  const uint32_t u = static_cast<uint32_t>(v.bits) << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}
__host__ __device__ inline Bf16 float_to_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return Bf16{static_cast<uint16_t>((u >> 16) | 0x40)};
  return Bf16{static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16)};
}

/// Converts like the CPU backend's copy: bool is "!= 0", bfloat16 goes through float.
template <class To, class From>
__device__ inline To convert(From v) {
  if constexpr (std::is_same_v<From, Bf16>) {
    return convert<To>(bf16_to_float(v));
  } else if constexpr (std::is_same_v<To, Bf16>) {
    return float_to_bf16(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, bool>) {
    return static_cast<float>(v) != 0.0f;
  } else {
    return static_cast<To>(v);
  }
}

/// Up to kMaxDims dims after merging; NT operands, strides in elements.
constexpr int kMaxDims = 8;
template <int NT>
struct Indexer {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[NT][kMaxDims] = {};
  /// Element offsets of the linear (row-major) index i in each operand.
  __host__ __device__ void offsets(int64_t i, int64_t (&off)[NT]) const {
    for (int t = 0; t < NT; ++t) off[t] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t idx = i % sizes[d];
      i /= sizes[d];
      for (int t = 0; t < NT; ++t) off[t] += idx * strides[t][d];
    }
  }
};

/// Builds the indexer of tensors that all have shape ts[0]'s shape (broadcast dims: stride 0),
/// dropping size-1 dims and merging dims that are contiguous in every operand.
template <int NT>
Indexer<NT> make_indexer(const Tensor* const (&ts)[NT], const char* op) {
  const Shape& shape = ts[0]->shape();
  Shape sizes;
  std::vector<Shape> strides(NT);
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !sizes.empty();
    for (int t = 0; t < NT && merge; ++t)
      merge = strides[t].back() == ts[t]->stride(static_cast<int64_t>(d)) * shape[d];
    if (merge) {
      sizes.back() *= shape[d];
      for (int t = 0; t < NT; ++t) strides[t].back() = ts[t]->stride(static_cast<int64_t>(d));
    } else {
      sizes.push_back(shape[d]);
      for (int t = 0; t < NT; ++t) strides[t].push_back(ts[t]->stride(static_cast<int64_t>(d)));
    }
  }
  EMBER_CHECK_T(NotImplementedError, static_cast<int>(sizes.size()) <= kMaxDims, op,
                " on CUDA: at most ", kMaxDims, " non-mergeable dims are supported, got shape ",
                ts[0]->shape_str(), " (make the operands contiguous first)");
  Indexer<NT> ix;
  ix.ndim = static_cast<int>(sizes.size());
  for (int d = 0; d < ix.ndim; ++d) {
    ix.sizes[d] = sizes[d];
    for (int t = 0; t < NT; ++t) ix.strides[t][d] = strides[t][d];
  }
  return ix;
}

/// The device of a kernel call: checks that every defined operand is on the first one's CUDA
/// device, makes it current and gives its stream.
struct KernelContext {
  KernelContext(std::initializer_list<const Tensor*> ts, const char* op)
      : device(first_device(ts)), guard(device.index), stream(detail::stream(device.index)) {
    for (const Tensor* t : ts)
      EMBER_CHECK_T(DeviceError, !t->defined() || t->device() == device, op,
                    ": expected every tensor on ", device, ", got one on ", t->device());
  }
  static Device first_device(std::initializer_list<const Tensor*> ts) {
    const Device d = (*ts.begin())->device();
    detail::check_device(d, "CUDA kernel");
    return d;
  }
  Device device;
  detail::DeviceGuard guard;
  cudaStream_t stream;
};

/// Grid-stride loop over [0, n).
#define EMBER_CUDA_KERNEL_LOOP(i, n)                                                     \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

}  // namespace ember::cuda

// Dispatch on a runtime dtype with device scalar types (bfloat16 as ember::cuda::Bf16).
#define EMBER_CUDA_DISPATCH_CASE(ENUM, TYPE, ...) \
  case ENUM: {                                    \
    using scalar_t = TYPE;                        \
    return __VA_ARGS__();                         \
  }
#define EMBER_CUDA_DISPATCH_ALL(DT, OPNAME, ...)                                           \
  [&] {                                                                                    \
    switch (DT) {                                                                          \
      EMBER_CUDA_DISPATCH_CASE(::ember::DType::Float32, float, __VA_ARGS__)                \
      EMBER_CUDA_DISPATCH_CASE(::ember::DType::Float64, double, __VA_ARGS__)               \
      EMBER_CUDA_DISPATCH_CASE(::ember::DType::Int32, int32_t, __VA_ARGS__)                \
      EMBER_CUDA_DISPATCH_CASE(::ember::DType::Int64, int64_t, __VA_ARGS__)                \
      EMBER_CUDA_DISPATCH_CASE(::ember::DType::Bool, bool, __VA_ARGS__)                    \
      EMBER_CUDA_DISPATCH_CASE(::ember::DType::BFloat16, ::ember::cuda::Bf16, __VA_ARGS__) \
    }                                                                                      \
    EMBER_THROW(::ember::DTypeError, OPNAME, ": unknown dtype");                           \
  }()
