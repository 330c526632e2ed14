// Plots: valid PNG files of the expected size, inputs that change the image, silence, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <thread>

#include "ember/ember.h"
#include "ember/train/plot.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using namespace ember::train;
using ember::testing::expect_error;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  return ember::testing::fresh_dir("train_plot", name);
}

uint32_t big_endian(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
  return v;
}

// Checks the PNG signature and the IHDR chunk's width and height; returns the bytes.
std::string expect_png(const fs::path& path, uint32_t width, uint32_t height) {
  EXPECT_TRUE(fs::exists(path)) << path;
  const std::string b = io::read_file(path.string());
  EXPECT_GT(b.size(), 1000u);
  EXPECT_EQ(b.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(b.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian(b, 16), width);
  EXPECT_EQ(big_endian(b, 20), height);
  return b;
}

// A decaying training curve of n steps and a validation curve every 10 steps.
std::vector<Series> curves(int n, double scale) {
  Series train{"train_loss", {}, {}}, val{"val_loss", {}, {}};
  for (int i = 1; i <= n; ++i) {
    train.x.push_back(i);
    train.y.push_back(scale * std::exp(-i / 20.0) + 0.01);
    if (i % 10 != 0) continue;
    val.x.push_back(i);
    val.y.push_back(scale * std::exp(-i / 25.0) + 0.02);
  }
  return {train, val};
}

const std::vector<std::string> kIris = {"setosa", "versicolor", "virginica"};

}  // namespace

TEST(TrainPlot, LinePlotWritesPng) {
  const fs::path dir = fresh_dir("line");
  line_plot((dir / "a.png").string(), "loss", "step", "loss", curves(100, 2.0));
  line_plot((dir / "b.png").string(), "loss", "step", "loss", curves(100, 3.0));
  line_plot((dir / "log.png").string(), "loss", "step", "loss", curves(100, 2.0), true);
  const std::string a = expect_png(dir / "a.png", 900, 600);
  const std::string b = expect_png(dir / "b.png", 900, 600);
  const std::string log = expect_png(dir / "log.png", 900, 600);
  EXPECT_NE(a, b);
  EXPECT_NE(a, log);
  // Gaps (NaN), a lone point and a series without a label draw fine.
  Series gappy{"", {1, 2, 3, 4, 5}, {1, NAN, 2, NAN, 3}};
  line_plot((dir / "gaps.png").string(), "gaps", "x", "y", {gappy});
  expect_png(dir / "gaps.png", 900, 600);
  // Only the PNGs are left in the directory (no temporary files).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 4);
}

TEST(TrainPlot, ScatterAndHeatmapWritePng) {
  const fs::path dir = fresh_dir("scatter_heatmap");
  Series points{"predictions", {}, {}};
  for (int i = 0; i < 200; ++i) {
    points.x.push_back(i * 0.1);
    points.y.push_back(i * 0.1 + std::sin(i));
  }
  Series fit{"fit", {0, 20}, {0.5, 19.5}};
  scatter_plot((dir / "s1.png").string(), "pred vs true", "true", "predicted", points);
  scatter_plot((dir / "s2.png").string(), "pred vs true", "true", "predicted", points, &fit, true);
  EXPECT_NE(expect_png(dir / "s1.png", 900, 600), expect_png(dir / "s2.png", 900, 600));

  heatmap((dir / "h1.png").string(), "confusion", {{50, 0, 0}, {0, 47, 3}, {0, 2, 48}}, kIris,
          kIris, "predicted", "true");
  heatmap((dir / "h2.png").string(), "confusion", {{50, 0, 0}, {0, 40, 10}, {0, 2, 48}}, kIris,
          kIris, "predicted", "true");
  heatmap((dir / "h3.png").string(), "rates", {{0.25, NAN}, {0.5, 1}}, {"a", "b"}, {"c", "d"}, "x",
          "y");
  EXPECT_NE(expect_png(dir / "h1.png", 760, 680), expect_png(dir / "h2.png", 760, 680));
  expect_png(dir / "h3.png", 760, 680);
}

TEST(TrainPlot, PrintsNothing) {
  const fs::path dir = fresh_dir("quiet");
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  line_plot((dir / "a.png").string(), "t", "x", "y", curves(30, 1.0), true);
  heatmap((dir / "b.png").string(), "t", {{1, 2}, {3, 4}}, {"a", "b"}, {"a", "b"}, "x", "y");
  EXPECT_THROW(line_plot((dir / "no/such/dir.png").string(), "t", "x", "y", curves(30, 1.0)),
               IOError);
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");
}

TEST(TrainPlot, ConcurrentCallsAreSerialized) {
  const fs::path dir = fresh_dir("threads");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&dir, t] {
      line_plot((dir / (std::to_string(t) + ".png")).string(), "t", "x", "y", curves(50, 1.0 + t));
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 4; ++t) expect_png(dir / (std::to_string(t) + ".png"), 900, 600);
}

TEST(TrainPlot, Errors) {
  const fs::path dir = fresh_dir("errors");
  const std::string png = (dir / "p.png").string();
  expect_error<IOError>(
      [] { line_plot("/nonexistent-ember-dir/p.png", "t", "x", "y", curves(20, 1)); },
      {"/nonexistent-ember-dir/p.png"});
  expect_error<ValueError>([&] { line_plot(png, "t", "x", "y", {}); },
                           {png, "at least one series"});
  expect_error<ValueError>(
      [&] {
        line_plot(png, "t", "x", "y", {{"loss", {1, 2}, {1}}});
      },
      {png, "'loss'", "2 x values but 1 y values"});
  expect_error<ValueError>(
      [&] {
        line_plot(png, "t", "x", "y", {{"loss", {1, 2}, {NAN, NAN}}});
      },
      {png, "no finite points"});
  expect_error<ValueError>(
      [&] {
        line_plot(png, "t", "x", "y", {{"d", {1, 2}, {0, -1}}}, true);
      },
      {png, "log axis"});
  Series empty{"p", {}, {}};
  expect_error<ValueError>([&] { scatter_plot(png, "t", "x", "y", empty); }, {png, "no finite"});
  Series bad_line{"fit", {1}, {}};
  expect_error<ValueError>(
      [&] {
        scatter_plot(png, "t", "x", "y", {"p", {1}, {1}}, &bad_line);
      },
      {png, "'fit'"});
  expect_error<ValueError>([&] { heatmap(png, "t", {}, {}, {}, "x", "y"); }, {png, "one row"});
  expect_error<ValueError>(
      [&] {
        heatmap(png, "t", {{1, 2}, {3}}, {"a", "b"}, {"a", "b"}, "x", "y");
      },
      {png, "row 1 has 1 values"});
  expect_error<ValueError>(
      [&] {
        heatmap(png, "t", {{1, 2}}, {"a", "b"}, {"a", "b"}, "x", "y");
      },
      {png, "2 row labels"});
  EXPECT_FALSE(fs::exists(png));
  EXPECT_TRUE(fs::is_empty(dir));
}
