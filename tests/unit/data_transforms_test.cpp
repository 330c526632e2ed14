// Augmentation transforms: invariants, exact cases, seeded determinism, PyTorch resize values.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "ember/data/transforms.h"
#include "ember/ops/creation.h"
#include "support/expect.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;

namespace {

// x: (c, h, w) with x[k, y, x] = 100k + 10y + x (distinct values).
Tensor grid(int64_t c, int64_t h, int64_t w) {
  std::vector<float> v(static_cast<size_t>(c * h * w));
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) v[(k * h + y) * w + x] = 100.0f * k + 10.0f * y + x;
  return from_vector(v, {c, h, w});
}

float at(const Tensor& t, int64_t k, int64_t y, int64_t x) {
  return t.at<float>({k, y, x});
}

std::vector<float> values(const Tensor& t) {
  return t.to_vector<float>();
}

}  // namespace

TEST(DataTransforms, HorizontalFlip) {
  const Tensor x = grid(2, 3, 4);
  Generator gen(1);
  RandomHorizontalFlip always(1.0), never(0.0);
  const Tensor f = always.apply(x, gen);
  EXPECT_EQ(f.shape(), x.shape());
  EXPECT_EQ(at(f, 1, 2, 0), at(x, 1, 2, 3));
  EXPECT_EQ(at(f, 0, 1, 1), at(x, 0, 1, 2));
  EXPECT_EQ(values(always.apply(f, gen)), values(x));  // twice = identity
  EXPECT_EQ(values(never.apply(x, gen)), values(x));
  // p = 0.5 flips about half the time.
  RandomHorizontalFlip half;
  int flips = 0;
  for (int i = 0; i < 400; ++i) flips += values(half.apply(x, gen)) != values(x);
  EXPECT_GT(flips, 150);
  EXPECT_LT(flips, 250);
  EXPECT_EQ(half.repr(), "RandomHorizontalFlip(p=0.5)");
  expect_error<ValueError>([] { RandomHorizontalFlip(1.5); }, {"p must be in [0, 1]; got 1.5"});
}

TEST(DataTransforms, RotationExactCases) {
  const Tensor x = grid(2, 4, 4);
  Generator gen(2);
  EXPECT_EQ(values(RandomRotation(0.0).apply(x, gen)), values(x));  // rotation by 0 = identity
  // 90 degrees counter-clockwise of a square is an exact permutation: out[y][x] = in[x][W-1-y].
  const Tensor r = RandomRotation(90, 90, 0).apply(x, gen);
  for (int64_t k = 0; k < 2; ++k)
    for (int64_t y = 0; y < 4; ++y)
      for (int64_t xx = 0; xx < 4; ++xx) EXPECT_EQ(at(r, k, y, xx), at(x, k, xx, 3 - y));
  // Four quarter turns come back; 180 degrees flips both axes.
  Tensor t = x;
  for (int i = 0; i < 4; ++i) t = RandomRotation(90, 90, 0).apply(t, gen);
  EXPECT_EQ(values(t), values(x));
  const Tensor half = RandomRotation(180, 180, 0).apply(x, gen);
  EXPECT_EQ(at(half, 1, 0, 0), at(x, 1, 3, 3));
  // A non-square image rotated by 90 loses corners to fill.
  const Tensor wide = RandomRotation(90, 90, -1.0f).apply(grid(1, 2, 4), gen);
  EXPECT_EQ(at(wide, 0, 0, 0), -1.0f);
  // Small rotations keep the center pixel of an odd image and the value range of a constant image.
  const Tensor ones = from_vector(std::vector<float>(25, 1.0f), {1, 5, 5});
  const Tensor rot = RandomRotation(30.0, 1.0f).apply(ones, gen);
  for (float v : values(rot)) EXPECT_NEAR(v, 1.0f, 1e-6f);
  expect_error<ValueError>([] { RandomRotation(-1.0); }, {"degrees must be >= 0"});
}

TEST(DataTransforms, AffineTranslationAndScale) {
  const Tensor x = grid(1, 5, 6);
  // Translation alone is a whole-pixel shift with fill at the border.
  RandomAffine shift(0, {0.5, 0.5}, {1, 1}, -7.0f);
  Generator gen(3);
  bool moved = false;
  for (int trial = 0; trial < 20; ++trial) {
    const Tensor s = shift.apply(x, gen);
    // Find the shift from the pixel that holds x[2][2].
    int64_t dy = 99, dx = 99;
    for (int64_t y = 0; y < 5; ++y)
      for (int64_t xx = 0; xx < 6; ++xx)
        if (at(s, 0, y, xx) == at(x, 0, 2, 2)) dy = y - 2, dx = xx - 2;
    if (dy == 99) continue;  // shifted out of view
    moved = moved || dx != 0 || dy != 0;
    EXPECT_LE(std::abs(dx), 3);
    EXPECT_LE(std::abs(dy), 3);  // round(0.5 * 5)
    for (int64_t y = 0; y < 5; ++y)
      for (int64_t xx = 0; xx < 6; ++xx) {
        const int64_t sy = y - dy, sx = xx - dx;
        const bool inside = sy >= 0 && sy < 5 && sx >= 0 && sx < 6;
        EXPECT_EQ(at(s, 0, y, xx), inside ? at(x, 0, sy, sx) : -7.0f);
      }
  }
  EXPECT_TRUE(moved);
  // Scale alone by exactly 1 is the identity; scaling a constant image up keeps it constant.
  EXPECT_EQ(values(RandomAffine(0, {0, 0}, {1, 1}).apply(x, gen)), values(x));
  const Tensor ones = from_vector(std::vector<float>(30, 2.0f), {1, 5, 6});
  for (float v : values(RandomAffine(0, {0, 0}, {1.5, 2.0}).apply(ones, gen))) EXPECT_EQ(v, 2.0f);
  expect_error<ValueError>(
      [] {
        RandomAffine(0, {1.5, 0});
      },
      {"translate fractions must be in [0, 1]"});
  expect_error<ValueError>([] { RandomAffine(0, {0, 0}, {0, 1}); }, {"scale", "min > 0"});
}

TEST(DataTransforms, ResizeMatchesPyTorchBilinear) {
  // torch.nn.functional.interpolate(x, size, mode="bilinear", align_corners=False) on
  // x = arange(12).view(1, 1, 3, 4) * 1.5 (values from PyTorch 1.13).
  std::vector<float> v(12);
  for (int i = 0; i < 12; ++i) v[i] = 1.5f * i;
  const Tensor x = from_vector(v, {1, 3, 4});
  ember::testing::expect_values(resize_bilinear(x, 5, 3),
                                {0.25, 2.25, 4.25, 2.65, 4.65, 6.65, 6.25, 8.25, 10.25, 9.85, 11.85,
                                 13.85, 12.25, 14.25, 16.25},
                                1e-5);
  ember::testing::expect_values(resize_bilinear(x, 2, 2), {2.25, 5.25, 11.25, 14.25}, 1e-5);
  EXPECT_EQ(values(resize_bilinear(x, 3, 4)), v);  // same size: identity
  Generator gen;
  EXPECT_EQ(Resize(2, 2).apply(x, gen).shape(), (Shape{1, 2, 2}));
}

TEST(DataTransforms, RandomResizedCrop) {
  const Tensor x = grid(3, 20, 30);
  RandomResizedCrop crop(8, 8);
  Generator gen(4);
  for (int i = 0; i < 20; ++i) {
    const Tensor c = crop.apply(x, gen);
    EXPECT_EQ(c.shape(), (Shape{3, 8, 8}));
    for (float val : values(c)) {  // interpolated within the input's range
      EXPECT_GE(val, 0.0f);
      EXPECT_LE(val, 419.0f);
    }
  }
  // scale = ratio = 1 on a square input: the whole image, resized.
  const Tensor sq = grid(1, 6, 6);
  EXPECT_EQ(values(RandomResizedCrop(6, 6, {1, 1}, {1, 1}).apply(sq, gen)), values(sq));
  // Impossible ratios fall back to the clamped center crop: a 6x6 crop of a 6x12 image, centered.
  const Tensor wide = grid(1, 6, 12);
  const Tensor center = RandomResizedCrop(6, 6, {1, 1}, {1, 1}).apply(wide, gen);
  EXPECT_EQ(at(center, 0, 0, 0), at(wide, 0, 0, 3));
  EXPECT_EQ(at(center, 0, 5, 5), at(wide, 0, 5, 8));
  expect_error<ValueError>([] { RandomResizedCrop(0, 4); }, {"height and width must be > 0"});
  expect_error<ValueError>([] { RandomResizedCrop(4, 4, {0.5, 0.1}); }, {"scale", "min <= max"});
}

TEST(DataTransforms, RandomCropWithPadding) {
  const Tensor x = grid(2, 5, 5);
  Generator gen(5);
  RandomCrop crop(5, 5, 2, -1.0f);
  std::set<std::pair<int64_t, int64_t>> offsets;
  for (int i = 0; i < 200; ++i) {
    const Tensor c = crop.apply(x, gen);
    ASSERT_EQ(c.shape(), (Shape{2, 5, 5}));
    // Locate x[0][0][0] = 0 (or infer the offset from the fill pattern) and check the copy.
    int64_t oy = -99, ox = -99;
    for (int64_t dy = -2; dy <= 2; ++dy)
      for (int64_t dx = -2; dx <= 2; ++dx) {
        bool ok = true;
        for (int64_t y = 0; y < 5 && ok; ++y)
          for (int64_t xx = 0; xx < 5 && ok; ++xx) {
            const int64_t sy = y + dy, sx = xx + dx;
            const bool in = sy >= 0 && sy < 5 && sx >= 0 && sx < 5;
            ok = at(c, 1, y, xx) == (in ? at(x, 1, sy, sx) : -1.0f);
          }
        if (ok) oy = dy, ox = dx;
      }
    ASSERT_NE(oy, -99) << "crop is not a shifted copy";
    offsets.insert({oy, ox});
  }
  EXPECT_EQ(offsets.size(), 25u);  // every offset in [-2, 2]^2 occurs
  Generator g2(5);
  EXPECT_EQ(RandomCrop(5, 5).apply(x, g2).to_vector<float>(), values(x));
  expect_error<ShapeError>([&] { RandomCrop(8, 8, 1).apply(x, g2); },
                           {"crop size 8x8 is larger than the padded input 7x7"});
}

TEST(DataTransforms, RandomErasingFillsARectangle) {
  const Tensor x = grid(3, 10, 12);
  Generator gen(6);
  RandomErasing erase(1.0, {0.02, 0.33}, {0.3, 3.3}, -5.0f);
  int erased_total = 0;
  for (int i = 0; i < 50; ++i) {
    const Tensor e = erase.apply(x, gen);
    int64_t y0 = 99, y1 = -1, x0 = 99, x1 = -1, count = 0;
    for (int64_t y = 0; y < 10; ++y)
      for (int64_t xx = 0; xx < 12; ++xx)
        if (at(e, 0, y, xx) == -5.0f) {
          ++count;
          y0 = std::min(y0, y), y1 = std::max(y1, y), x0 = std::min(x0, xx), x1 = std::max(x1, xx);
        }
    if (count == 0) continue;
    ++erased_total;
    EXPECT_EQ(count, (y1 - y0 + 1) * (x1 - x0 + 1)) << "not a rectangle";
    for (int64_t k = 0; k < 3; ++k)
      for (int64_t y = 0; y < 10; ++y)
        for (int64_t xx = 0; xx < 12; ++xx) {
          const bool in = y >= y0 && y <= y1 && xx >= x0 && xx <= x1;
          EXPECT_EQ(at(e, k, y, xx), in ? -5.0f : at(x, k, y, xx));
        }
  }
  EXPECT_GT(erased_total, 40);
  EXPECT_EQ(values(RandomErasing(0.0).apply(x, gen)), values(x));
  expect_error<ValueError>([] { RandomErasing(0.5, {0.1, 2.0}); }, {"scale must be within [0, 1]"});
}

TEST(DataTransforms, NormalizeMatchesFormula) {
  const Tensor x = grid(2, 2, 3);
  Generator gen;
  const Tensor n = Normalize({1.0, 50.0}, {2.0, 4.0}).apply(x, gen);
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t xx = 0; xx < 3; ++xx) {
      EXPECT_FLOAT_EQ(at(n, 0, y, xx), (at(x, 0, y, xx) - 1.0f) / 2.0f);
      EXPECT_FLOAT_EQ(at(n, 1, y, xx), (at(x, 1, y, xx) - 50.0f) / 4.0f);
    }
  const Tensor one = Normalize({0.5}, {0.25}).apply(x, gen);
  EXPECT_FLOAT_EQ(at(one, 1, 1, 2), (at(x, 1, 1, 2) - 0.5f) / 0.25f);
  expect_error<ShapeError>(
      [&] {
        Normalize({0, 0, 0}, {1, 1, 1}).apply(x, gen);
      },
      {"3 means/stds for a sample with 2 channels"});
  expect_error<ValueError>([] { Normalize({0}, {0}); }, {"std must be finite and non-zero"});
  expect_error<ValueError>([] { Normalize({0, 1}, {1}); }, {"2 means and 1 stds"});
  expect_error<ShapeError>(
      [&] {
        Normalize({0}, {1}).apply(zeros({2, 3}), gen);
      },
      {"expected a (C, H, W) sample; got shape (2, 3)"});
  expect_error<DTypeError>(
      [&] {
        Normalize({0}, {1}).apply(zeros({1, 2, 3}, kFloat64), gen);
      },
      {"expected a float32 sample"});
}

TEST(DataTransforms, ComposeIsSeededAndDeterministic) {
  const TransformPtr pipeline = std::make_shared<Compose>(std::vector<TransformPtr>{
      std::make_shared<RandomResizedCrop>(6, 6), std::make_shared<RandomHorizontalFlip>(),
      std::make_shared<RandomAffine>(15, std::pair{0.1, 0.1}, std::pair{0.9, 1.1}),
      std::make_shared<RandomCrop>(6, 6, 1),
      std::make_shared<Normalize>(std::vector{0.5}, std::vector{0.25}),
      std::make_shared<RandomErasing>()});
  const Tensor x = grid(1, 9, 9);
  Generator a(42), b(42), c(43);
  const std::vector<float> ya = values(pipeline->apply(x, a));
  EXPECT_EQ(values(pipeline->apply(x, b)), ya);
  EXPECT_NE(values(pipeline->apply(x, c)), ya);
  EXPECT_NE(values(pipeline->apply(x, a)), ya);  // the generator moved on
  EXPECT_EQ(pipeline->apply(x, a).shape(), (Shape{1, 6, 6}));
  EXPECT_EQ(values(x), values(grid(1, 9, 9)));  // input untouched
  EXPECT_TRUE(pipeline->repr().starts_with("Compose(RandomResizedCrop(size=(6, 6)"))
      << pipeline->repr();
  expect_error<ValueError>([] { Compose({nullptr}); }, {"transform 0 is null"});
}
