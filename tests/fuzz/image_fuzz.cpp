// libFuzzer harness: any bytes decode as an image or throw ember::IOError; a decoded image is
// (C, H, W) float in [0, 1] within the pixel limit, and re-encodes as PNG that decodes to the same
// tensor. Build: tests/fuzz/README.md.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ember/core/error.h"
#include "ember/data/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const int64_t channels = size > 0 ? data[size - 1] % 5 : 0;  // 0..4 from the last byte
  ember::Tensor img;
  try {
    img = ember::data::decode_image(bytes, "fuzz.img", channels);
  } catch (const ember::IOError&) {
    return 0;
  }
  if (img.dim() != 3 || img.size(1) <= 0 || img.size(2) <= 0) std::abort();
  if (channels != 0 && img.size(0) != channels) std::abort();
  if (img.size(1) * img.size(2) > ember::data::kMaxImagePixels) std::abort();
  const float* p = img.data_ptr<float>();
  for (int64_t i = 0; i < img.numel(); ++i)
    if (!(p[i] >= 0.0f && p[i] <= 1.0f)) std::abort();
  if (img.size(0) != 2 && img.numel() <= 4096) {  // PNG keeps 8-bit values exactly
    const ember::Tensor back = ember::data::decode_image(ember::data::encode_png(img), "png");
    if (back.shape() != img.shape()) std::abort();
    const float* q = back.data_ptr<float>();
    for (int64_t i = 0; i < img.numel(); ++i)
      if (p[i] != q[i]) std::abort();
  }
  return 0;
}
