// Block-wide sum and max reductions for the one-block-per-row kernels (warp shuffles + shared).
#pragma once

#include <cuda_runtime.h>

namespace ember::cuda {

constexpr int kRowThreads = 256;  // threads of a one-block-per-row kernel (a multiple of 32)

template <class T>
__device__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <class T>
__device__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) {
    const T w = __shfl_xor_sync(0xffffffffu, v, o);
    v = (w > v || w != w) ? w : v;  // NaN propagates
  }
  return v;
}

/// Sum of v over the block; every thread gets the result. blockDim.x == kRowThreads.
template <class T>
__device__ T block_sum(T v) {
  __shared__ T partial[kRowThreads / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_sum(v);
  __syncthreads();  // partial may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  T total = lane < kRowThreads / 32 ? partial[lane] : T(0);
  return warp_sum(total);
}

/// Max of v over the block (NaN wins); every thread gets the result.
template <class T>
__device__ T block_max(T v) {
  __shared__ T partial[kRowThreads / 32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  T m = lane < kRowThreads / 32 ? partial[lane] : partial[0];
  return warp_max(m);
}

}  // namespace ember::cuda
