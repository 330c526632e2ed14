// The CUDA caching allocator: per-device free lists of 512-byte-rounded blocks, stats, OOM errors.
#include <cuda_runtime_api.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "backend/cuda/cuda_runtime.h"
#include "ember/core/cuda.h"
#include "ember/core/storage.h"

namespace ember::cuda {
namespace {

// Note [CUDA caching allocator]: cudaMalloc and cudaFree are slow and cudaFree synchronises the
// device, so freed blocks are kept in a per-device map keyed by size and handed out again (best
// fit among blocks at most twice the request; blocks are never split). Sizes round up to 512 B.
// Reuse needs no synchronisation because every op of a device runs on its one stream (Note [CUDA
// streams]): work that still reads a freed block is queued before any work of its next owner.
// When cudaMalloc fails, the cache of that device is returned to the driver and the call retried
// once; a second failure raises DeviceError with the request, Ember's usage and the free memory.
class DeviceCachingAllocator final : public Allocator {
 public:
  explicit DeviceCachingAllocator(int device) : device_(device) {}

  void* allocate(size_t nbytes) override {
    const size_t size = round_up(nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = free_.lower_bound(size);
    if (it != free_.end() && it->first <= 2 * size) {
      void* p = it->second;
      const size_t block = it->first;
      free_.erase(it);
      live_[p] = block;
      note_alloc(block);
      return p;
    }
    detail::DeviceGuard guard(device_);
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      release_cached();
      err = cudaMalloc(&p, size);
    }
    if (err == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      size_t free_bytes = 0, total_bytes = 0;
      (void)cudaMemGetInfo(&free_bytes, &total_bytes);
      (void)cudaGetLastError();
      EMBER_THROW(DeviceError, "CUDA out of memory on cuda:", device_, ": tried to allocate ",
                  gib(size), "; ", gib(stats_.allocated), " allocated by Ember, ", gib(free_bytes),
                  " free of ", gib(total_bytes));
    }
    EMBER_CUDA_CHECK(err);
    ++malloc_count_;
    stats_.reserved += size;
    live_[p] = size;
    note_alloc(size);
    return p;
  }

  void deallocate(void* ptr, size_t) override {
    if (ptr == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(ptr);
    if (it == live_.end()) return;  // not ours (cannot happen through Storage)
    stats_.allocated -= it->second;
    free_.emplace(it->second, ptr);
    live_.erase(it);
  }

  void empty_cache() override {
    std::lock_guard<std::mutex> lock(mu_);
    release_cached();
  }

  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak = stats_.allocated;
  }
  static size_t malloc_count() { return malloc_count_.load(); }

 private:
  static size_t round_up(size_t n) { return n == 0 ? 512 : (n + 511) / 512 * 512; }
  static std::string gib(size_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
    return buf;
  }
  void note_alloc(size_t size) {
    stats_.allocated += size;
    if (stats_.allocated > stats_.peak) stats_.peak = stats_.allocated;
  }
  // Caller holds mu_. Frees every cached block of this device (after its queued work finished).
  void release_cached() {
    if (free_.empty()) return;
    detail::DeviceGuard guard(device_);
    EMBER_CUDA_CHECK(cudaStreamSynchronize(detail::stream(device_)));
    for (auto& [size, p] : free_) {
      EMBER_CUDA_CHECK(cudaFree(p));
      stats_.reserved -= size;
    }
    free_.clear();
  }

  int device_;
  std::mutex mu_;
  std::multimap<size_t, void*> free_;
  std::unordered_map<void*, size_t> live_;
  MemoryStats stats_;
  static inline std::atomic<size_t> malloc_count_{0};
};

// One allocator per visible device, created on first use and never destroyed (storages may die
// during static destruction, after the CUDA runtime has gone).
DeviceCachingAllocator& device_allocator(int device) {
  static std::mutex mu;
  static std::vector<DeviceCachingAllocator*> allocators;
  detail::check_device(Device::cuda(device), "CUDA allocator");
  std::lock_guard<std::mutex> lock(mu);
  if (allocators.empty())
    allocators.assign(static_cast<size_t>(detail::visible_devices()), nullptr);
  auto& a = allocators[static_cast<size_t>(device)];
  if (a == nullptr) a = new DeviceCachingAllocator(device);
  return *a;
}

Allocator& allocator_for_index(int device) {
  return device_allocator(device);
}

const bool g_registered = [] {
  ::ember::detail::register_allocator(DeviceType::CUDA, &allocator_for_index);
  return true;
}();

}  // namespace

MemoryStats memory_stats(int device) {
  const auto s = device_allocator(device).stats();
  return s;
}

void empty_cache() {
  for (int d = 0; d < detail::visible_devices(); ++d) device_allocator(d).empty_cache();
}

void reset_peak_memory_stats() {
  for (int d = 0; d < detail::visible_devices(); ++d) device_allocator(d).reset_peak();
}

size_t malloc_count() {
  return DeviceCachingAllocator::malloc_count();
}

}  // namespace ember::cuda
