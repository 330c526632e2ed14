// Canvas: an RGB picture in memory for figures made of images (image grids, attribution maps).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::train {

struct Rgb {
  float r = 0, g = 0, b = 0;  ///< each in [0, 1]
};

/// White background, (0, 0) at the top left; drawing outside the canvas is clipped.
class Canvas {
 public:
  Canvas(int64_t width, int64_t height, Rgb background = {1, 1, 1});
  int64_t width() const { return width_; }
  int64_t height() const { return height_; }

  void fill_rect(int64_t x, int64_t y, int64_t w, int64_t h, Rgb color);
  /// The outline of a rectangle, `thickness` pixels wide, drawn inside it.
  void draw_rect(int64_t x, int64_t y, int64_t w, int64_t h, Rgb color, int64_t thickness = 1);
  /// pixels: (C, H, W) with C = 1 (gray) or 3 (RGB), values in [0, 1] (clamped), drawn with its
  /// top left at (x, y), each pixel as a scale x scale square.
  void draw_image(int64_t x, int64_t y, const Tensor& pixels, int64_t scale = 1);
  /// Text in stb_easy_font's bitmap font (ASCII; about 6 x 12 pixels per character at scale 1).
  void draw_text(int64_t x, int64_t y, const std::string& text, Rgb color, int64_t scale = 1);
  static int64_t text_width(const std::string& text, int64_t scale = 1);

  /// The picture as float32 (3, H, W).
  Tensor to_tensor() const;
  /// Writes the picture as a PNG file, atomically.
  void save_png(const std::string& path) const;

 private:
  int64_t width_, height_;
  std::vector<float> rgb_;  // (3, H, W)
};

/// Blends a signed attribution map over a grayscale version of an image: positive attribution in
/// red, negative in blue, opacity growing with |a| / (the 99th percentile of |a|).
/// pixels: (C, H, W) in [0, 1]; attribution: (C, H, W) or (H, W) (channels are summed) -> (3, H,
/// W).
Tensor attribution_overlay(const Tensor& pixels, const Tensor& attribution);

}  // namespace ember::train
