// CUDA devices from user code: availability, synchronisation, memory statistics, matmul precision.
#pragma once

#include <cstddef>
#include <string>

#include "ember/core/device.h"
#include "ember/core/tensor.h"

namespace ember::cuda {

/// True when this build has the CUDA backend and at least one GPU is visible.
/// Never throws: a build without CUDA, or a machine without a driver or GPU, gives false.
bool is_available();
/// Number of visible GPUs (0 without CUDA support or without a GPU).
int device_count();
/// Waits for all work queued on a device (-1: the current one). Throws DeviceError without a GPU.
void synchronize(int device = -1);

/// Statistics of the CUDA caching allocator, in bytes (Note [CUDA caching allocator]).
struct MemoryStats {
  size_t allocated = 0;  ///< held by live tensors (rounded to 512 B blocks)
  size_t reserved = 0;   ///< obtained from cudaMalloc: allocated plus cached free blocks
  size_t peak = 0;       ///< largest `allocated` since start or reset_peak_memory_stats()
};
/// Allocator statistics of one device. Throws DeviceError without a GPU.
MemoryStats memory_stats(int device = 0);
/// Returns the cached free blocks of every device to the driver (a no-op without CUDA).
void empty_cache();
/// Sets `peak` to the current `allocated` on every device (a no-op without CUDA).
void reset_peak_memory_stats();
/// Number of cudaMalloc calls made by the allocator so far (all devices); for tests.
size_t malloc_count();

/// An uninitialised contiguous CPU tensor in page-locked (pinned) host memory, so that copies
/// to the GPU run at full speed (for the data loader). Throws DeviceError without a GPU.
Tensor pinned_empty(IntList shape, DType dtype = kFloat32);

namespace detail {
/// Copies nbytes between a CPU or CUDA buffer and another; synchronous with respect to the host.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);
}  // namespace detail

}  // namespace ember::cuda
