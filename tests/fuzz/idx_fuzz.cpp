// libFuzzer harness: any bytes (plain or gzip) decode as IDX or throw ember::IOError; a decoded
// tensor has the header's element count and every element is readable. Build: tests/fuzz/README.md.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ember/core/error.h"
#include "ember/data/idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (ember::DType dtype : {ember::kFloat32, ember::kInt64}) {
    try {
      const ember::Tensor t = ember::data::decode_idx(bytes, "fuzz.idx", dtype);
      if (t.dim() < 1 || t.dim() > 4) std::abort();
      int64_t n = 1;
      for (int64_t d : t.shape()) n *= d;
      if (n != t.numel()) std::abort();
      double sum = 0;  // touch every element
      if (dtype == ember::kFloat32)
        for (int64_t i = 0; i < n; ++i) sum += t.data_ptr<float>()[i];
      else
        for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(t.data_ptr<int64_t>()[i]);
      (void)sum;
    } catch (const ember::IOError&) {
    }
  }
  return 0;
}
