// libFuzzer harness: any bytes, read as a safetensors file, load (and every tensor byte reads) or
// throw ember::IOError. Build instructions: tests/fuzz/README.md.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "ember/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The input lives in an in-memory file, opened by path through /proc.
  static const int fd = ::memfd_create("fuzz.safetensors", MFD_CLOEXEC);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))
    std::abort();
  for (bool mmap : {true, false}) {
    try {
      const ember::io::SafeTensorsFile file(path, mmap);
      for (const auto& [name, t] : file.tensors()) {
        const auto* p = static_cast<const volatile uint8_t*>(t.raw_data());
        const size_t n = static_cast<size_t>(t.numel()) * t.element_size();
        for (size_t i = 0; i < n; ++i) (void)p[i];
      }
    } catch (const ember::IOError&) {
    }
  }
  return 0;
}
