// Figures made of images, drawn on a Canvas: prediction grids and attribution panels.
#include "ember/train/figures.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "ember/core/error.h"
#include "ember/train/canvas.h"

namespace ember::train {

namespace {

constexpr Rgb kText{0.13f, 0.13f, 0.13f}, kWrong{0.84f, 0.15f, 0.16f}, kRight{0.17f, 0.55f, 0.17f};

// Image magnification that makes the longer side about `target` pixels (at least 1).
int64_t zoom_for(const Tensor& pixels, int64_t target) {
  return std::max<int64_t>(1, target / std::max(pixels.size(1), pixels.size(2)));
}

// Shortens text to fit max_width pixels at scale 1, ending it with "..".
std::string fit_text(std::string text, int64_t max_width) {
  while (text.size() > 3 && Canvas::text_width(text) > max_width)
    text = text.substr(0, text.size() - 3) + "..";
  return text;
}

}  // namespace

void prediction_grid_png(const std::string& png, const std::vector<GridItem>& items,
                         int64_t columns) {
  EMBER_CHECK(!items.empty() && columns >= 1, png,
              ": prediction grid needs at least one image and one column");
  const int64_t zoom = zoom_for(items[0].pixels, 84);
  const int64_t img_w = items[0].pixels.size(2) * zoom, img_h = items[0].pixels.size(1) * zoom;
  const int64_t cell_w = std::max<int64_t>(img_w, 96) + 12, cell_h = img_h + 40;
  const int64_t cols = std::min<int64_t>(columns, static_cast<int64_t>(items.size()));
  const int64_t rows = (static_cast<int64_t>(items.size()) + cols - 1) / cols;
  Canvas canvas(cols * cell_w + 8, rows * cell_h + 8);
  for (size_t i = 0; i < items.size(); ++i) {
    const GridItem& it = items[i];
    const int64_t x = 4 + static_cast<int64_t>(i) % cols * cell_w;
    const int64_t y = 4 + static_cast<int64_t>(i) / cols * cell_h;
    const bool wrong = it.predicted != it.truth;
    const int64_t ix = x + (cell_w - img_w) / 2;
    canvas.draw_image(ix, y + 4, it.pixels, zoom);
    if (wrong) canvas.draw_rect(ix - 3, y + 1, img_w + 6, img_h + 6, kWrong, 3);
    canvas.draw_text(x + 4, y + img_h + 10, fit_text("pred: " + it.predicted, cell_w - 8),
                     wrong ? kWrong : kRight);
    canvas.draw_text(x + 4, y + img_h + 23, fit_text("true: " + it.truth, cell_w - 8), kText);
  }
  canvas.save_png(png);
}

void attribution_png(const std::string& png, const Tensor& pixels, const Tensor& saliency,
                     const Tensor& ig, const std::string& caption) {
  const int64_t zoom = zoom_for(pixels, 256);
  const int64_t w = pixels.size(2) * zoom, h = pixels.size(1) * zoom, gap = 16;
  Canvas canvas(3 * w + 4 * gap, h + 70);
  const Tensor panels[] = {pixels, attribution_overlay(pixels, saliency),
                           attribution_overlay(pixels, ig)};
  const char* titles[] = {"input", "gradient x input", "integrated gradients"};
  for (int k = 0; k < 3; ++k) {
    const int64_t x = gap + k * (w + gap);
    canvas.draw_text(x, 10, titles[k], kText, 2);
    canvas.draw_image(x, 40, panels[k], zoom);
  }
  canvas.draw_text(gap, h + 50, fit_text(caption, 3 * w + 2 * gap), kText);
  canvas.save_png(png);
}

void token_attribution_png(const std::string& png, const std::vector<std::string>& tokens,
                           const std::vector<double>& scores, const std::string& caption) {
  EMBER_CHECK(!tokens.empty() && tokens.size() == scores.size(), png, ": ", tokens.size(),
              " tokens and ", scores.size(), " scores; need as many of each, at least one");
  constexpr int64_t kScale = 2, kWidth = 1000, kMargin = 16, kLine = 34;
  double top = 0;
  for (double v : scores) top = std::max(top, std::abs(v));
  if (top == 0) top = 1;
  // Lay the tokens out left to right, wrapping before a token that would cross the right margin.
  std::vector<std::array<int64_t, 3>> at;  // x, y, width of each token
  int64_t x = kMargin, y = kMargin + 30;
  for (const std::string& t : tokens) {
    const int64_t w = Canvas::text_width(t, kScale) + 4;
    if (x + w > kWidth - kMargin && x > kMargin) {
      x = kMargin;
      y += kLine;
    }
    at.push_back({x, y, w});
    x += w;
  }
  Canvas canvas(kWidth, y + kLine + kMargin);
  canvas.draw_text(kMargin, kMargin, fit_text(caption, kWidth - 2 * kMargin), kText);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const auto alpha = static_cast<float>(std::min(std::abs(scores[i]) / top, 1.0));
    const Rgb hot = scores[i] >= 0 ? Rgb{0.9f, 0.2f, 0.2f} : Rgb{0.2f, 0.4f, 0.95f};
    const Rgb bg{1 - alpha * (1 - hot.r), 1 - alpha * (1 - hot.g), 1 - alpha * (1 - hot.b)};
    canvas.fill_rect(at[i][0], at[i][1] - 4, at[i][2], kLine - 6, bg);
    canvas.draw_text(at[i][0] + 2, at[i][1], tokens[i], kText, kScale);
  }
  canvas.save_png(png);
}

}  // namespace ember::train
