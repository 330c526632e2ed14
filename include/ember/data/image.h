// Images: PNG/JPEG (and BMP, GIF, ...) decoding to (C, H, W) float tensors, PNG/JPEG writing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ember/core/tensor.h"

namespace ember::data {

/// Largest image read_image/decode_image accept, in pixels (width * height), checked from the
/// header before decoding.
inline constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

/// Decodes an encoded image (PNG, JPEG, BMP, GIF, TGA, PNM, ...) held in bytes; name identifies it
/// in errors. Returns float32 (C, H, W) with values in [0, 1]. channels: 0 keeps the stored
/// channels, 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA (converted as needed).
/// Throws ember::IOError "name: not a valid PNG/JPEG image (stb: <reason>)" for data it cannot
/// decode, and for images over kMaxImagePixels; ValueError for channels outside 0..4.
Tensor decode_image(std::string_view bytes, const std::string& name, int64_t channels = 0);

/// Reads and decodes the image file at path (see decode_image).
Tensor read_image(const std::string& path, int64_t channels = 0);

/// PNG bytes of image: float (C, H, W) with C in {1, 3, 4} (gray, RGB, RGBA) or (H, W) gray,
/// values in [0, 1] (clamped; NaN becomes 0), rounded to 8 bits.
std::string encode_png(const Tensor& image);
/// JPEG bytes of image (as encode_png; an alpha channel is dropped); quality in [1, 100].
std::string encode_jpeg(const Tensor& image, int quality = 90);

/// Writes image as a PNG file, atomically (io::write_file_atomic).
void write_png(const std::string& path, const Tensor& image);
/// Writes image as a JPEG file, atomically (io::write_file_atomic).
void write_jpeg(const std::string& path, const Tensor& image, int quality = 90);

}  // namespace ember::data
