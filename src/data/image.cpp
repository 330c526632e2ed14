// Image I/O through Debian's libstb (stb_image / stb_image_write; the library holds the code).
#include "ember/data/image.h"

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <climits>
#include <cmath>
#include <memory>
#include <vector>

#include "ember/core/error.h"
#include "ember/io/file.h"

namespace ember::data {

Tensor decode_image(std::string_view bytes, const std::string& name, int64_t channels) {
  EMBER_CHECK(channels >= 0 && channels <= 4,
              "decode_image: channels must be 0 (as stored), 1, 2, ", "3 or 4; got ", channels);
  EMBER_CHECK_IO(!bytes.empty(), name, ": not a valid PNG/JPEG image (the file is empty)");
  EMBER_CHECK_IO(bytes.size() <= static_cast<size_t>(INT_MAX), name, ": image file of ",
                 bytes.size(), " bytes is too large (limit ", INT_MAX, ")");
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, stored = 0;
  EMBER_CHECK_IO(stbi_info_from_memory(data, len, &w, &h, &stored) == 1, name,
                 ": not a valid PNG/JPEG image (stb: ", stbi_failure_reason(), ")");
  EMBER_CHECK_IO(w > 0 && h > 0, name, ": image has size ", w, "x", h,
                 "; expected a non-empty image");
  EMBER_CHECK_IO(int64_t{w} * h <= kMaxImagePixels, name, ": image of ", w, "x", h, " = ",
                 int64_t{w} * h, " pixels is larger than the limit of ", kMaxImagePixels);
  int dw = 0, dh = 0, dc = 0;
  const int want = static_cast<int>(channels);
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(data, len, &dw, &dh, &dc, want), stbi_image_free);
  EMBER_CHECK_IO(pixels != nullptr, name,
                 ": not a valid PNG/JPEG image (stb: ", stbi_failure_reason(), ")");
  EMBER_CHECK_IO(dw == w && dh == h, name, ": decoded size ", dw, "x", dh,
                 " differs from the header's ", w, "x", h);
  const int64_t c = want > 0 ? want : dc;
  const int64_t plane = int64_t{dw} * dh;
  Tensor out = detail::make_tensor({c, dh, dw}, kFloat32);
  float* dst = out.data_ptr<float>();
  const stbi_uc* src = pixels.get();
  for (int64_t p = 0; p < plane; ++p)
    for (int64_t k = 0; k < c; ++k) dst[k * plane + p] = src[p * c + k] * (1.0f / 255.0f);
  return out;
}

Tensor read_image(const std::string& path, int64_t channels) {
  return decode_image(io::read_file(path), path, channels);
}

namespace {

// 8-bit interleaved (H, W, C) pixels of a float (C, H, W) or (H, W) image in [0, 1].
struct Pixels {
  std::vector<uint8_t> data;
  int width = 0, height = 0, channels = 0;
};

Pixels to_pixels(const Tensor& image, const char* op) {
  EMBER_CHECK(image.defined(), op, ": image is an undefined tensor");
  EMBER_CHECK_DTYPE(image.is_floating_point(), op, ": image must be a float tensor in [0, 1]; got ",
                    image.dtype());
  const bool gray2d = image.dim() == 2;
  EMBER_CHECK_SHAPE(
      gray2d ||
          (image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3 || image.size(0) == 4)),
      op, ": image must be (C, H, W) with C in {1, 3, 4} or (H, W); got shape ", image.shape_str());
  const int64_t c = gray2d ? 1 : image.size(0);
  const int64_t h = image.size(-2), w = image.size(-1);
  EMBER_CHECK_SHAPE(h > 0 && w > 0 && h <= 65535 && w <= 65535 && h * w <= kMaxImagePixels, op,
                    ": image height and width must be in [1, 65535] with at most ", kMaxImagePixels,
                    " pixels; got shape ", image.shape_str());
  const std::vector<float> values = image.to_vector<float>();
  Pixels px;
  px.width = static_cast<int>(w), px.height = static_cast<int>(h),
  px.channels = static_cast<int>(c);
  px.data.resize(static_cast<size_t>(c * h * w));
  const int64_t plane = h * w;
  for (int64_t k = 0; k < c; ++k)
    for (int64_t p = 0; p < plane; ++p) {
      const float v = values[static_cast<size_t>(k * plane + p)];
      const float clamped = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;  // NaN -> 0
      px.data[static_cast<size_t>(p * c + k)] = static_cast<uint8_t>(std::lround(clamped * 255.0f));
    }
  return px;
}

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                             static_cast<size_t>(size));
}

}  // namespace

std::string encode_png(const Tensor& image) {
  const Pixels px = to_pixels(image, "write_png");
  std::string out;
  const int ok = stbi_write_png_to_func(append_bytes, &out, px.width, px.height, px.channels,
                                        px.data.data(), px.width * px.channels);
  EMBER_CHECK_IO(ok != 0, "write_png: PNG encoding failed for an image of shape ",
                 image.shape_str());
  return out;
}

std::string encode_jpeg(const Tensor& image, int quality) {
  EMBER_CHECK(quality >= 1 && quality <= 100, "write_jpeg: quality must be in [1, 100]; got ",
              quality);
  Pixels px = to_pixels(image, "write_jpeg");
  if (px.channels == 4) {  // JPEG has no alpha: keep RGB
    std::vector<uint8_t> rgb(static_cast<size_t>(px.width) * px.height * 3);
    for (size_t p = 0; p < rgb.size() / 3; ++p)
      for (size_t k = 0; k < 3; ++k) rgb[p * 3 + k] = px.data[p * 4 + k];
    px.data = std::move(rgb);
    px.channels = 3;
  }
  std::string out;
  const int ok = stbi_write_jpg_to_func(append_bytes, &out, px.width, px.height, px.channels,
                                        px.data.data(), quality);
  EMBER_CHECK_IO(ok != 0, "write_jpeg: JPEG encoding failed for an image of shape ",
                 image.shape_str());
  return out;
}

void write_png(const std::string& path, const Tensor& image) {
  io::write_file_atomic(path, encode_png(image));
}

void write_jpeg(const std::string& path, const Tensor& image, int quality) {
  io::write_file_atomic(path, encode_jpeg(image, quality));
}

}  // namespace ember::data
