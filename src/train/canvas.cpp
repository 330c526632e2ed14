// Canvas: rectangles, nearest-neighbour image blits and stb_easy_font text into an RGB buffer.
#include "ember/train/canvas.h"

#include <algorithm>
#include <cmath>

#include "ember/core/error.h"
#include "ember/data/image.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wuseless-cast"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wshadow"
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

namespace ember::train {

Canvas::Canvas(int64_t width, int64_t height, Rgb bg)
    : width_(width), height_(height), rgb_(static_cast<size_t>(3 * width * height)) {
  EMBER_CHECK(width >= 1 && height >= 1 && width * height <= (int64_t{1} << 26),
              "Canvas: size must be at least 1x1 and at most 2^26 pixels, got ", width, "x",
              height);
  fill_rect(0, 0, width, height, bg);
}

void Canvas::fill_rect(int64_t x, int64_t y, int64_t w, int64_t h, Rgb c) {
  const int64_t x0 = std::max<int64_t>(x, 0), x1 = std::min(x + w, width_);
  const int64_t y0 = std::max<int64_t>(y, 0), y1 = std::min(y + h, height_);
  const int64_t plane = width_ * height_;
  for (int64_t yy = y0; yy < y1; ++yy)
    for (int64_t xx = x0; xx < x1; ++xx) {
      const size_t i = static_cast<size_t>(yy * width_ + xx);
      rgb_[i] = c.r;
      rgb_[i + static_cast<size_t>(plane)] = c.g;
      rgb_[i + static_cast<size_t>(2 * plane)] = c.b;
    }
}

void Canvas::draw_rect(int64_t x, int64_t y, int64_t w, int64_t h, Rgb c, int64_t t) {
  fill_rect(x, y, w, t, c);
  fill_rect(x, y + h - t, w, t, c);
  fill_rect(x, y, t, h, c);
  fill_rect(x + w - t, y, t, h, c);
}

void Canvas::draw_image(int64_t x, int64_t y, const Tensor& pixels, int64_t scale) {
  EMBER_CHECK_SHAPE(pixels.dim() == 3 && (pixels.size(0) == 1 || pixels.size(0) == 3),
                    "Canvas::draw_image: expected pixels (1 or 3, H, W), got ", pixels.shape_str());
  const Tensor p = pixels.to(kFloat32).contiguous();
  const int64_t c = p.size(0), h = p.size(1), w = p.size(2), plane = h * w;
  const float* src = p.data_ptr<float>();
  for (int64_t i = 0; i < h; ++i)
    for (int64_t j = 0; j < w; ++j) {
      auto at = [&](int64_t ch) {
        return std::clamp(src[(c == 1 ? 0 : ch) * plane + i * w + j], 0.0f, 1.0f);
      };
      fill_rect(x + j * scale, y + i * scale, scale, scale, {at(0), at(1), at(2)});
    }
}

void Canvas::draw_text(int64_t x, int64_t y, const std::string& text, Rgb c, int64_t scale) {
  std::vector<char> buf(text.begin(), text.end());
  buf.push_back('\0');
  std::vector<char> vertices(buf.size() * 270 * 4 + 1024);  // stb's documented worst case
  const int quads = stb_easy_font_print(0, 0, buf.data(), nullptr, vertices.data(),
                                        static_cast<int>(vertices.size()));
  // Each quad: 4 vertices of (x, y, z float, rgba bytes); the quads are axis-aligned rectangles.
  for (int q = 0; q < quads; ++q) {
    const float* v0 = reinterpret_cast<const float*>(vertices.data() + q * 64);
    const float* v2 = reinterpret_cast<const float*>(vertices.data() + q * 64 + 32);
    const auto x0 = static_cast<int64_t>(std::lround(v0[0] * static_cast<float>(scale)));
    const auto y0 = static_cast<int64_t>(std::lround(v0[1] * static_cast<float>(scale)));
    const auto x1 = static_cast<int64_t>(std::lround(v2[0] * static_cast<float>(scale)));
    const auto y1 = static_cast<int64_t>(std::lround(v2[1] * static_cast<float>(scale)));
    fill_rect(x + x0, y + y0, x1 - x0, y1 - y0, c);
  }
}

int64_t Canvas::text_width(const std::string& text, int64_t scale) {
  std::vector<char> buf(text.begin(), text.end());
  buf.push_back('\0');
  return stb_easy_font_width(buf.data()) * scale;
}

Tensor Canvas::to_tensor() const {
  Tensor t = detail::make_tensor({3, height_, width_}, kFloat32);
  std::copy(rgb_.begin(), rgb_.end(), t.data_ptr<float>());
  return t;
}

void Canvas::save_png(const std::string& path) const {
  data::write_png(path, to_tensor());
}

Tensor attribution_overlay(const Tensor& pixels, const Tensor& attribution) {
  EMBER_CHECK_SHAPE(pixels.dim() == 3, "attribution_overlay: expected pixels (C, H, W), got ",
                    pixels.shape_str());
  const int64_t h = pixels.size(1), w = pixels.size(2), plane = h * w;
  Tensor a = attribution.to(kFloat32).contiguous();
  EMBER_CHECK_SHAPE((a.dim() == 3 || a.dim() == 2) && a.size(-2) == h && a.size(-1) == w,
                    "attribution_overlay: attribution ", a.shape_str(),
                    " does not match the image ", pixels.shape_str());
  const Tensor p = pixels.to(kFloat32).contiguous();
  const int64_t pc = p.size(0), ac = a.dim() == 3 ? a.size(0) : 1;
  std::vector<float> sum(static_cast<size_t>(plane), 0.0f), gray(static_cast<size_t>(plane), 0.0f);
  for (int64_t c = 0; c < ac; ++c)
    for (int64_t i = 0; i < plane; ++i)
      sum[static_cast<size_t>(i)] += a.data_ptr<float>()[c * plane + i];
  for (int64_t c = 0; c < pc; ++c)
    for (int64_t i = 0; i < plane; ++i)
      gray[static_cast<size_t>(i)] += p.data_ptr<float>()[c * plane + i] / static_cast<float>(pc);
  std::vector<float> mags(sum.size());
  for (size_t i = 0; i < sum.size(); ++i) mags[i] = std::abs(sum[i]);
  std::vector<float> sorted = mags;
  const size_t k = static_cast<size_t>(0.99 * static_cast<double>(sorted.size() - 1));
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k), sorted.end());
  const float top = sorted[k] > 0 ? sorted[k] : 1.0f;
  Tensor out = detail::make_tensor({3, h, w}, kFloat32);
  float* o = out.data_ptr<float>();
  for (int64_t i = 0; i < plane; ++i) {
    const size_t u = static_cast<size_t>(i);
    const float alpha = std::min(mags[u] / top, 1.0f) * 0.85f;
    const float base = 0.25f + 0.5f * std::clamp(gray[u], 0.0f, 1.0f);  // a dimmed background
    const Rgb hot = sum[u] >= 0 ? Rgb{0.85f, 0.1f, 0.1f} : Rgb{0.1f, 0.3f, 0.9f};
    o[i] = base * (1 - alpha) + hot.r * alpha;
    o[plane + i] = base * (1 - alpha) + hot.g * alpha;
    o[2 * plane + i] = base * (1 - alpha) + hot.b * alpha;
  }
  return out;
}

}  // namespace ember::train
