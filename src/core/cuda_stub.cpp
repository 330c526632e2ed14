// ember::cuda in a build without the CUDA backend: reports no devices and refuses device work.
#include "ember/core/cuda.h"

#if !defined(EMBER_WITH_CUDA)

namespace ember::cuda {

namespace {
[[noreturn]] void no_cuda(const char* what) {
  EMBER_THROW(DeviceError, what,
              ": this build of Ember has no CUDA support (reconfigure with -DEMBER_CUDA=ON on a "
              "machine with the CUDA toolkit)");
}
}  // namespace

bool is_available() {
  return false;
}
int device_count() {
  return 0;
}
void synchronize(int) {
  no_cuda("cuda::synchronize");
}
MemoryStats memory_stats(int) {
  no_cuda("cuda::memory_stats");
}
void empty_cache() {}
void reset_peak_memory_stats() {}
size_t malloc_count() {
  return 0;
}

Tensor pinned_empty(IntList, DType) {
  no_cuda("cuda::pinned_empty");
}

namespace detail {
void copy_bytes(void*, Device dst_device, const void*, Device src_device, size_t) {
  EMBER_THROW(DeviceError, "copy from ", src_device, " to ", dst_device,
              ": this build of Ember has no CUDA support (reconfigure with -DEMBER_CUDA=ON on a "
              "machine with the CUDA toolkit)");
}
}  // namespace detail

}  // namespace ember::cuda

#endif  // !EMBER_WITH_CUDA
