// Storage: one reference-counted block of device memory, shared by a tensor and all its views.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "ember/core/device.h"

namespace ember {

/// Device memory allocator. Allocations are 64-byte aligned.
class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(size_t nbytes) = 0;
  virtual void deallocate(void* ptr, size_t nbytes) = 0;
  /// Drops cached blocks so that their memory returns to the system.
  virtual void empty_cache() {}
};

/// The allocator for a device (the CPU one caches freed blocks by size; see Note [CPU caching]).
Allocator& allocator_for(Device device);

/// Statistics of the CPU caching allocator, in bytes.
struct MemoryStats {
  size_t allocated = 0;  ///< held by live storages
  size_t cached = 0;     ///< freed blocks kept for reuse
  size_t peak = 0;       ///< largest `allocated` seen
};
MemoryStats cpu_memory_stats();

namespace detail {
/// Installs the allocator of a non-CPU device type: get(index) returns the allocator of device
/// `index` or throws DeviceError (the CUDA backend registers its caching allocator at load).
void register_allocator(DeviceType type, Allocator& (*get)(int index));
}  // namespace detail

class Storage {
 public:
  /// Allocates nbytes on device.
  Storage(size_t nbytes, Device device);
  /// Wraps memory owned elsewhere; deleter (may be empty) runs when the storage dies.
  Storage(void* data, size_t nbytes, Device device, std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  /// Version counter shared by all views; bumped by every in-place write (see Note [Versions]).
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }
  void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
  bool owned_ = true;
  std::function<void(void*)> deleter_;
  std::atomic<uint64_t> version_{0};
};

}  // namespace ember
