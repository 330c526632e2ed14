// Storage and the CPU caching allocator.
#include "ember/core/storage.h"

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ember/core/error.h"

namespace ember {

// Note [CPU caching]: training loops allocate the same sizes every step. Freed blocks are kept in
// per-size free lists and handed out again, so steady-state steps don't call malloc or fault in
// fresh pages. Blocks are 64-byte aligned; the cache is capped and can be emptied.
namespace {
class CpuCachingAllocator : public Allocator {
 public:
  void* allocate(size_t nbytes) override {
    const size_t size = round_up(nbytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        stats_.cached -= size;
        note_alloc(size);
        return p;
      }
    }
    void* p = std::aligned_alloc(64, size);
    if (!p) {
      empty_cache();
      p = std::aligned_alloc(64, size);
    }
    EMBER_CHECK_T(Error, p != nullptr, "CPU allocator: out of memory allocating ", nbytes,
                  " bytes");
    std::lock_guard<std::mutex> lock(mu_);
    note_alloc(size);
    return p;
  }

  void deallocate(void* ptr, size_t nbytes) override {
    if (!ptr) return;
    const size_t size = round_up(nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.allocated -= size;
    if (stats_.cached + size > kMaxCached) {
      std::free(ptr);
      return;
    }
    free_[size].push_back(ptr);
    stats_.cached += size;
  }

  void empty_cache() override {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [size, list] : free_)
      for (void* p : list) std::free(p);
    free_.clear();
    stats_.cached = 0;
  }

  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  static constexpr size_t kMaxCached = size_t(2) << 30;
  static size_t round_up(size_t n) { return n == 0 ? 64 : (n + 63) / 64 * 64; }
  void note_alloc(size_t size) {
    stats_.allocated += size;
    if (stats_.allocated > stats_.peak) stats_.peak = stats_.allocated;
  }
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  MemoryStats stats_;
};

CpuCachingAllocator& cpu_allocator() {
  // Never destroyed: storages may die during static destruction.
  static auto* alloc = new CpuCachingAllocator();
  return *alloc;
}
}  // namespace

namespace {
Allocator& (*g_cuda_allocator)(int) = nullptr;  // set by the CUDA backend (cuda_allocator.cpp)
}  // namespace

void detail::register_allocator(DeviceType type, Allocator& (*get)(int index)) {
  EMBER_CHECK_T(DeviceError, type == DeviceType::CUDA, "register_allocator: only CUDA allocators "
                "can be registered");
  g_cuda_allocator = get;
}

Allocator& allocator_for(Device device) {
  if (device.is_cpu()) return cpu_allocator();
  EMBER_CHECK_T(DeviceError, g_cuda_allocator != nullptr, "no allocator for device ", device,
                " (this build has the CPU backend only; rebuild with -DEMBER_CUDA=ON)");
  return g_cuda_allocator(device.index);
}

MemoryStats cpu_memory_stats() { return cpu_allocator().stats(); }

Storage::Storage(size_t nbytes, Device device)
    : data_(allocator_for(device).allocate(nbytes)), nbytes_(nbytes), device_(device) {}

Storage::Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), device_(device), owned_(false), deleter_(std::move(deleter)) {}

Storage::~Storage() {
  if (owned_) {
    allocator_for(device_).deallocate(data_, nbytes_);
  } else if (deleter_) {
    deleter_(data_);
  }
}

}  // namespace ember
