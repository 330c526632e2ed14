// train/canvas, figures, report figures and the summary FLOPs of image models.
#include <gtest/gtest.h>

#include <filesystem>

#include "ember/data/image.h"
#include "ember/ember.h"
#include "ember/io/file.h"
#include "ember/models/vision.h"
#include "ember/train/canvas.h"
#include "ember/train/figures.h"
#include "ember/train/report.h"
#include "ember/train/summary.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using ember::testing::expect_error;
using train::Canvas;
using train::Rgb;
namespace fs = std::filesystem;

namespace {

fs::path fresh(const std::string& name) {
  return ember::testing::fresh_dir("train_figures", name);
}

// The color of pixel (x, y) of a (3, H, W) picture.
Rgb at(const Tensor& rgb, int64_t x, int64_t y) {
  auto v = [&](int64_t c) {
    return static_cast<float>(rgb.select(0, c).select(0, y).select(0, x).item());
  };
  return {v(0), v(1), v(2)};
}

void expect_color(const Tensor& rgb, int64_t x, int64_t y, Rgb want, float tol = 1e-6f) {
  const Rgb got = at(rgb, x, y);
  EXPECT_NEAR(got.r, want.r, tol) << "(" << x << ", " << y << ")";
  EXPECT_NEAR(got.g, want.g, tol) << "(" << x << ", " << y << ")";
  EXPECT_NEAR(got.b, want.b, tol) << "(" << x << ", " << y << ")";
}

constexpr Rgb kWhite{1, 1, 1}, kRed{1, 0, 0}, kBlue{0, 0, 1};

int64_t count(const std::string& s, const std::string& part) {
  int64_t n = 0;
  for (size_t i = s.find(part); i != std::string::npos; i = s.find(part, i + 1)) ++n;
  return n;
}

}  // namespace

TEST(TrainFigures, CanvasRectanglesAndClipping) {
  Canvas c(10, 8);
  EXPECT_EQ(c.width(), 10);
  EXPECT_EQ(c.height(), 8);
  c.fill_rect(2, 3, 4, 2, kRed);     // x 2..5, y 3..4
  c.fill_rect(-5, -5, 7, 6, kBlue);  // clipped to x 0..1, y 0
  c.fill_rect(50, 50, 3, 3, kBlue);  // entirely outside: nothing
  const Tensor t = c.to_tensor();
  EXPECT_EQ(t.shape(), (Shape{3, 8, 10}));
  expect_color(t, 2, 3, kRed);
  expect_color(t, 5, 4, kRed);
  expect_color(t, 6, 4, kWhite);
  expect_color(t, 2, 5, kWhite);
  expect_color(t, 1, 3, kWhite);
  expect_color(t, 0, 0, kBlue);
  expect_color(t, 1, 0, kBlue);
  expect_color(t, 2, 0, kWhite);
  expect_color(t, 0, 1, kWhite);

  Canvas r(9, 9);
  r.draw_rect(1, 1, 7, 7, kRed, 2);  // outline x, y in 1..7, two pixels thick
  const Tensor o = r.to_tensor();
  expect_color(o, 1, 1, kRed);
  expect_color(o, 2, 4, kRed);
  expect_color(o, 7, 4, kRed);
  expect_color(o, 4, 6, kRed);
  expect_color(o, 3, 3, kWhite);  // inside
  expect_color(o, 5, 5, kWhite);
  expect_color(o, 0, 0, kWhite);  // outside
  expect_color(o, 8, 8, kWhite);
  expect_error<Error>([] { Canvas(0, 5); }, {"Canvas", "0x5"});
}

TEST(TrainFigures, CanvasImagesAreScaledAndClamped) {
  Canvas c(6, 6, {0, 0, 0});
  const Tensor gray = reshape(tensor({0.0, 0.5, 1.0, 2.0}), {1, 2, 2});  // 2.0 clamps to 1
  c.draw_image(1, 1, gray, 2);
  const Tensor t = c.to_tensor();
  expect_color(t, 0, 0, {0, 0, 0});
  expect_color(t, 1, 1, {0, 0, 0});
  expect_color(t, 3, 2, {0.5, 0.5, 0.5});
  expect_color(t, 4, 1, {0.5, 0.5, 0.5});
  expect_color(t, 2, 3, {1, 1, 1});
  expect_color(t, 4, 4, {1, 1, 1});
  expect_color(t, 5, 5, {0, 0, 0});
  Canvas rgb(2, 1);
  rgb.draw_image(0, 0, reshape(tensor({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}), {3, 1, 2}));
  expect_color(rgb.to_tensor(), 0, 0, {0.1f, 0.3f, 0.5f});
  expect_color(rgb.to_tensor(), 1, 0, {0.2f, 0.4f, 0.6f});
  expect_error<ShapeError>(
      [&] {
        c.draw_image(0, 0, zeros({2, 2, 2}));
      },
      {"draw_image", "(2, 2, 2)"});
}

TEST(TrainFigures, CanvasTextDrawsInsideItsBox) {
  Canvas c(60, 30);
  const int64_t w = Canvas::text_width("Hi");
  EXPECT_GT(w, 0);
  EXPECT_EQ(Canvas::text_width("Hi", 3), 3 * w);
  EXPECT_GT(Canvas::text_width("Hello"), w);
  c.draw_text(10, 5, "Hi", kRed);
  const Tensor t = c.to_tensor();
  int64_t inside = 0, outside = 0;
  for (int64_t y = 0; y < 30; ++y)
    for (int64_t x = 0; x < 60; ++x) {
      const Rgb p = at(t, x, y);
      const bool red = p.r == 1 && p.g == 0 && p.b == 0;
      const bool white = p.r == 1 && p.g == 1 && p.b == 1;
      EXPECT_TRUE(red || white) << x << "," << y;
      const bool in_box = x >= 10 && x < 10 + w && y >= 5 && y < 5 + 12;
      (in_box ? inside : outside) += red;
    }
  EXPECT_GT(inside, 10);
  EXPECT_EQ(outside, 0);
  // At scale 2 the same text covers about four times the pixels.
  Canvas big(120, 60);
  big.draw_text(0, 0, "Hi", kRed, 2);
  const Tensor b = big.to_tensor();
  const std::vector<float> green = b.select(0, 1).contiguous().to_vector<float>();
  const int64_t big_red = std::count(green.begin(), green.end(), 0.0f);  // green 0: red pixels
  EXPECT_EQ(big_red, 4 * inside);
}

TEST(TrainFigures, SavedPngReadsBack) {
  const fs::path dir = fresh("png");
  Canvas c(7, 5);
  c.fill_rect(0, 0, 3, 5, {0.2f, 0.4f, 0.6f});
  c.save_png((dir / "c.png").string());
  const Tensor back = data::read_image((dir / "c.png").string());
  EXPECT_EQ(back.shape(), (Shape{3, 5, 7}));
  expect_color(back, 1, 2, {51 / 255.0f, 102 / 255.0f, 153 / 255.0f});
  expect_color(back, 5, 2, kWhite);
}

TEST(TrainFigures, PredictionGridPng) {
  const fs::path dir = fresh("grid");
  std::vector<train::GridItem> items;
  for (int i = 0; i < 5; ++i)
    items.push_back({full({1, 28, 28}, 0.1 * i), "Sneaker", i == 0 ? "Sandal" : "Sneaker"});
  const std::string png = (dir / "grid.png").string();
  train::prediction_grid_png(png, items, 3);
  const Tensor img = data::read_image(png, 3);
  // 28 px images zoomed 3x (84 px) in cells 108 x 124, 3 columns x 2 rows, 4 px margins.
  EXPECT_EQ(img.shape(), (Shape{3, 2 * 124 + 8, 3 * 108 + 8}));
  // The mistake (item 0) has a red frame left of its image; the correct item 1 does not.
  const Rgb frame = at(img, 4 + 12 - 2, 4 + 20);
  EXPECT_GT(frame.r, 0.7f);
  EXPECT_LT(frame.g, 0.3f);
  expect_color(img, 4 + 108 + 12 - 2, 4 + 20, kWhite);
  // Item 1's image (value 0.1) is drawn at its cell's center.
  expect_color(img, 4 + 108 + 12 + 40, 4 + 4 + 40, {26 / 255.0f, 26 / 255.0f, 26 / 255.0f});
  expect_error<Error>([&] { train::prediction_grid_png(png, {}, 3); }, {"grid.png"});
}

TEST(TrainFigures, AttributionPng) {
  const fs::path dir = fresh("attribution");
  const Tensor pixels = rand({1, 28, 28});
  Tensor sal = zeros({1, 28, 28});
  sal.narrow(1, 0, 14).fill_(1.0);    // top half positive
  sal.narrow(1, 14, 14).fill_(-1.0);  // bottom half negative
  const std::string png = (dir / "a.png").string();
  train::attribution_png(png, pixels, sal, randn({1, 28, 28}), "test-3: explaining 'Bag'");
  const Tensor img = data::read_image(png, 3);
  // Zoom 256 / 28 = 9: panels of 252 px, 16 px gaps; 70 px for titles and the caption.
  EXPECT_EQ(img.shape(), (Shape{3, 252 + 70, 3 * 252 + 4 * 16}));
  // The saliency panel: red over the top half, blue over the bottom half.
  const Rgb top = at(img, 16 + 252 + 16 + 100, 40 + 20),
            bottom = at(img, 16 + 252 + 16 + 100, 40 + 240);
  EXPECT_GT(top.r, top.b + 0.3f);
  EXPECT_GT(bottom.b, bottom.r + 0.3f);

  const Tensor overlay = train::attribution_overlay(pixels, sal.squeeze(0));
  EXPECT_EQ(overlay.shape(), (Shape{3, 28, 28}));
  const Tensor none = train::attribution_overlay(pixels, zeros({28, 28}));
  const Rgb g = at(none, 5, 5);  // no attribution: the dimmed gray image
  EXPECT_FLOAT_EQ(g.r, g.g);
  EXPECT_FLOAT_EQ(g.g, g.b);
  EXPECT_NEAR(g.r, 0.25 + 0.5 * pixels.select(0, 0).select(0, 5).select(0, 5).item(), 1e-6);
  expect_error<ShapeError>(
      [&] {
        train::attribution_overlay(pixels, zeros({1, 28, 27}));
      },
      {"attribution_overlay", "(1, 28, 27)", "(1, 28, 28)"});
}

TEST(TrainFigures, AddReportFigure) {
  const fs::path dir = fresh("report");
  const std::string html = (dir / "report.html").string();
  train::Report r;
  r.title = "fmnist";
  r.final_metrics = {{"test_accuracy", 0.9}};
  train::write_report(html, r);
  Canvas c(4, 4);
  const std::string png = (dir / "fig.png").string();
  c.save_png(png);
  const std::string before = io::read_file(html);
  EXPECT_EQ(count(before, "Explanations"), 0);

  train::add_report_figure(html, "test-3: explaining <Bag>", png);
  train::add_report_figure(html, "test-4: explaining 'Coat'", png);
  const std::string after = io::read_file(html);
  EXPECT_EQ(count(after, "<h2>Explanations</h2>"), 1);
  EXPECT_EQ(count(after, "data:image/png;base64,"), 2);
  const size_t first = after.find("test-3: explaining &lt;Bag&gt;");
  const size_t second = after.find("test-4: explaining &#39;Coat&#39;");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(first, second);
  EXPECT_GT(first, after.find("<h2>Explanations</h2>"));
  EXPECT_TRUE(after.ends_with("</html>\n")) << after.substr(after.size() - 40);
  // Both figures sit inside the one grid of the section.
  const size_t grid = after.find("<div class=\"grid\">", after.find("<h2>Explanations</h2>"));
  const size_t grid_end = after.find("</div>", grid);
  EXPECT_LT(second, grid_end);

  const std::string other = (dir / "other.html").string();
  io::write_file_atomic(other, "<html><body>hand written</body></html>\n");
  expect_error<IOError>([&] { train::add_report_figure(other, "x", png); },
                        {"other.html", "marker"});
  expect_error<IOError>([&] { train::add_report_figure((dir / "none.html").string(), "x", png); },
                        {"none.html"});
  expect_error<IOError>([&] { train::add_report_figure(html, "x", html); },
                        {"report.html", "not a PNG"});
}

TEST(TrainFigures, SummaryFlopsOfImageModels) {
  const std::string data = fresh("data").string();
  const train::TrainConfig cfg = train::load_train_config(
      std::string(EMBER_SOURCE_DIR) + "/examples/fmnist_cnn.toml", {"data.path=" + data});
  auto cnn = models::build_model(cfg.model, {1, 28, 28}, 10);
  const train::ModelSummary s = train::summarize(*cnn, {1, 28, 28}, 128, "adam");
  EXPECT_EQ(s.total_params, 421642);
  // conv 476,672 + relu 25,088 + pool 25,088 + conv 7,237,888 + relu 12,544 + pool 12,544
  // + linear 802,944 + relu 128 + linear 2,570.
  EXPECT_EQ(s.flops_per_sample, 8595466);
  ASSERT_EQ(s.layers.size(), 10u);
  EXPECT_EQ(s.layers[0].flops, 476672);
  EXPECT_EQ(s.layers[0].output_shape, (std::vector<int64_t>{32, 28, 28}));
  EXPECT_EQ(s.layers[2].flops, 25088);
  EXPECT_EQ(s.layers[3].flops, 7237888);
  EXPECT_EQ(s.layers[6].output_shape, (std::vector<int64_t>{3136}));
  EXPECT_NE(train::format_summary(s).find("8,595,466"), std::string::npos);

  // A BasicBlock (4 -> 8, stride 2) on (4, 8, 8): every part outputs (8, 4, 4) = 128 elements.
  // conv1 2*4*9*128 = 9,216; conv2 2*8*9*128 = 18,432; 1x1 downsample 2*4*128 = 1,024;
  // three batch norms 3 * 5 * 128 = 1,920; two ReLUs and the sum 3 * 128 = 384.
  nn::Sequential block;
  block.push_back(std::make_shared<models::BasicBlock>(4, 8, 2));
  const train::ModelSummary b = train::summarize(block, {4, 8, 8}, 1, "sgd");
  ASSERT_EQ(b.layers.size(), 1u);
  EXPECT_EQ(b.layers[0].type, "BasicBlock");
  EXPECT_EQ(b.layers[0].output_shape, (std::vector<int64_t>{8, 4, 4}));
  EXPECT_EQ(b.layers[0].flops, 9216 + 18432 + 1024 + 1920 + 384);
  EXPECT_EQ(b.layers[0].params, 4 * 8 * 9 + 8 * 8 * 9 + 4 * 8 + 3 * 2 * 8);
  // Without downsample: (3 -> 3) on (3, 5, 5), 75 elements.
  nn::Sequential same;
  same.push_back(std::make_shared<models::BasicBlock>(3, 3, 1));
  EXPECT_EQ(train::summarize(same, {3, 5, 5}, 1, "sgd").flops_per_sample,
            2 * (2 * 3 * 9 * 75) + 2 * 5 * 75 + 3 * 75);
  // Pools and adaptive pooling: kH kW and 1 per output element.
  nn::Sequential pools;
  pools.push_back(std::make_shared<nn::MaxPool2d>(Shape{2}));
  pools.push_back(std::make_shared<nn::AvgPool2d>(Shape{3}, Shape{1}));
  pools.push_back(std::make_shared<nn::AdaptiveAvgPool2d>(Shape{1}));
  const train::ModelSummary p = train::summarize(pools, {2, 8, 8}, 1, "sgd");
  EXPECT_EQ(p.layers[0].flops, 4 * 2 * 4 * 4);
  EXPECT_EQ(p.layers[1].flops, 9 * 2 * 2 * 2);
  EXPECT_EQ(p.layers[2].flops, 2);
}
