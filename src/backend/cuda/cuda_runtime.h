// CUDA runtime helpers for the backend: the status-checking macro, devices, streams, launch sizes.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ember/core/device.h"
#include "ember/core/error.h"

namespace ember::cuda::detail {

/// Throws DeviceError "CUDA error in <call> at file:line: <cudaGetErrorString>".
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);

/// Throws DeviceError when the last kernel launch failed ("launch of kernel <name> at file:line").
void check_launch(const char* kernel_name, const char* file, int line);
/// The number of visible devices (0 when there is no driver or no GPU); cached after the first
/// call.
int visible_devices();
/// Throws DeviceError naming op unless device is a visible CUDA device.
void check_device(Device device, const char* op);
/// The stream every kernel and copy of a device is queued on (Note [CUDA streams]).
cudaStream_t stream(int device);

/// Makes device current for the guard's lifetime.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

/// Threads per block of the elementwise kernels.
constexpr int kThreads = 256;
/// Blocks for a grid-stride loop over n elements (at least 1, capped so that the grid is legal).
inline unsigned int blocks_for(int64_t n, int threads = kThreads) {
  const int64_t b = (n + threads - 1) / threads;
  constexpr int64_t kMaxBlocks = int64_t(1) << 20;
  return static_cast<unsigned int>(b < 1 ? 1 : (b > kMaxBlocks ? kMaxBlocks : b));
}

}  // namespace ember::cuda::detail

/// Checks the cudaError_t of a CUDA runtime call; throws DeviceError naming the call.
#define EMBER_CUDA_CHECK(call)                                                             \
  do {                                                                                     \
    const cudaError_t ember_cuda_err_ = (call);                                            \
    if (ember_cuda_err_ != cudaSuccess) [[unlikely]]                                       \
      ::ember::cuda::detail::throw_cuda_error(ember_cuda_err_, #call, __FILE__, __LINE__); \
  } while (0)

/// Checks that the kernel launch just made was accepted (bad configuration, missing image, ...).
#define EMBER_CUDA_CHECK_LAUNCH(kernel_name) \
  ::ember::cuda::detail::check_launch(kernel_name, __FILE__, __LINE__)
