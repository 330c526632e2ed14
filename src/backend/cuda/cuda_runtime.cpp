// CUDA runtime: devices, per-device streams, copies, pinned host memory and the public ember::cuda.
#include "backend/cuda/cuda_runtime.h"

#include <array>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "ember/core/cuda.h"

namespace ember::cuda {
namespace detail {

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  throw DeviceError(::ember::detail::str_cat("CUDA error in ", call, " at ", file, ":", line, ": ",
                                             cudaGetErrorName(err), ": ", cudaGetErrorString(err)),
                    file, line);
}

void check_launch(const char* kernel_name, const char* file, int line) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) {
    throw_cuda_error(err, (std::string("launch of kernel ") + kernel_name).c_str(), file, line);
  }
}

int visible_devices() {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();  // no driver or no device: clear the sticky status
      return 0;
    }
    return n;
  }();
  return count;
}

void check_device(Device device, const char* op) {
  EMBER_CHECK_T(DeviceError, device.is_cuda(), op, ": expected a CUDA device, got ", device);
  const int n = visible_devices();
  EMBER_CHECK_T(DeviceError, n > 0, op, ": no CUDA device is available (", device,
                " requested; the driver reports no GPU)");
  EMBER_CHECK_T(DeviceError, device.index >= 0 && device.index < n, op, ": ", device,
                " does not exist (", n, " CUDA device(s) visible)");
}

// Note [CUDA streams]: every device has one non-blocking stream, created on first use. All
// kernels, cuBLAS calls and copies of that device are queued on it, so they run in order and the
// caching allocator may hand a freed block to the next op without waiting. Copies to or from host
// memory synchronise the stream before they return (host reads see finished results).
cudaStream_t stream(int device) {
  static std::mutex mu;
  static std::vector<cudaStream_t> streams;
  std::lock_guard<std::mutex> lock(mu);
  if (streams.empty()) streams.assign(static_cast<size_t>(visible_devices()), nullptr);
  check_device(Device::cuda(device), "cuda stream");
  cudaStream_t& s = streams[static_cast<size_t>(device)];
  if (s == nullptr) {
    DeviceGuard guard(device);
    EMBER_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  }
  return s;
}

DeviceGuard::DeviceGuard(int device) {
  EMBER_CUDA_CHECK(cudaGetDevice(&previous_));
  if (previous_ != device) EMBER_CUDA_CHECK(cudaSetDevice(device));
}

DeviceGuard::~DeviceGuard() {
  int now = -1;
  if (cudaGetDevice(&now) == cudaSuccess && now != previous_) (void)cudaSetDevice(previous_);
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  if (nbytes == 0) return;
  if (dst_device.is_cuda()) check_device(dst_device, "copy");
  if (src_device.is_cuda()) check_device(src_device, "copy");
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, nbytes);
  } else if (src_device.is_cpu()) {  // host to device
    DeviceGuard guard(dst_device.index);
    cudaStream_t s = stream(dst_device.index);
    EMBER_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, s));
    EMBER_CUDA_CHECK(cudaStreamSynchronize(s));  // the host buffer may die when we return
  } else if (dst_device.is_cpu()) {  // device to host: waits for the kernels that wrote src
    DeviceGuard guard(src_device.index);
    cudaStream_t s = stream(src_device.index);
    EMBER_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, s));
    EMBER_CUDA_CHECK(cudaStreamSynchronize(s));
  } else if (dst_device == src_device) {
    DeviceGuard guard(src_device.index);
    EMBER_CUDA_CHECK(
        cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, stream(src_device.index)));
  } else {  // between two GPUs: both streams drained so that neither side races the copy
    EMBER_CUDA_CHECK(cudaStreamSynchronize(stream(dst_device.index)));
    DeviceGuard guard(src_device.index);
    cudaStream_t s = stream(src_device.index);
    EMBER_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, nbytes, s));
    EMBER_CUDA_CHECK(cudaStreamSynchronize(s));
  }
}

}  // namespace detail

bool is_available() {
  return detail::visible_devices() > 0;
}

int device_count() {
  return detail::visible_devices();
}

void synchronize(int device) {
  if (device < 0) {
    EMBER_CHECK_T(DeviceError, is_available(), "cuda::synchronize: no CUDA device is available");
    EMBER_CUDA_CHECK(cudaGetDevice(&device));
  }
  detail::check_device(Device::cuda(device), "cuda::synchronize");
  detail::DeviceGuard guard(device);
  EMBER_CUDA_CHECK(cudaStreamSynchronize(detail::stream(device)));
}

Tensor pinned_empty(IntList shape, DType dtype) {
  EMBER_CHECK_T(DeviceError, is_available(),
                "cuda::pinned_empty: no CUDA device is available (pinned memory needs a driver)");
  for (int64_t s : shape)
    EMBER_CHECK_SHAPE(s >= 0, "cuda::pinned_empty: negative size in shape ",
                      ::ember::detail::shape_to_string(shape));
  const size_t nbytes = static_cast<size_t>(::ember::detail::shape_numel(shape)) * itemsize(dtype);
  void* p = nullptr;
  EMBER_CUDA_CHECK(cudaHostAlloc(&p, nbytes == 0 ? 1 : nbytes, cudaHostAllocDefault));
  auto storage =
      std::make_shared<Storage>(p, nbytes, Device::cpu(), [](void* q) { (void)cudaFreeHost(q); });
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = Shape(shape.begin(), shape.end());
  impl->strides = ::ember::detail::contiguous_strides(shape);
  impl->numel = ::ember::detail::shape_numel(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

}  // namespace ember::cuda
