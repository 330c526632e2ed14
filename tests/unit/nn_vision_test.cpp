// Vision ops and modules: error messages for bad shapes and options, and small hand-checked
// values (unit tests without libtorch).
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;
using ember::testing::expect_values;

TEST(NnVision, PoolingValuesByHand) {
  const Tensor x = reshape(arange(16.0, kFloat32), {1, 1, 4, 4});
  expect_values(max_pool2d(x, {2}), {5, 7, 13, 15});
  auto [v, idx] = max_pool2d_with_indices(x, {2});
  EXPECT_EQ(idx.to_vector<int64_t>(), (std::vector<int64_t>{5, 7, 13, 15}));
  expect_values(avg_pool2d(x, {2}), {2.5, 4.5, 10.5, 12.5});
  expect_values(adaptive_avg_pool2d(x, {1}), {7.5});
  // Padding counted (default) or not: the corner window covers x[0,0] only.
  expect_values(avg_pool2d(x, {2}, {2}, {1}).narrow(2, 0, 1).narrow(3, 0, 1), {0.0});
  expect_values(avg_pool2d(x, {3}, {3}, {1}, false, false).narrow(3, 0, 1).narrow(2, 0, 1),
                {(0 + 1 + 4 + 5) / 4.0});
  expect_values(pad(tensor({{1, 2, 3}}), {2, 1}, "reflect"), {3, 2, 1, 2, 3, 2});
  expect_values(pad(tensor({1, 2, 3}), {1, -1}, "constant", 7), {7, 1, 2});
  expect_values(interpolate(reshape(tensor({1, 2}), {1, 1, 2}), InterpolateOptions::sized({4})),
                {1, 1, 2, 2});
}

TEST(NnVision, PoolingErrors) {
  const Tensor x = randn({2, 3, 5, 5});
  expect_error<ShapeError>([&] { max_pool2d(x, {7}); }, {"max_pool2d", "output size is too small"});
  expect_error<ValueError>([&] { max_pool2d(x, {3}, {1}, {2}); },
                           {"max_pool2d", "at most half the kernel size", "padding (2, 2)"});
  expect_error<ShapeError>(
      [&] {
        max_pool2d(randn({5, 5}), {2});
      },
      {"max_pool2d", "3-d (C, H, W) or 4-d", "got (5, 5)"});
  expect_error<ValueError>([&] { max_pool2d(x, {2}, {0}); }, {"stride must be positive"});
  expect_error<ValueError>([&] { max_pool2d(x, {2, 2, 2}); }, {"one or two values", "3"});
  expect_error<DTypeError>([&] { max_pool2d(ones({1, 4, 4}, kInt64), {2}); }, {"floating point"});
  expect_error<ValueError>([&] { avg_pool2d(x, {2}, {}, {0}, false, true, 0); },
                           {"divisor_override must be non-zero"});
  expect_error<ShapeError>([&] { avg_pool2d(x, {6}, {1}, {0}); }, {"avg_pool2d", "too small"});
  expect_error<ShapeError>([&] { adaptive_avg_pool2d(randn({4}), {2}); }, {"adaptive_avg_pool2d"});
}

TEST(NnVision, NormErrors) {
  const Tensor x = randn({4, 3, 2, 2});
  expect_error<ValueError>([&] { batch_norm(x, {}, {}); },
                           {"running_mean and running_var must be defined in evaluation mode"});
  expect_error<ShapeError>([&] { batch_norm(x, {}, {}, ones({4}), {}, true); },
                           {"batch_norm", "weight must have shape (3)", "(4,)"});
  expect_error<ValueError>(
      [&] {
        batch_norm(randn({1, 3}), {}, {}, {}, {}, true);
      },
      {"more than 1 value per channel"});
  expect_error<ShapeError>([&] { batch_norm(randn({3}), {}, {}, {}, {}, true); },
                           {"batch_norm", "2 or more dims"});
  expect_error<ValueError>([&] { group_norm(x, 2); }, {"group_norm", "divisible by num_groups"});
  expect_error<ValueError>([] { nn::GroupNorm(4, 6); }, {"GroupNorm", "divisible"});
  nn::BatchNorm2d bn(3);
  expect_error<ShapeError>(
      [&] {
        bn(randn({4, 3, 5}));
      },
      {"BatchNorm2d: expected input (N, 3, H, W), got (4, 3, 5)"});
  expect_error<ShapeError>([&] { bn(randn({4, 2, 5, 5})); }, {"BatchNorm2d", "(4, 2, 5, 5)"});
  expect_error<ValueError>([] { nn::BatchNorm2d(0); },
                           {"BatchNorm2d", "num_features must be >= 1"});
}

TEST(NnVision, BatchNorm2dRunningStatsByHand) {
  nn::BatchNorm2d bn(1, 1e-5, 0.5);
  // One channel, values {1, 3, 5, 7}: mean 4, biased var 5, unbiased 20 / 3.
  Tensor y = bn(reshape(tensor({1, 3, 5, 7}), {1, 1, 2, 2}));
  expect_values(bn.running_mean, {2.0});
  expect_values(bn.running_var, {0.5 + 0.5 * 20.0 / 3.0}, 1e-6);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  const double s = 1 / std::sqrt(5 + 1e-5);
  expect_values(y, {-3 * s, -s, s, 3 * s}, 1e-6);
  EXPECT_FALSE(bn.running_mean.requires_grad());
}

TEST(NnVision, ResampleErrors) {
  const Tensor x = randn({1, 2, 4, 5});
  expect_error<ValueError>([&] { interpolate(x, InterpolateOptions{}); },
                           {"exactly one of size and scale_factor"});
  InterpolateOptions both = InterpolateOptions::sized({4});
  both.scale_factor = {2.0};
  expect_error<ValueError>([&] { interpolate(x, both); }, {"exactly one"});
  expect_error<ValueError>(
      [&] {
        interpolate(x, InterpolateOptions::sized({4, 4}, "bicubic"));
      },
      {"mode must be 'nearest' or 'bilinear'", "bicubic"});
  expect_error<ValueError>(
      [&] {
        interpolate(x, InterpolateOptions::sized({4, 4}, "nearest", true));
      },
      {"align_corners"});
  expect_error<ShapeError>(
      [&] {
        interpolate(randn({2, 3, 4}), InterpolateOptions::sized({4}, "bilinear"));
      },
      {"4-d (N, C, H, W)"});
  expect_error<ShapeError>(
      [&] {
        pad(x, {5, 0, 0, 0}, "reflect");
      },
      {"reflect padding (5, 0) must be less than the size 5"});
  expect_error<ShapeError>([&] { pad(x, {4, 4, 4, 4}, "reflect"); }, {"less than the size 4"});
  expect_error<ValueError>([&] { pad(x, {1, 1, 1}); }, {"even length"});
  expect_error<ValueError>([&] { pad(x, {1, 1}, "circular"); }, {"'constant' or 'reflect'"});
  expect_error<ShapeError>([&] { pad(x, {-3, -3}); }, {"negative size"});
  expect_error<ShapeError>([&] { pad(randn({5}), {1, 1}, "reflect"); }, {"2-d or 3-d"});
  expect_error<ShapeError>([&] { pad(x, {1, 1}, "reflect"); }, {"2-d or 3-d", "(1, 2, 4, 5)"});
}

TEST(NnVision, Dropout2dErrors) {
  expect_error<ValueError>([] { nn::Dropout2d(1.5); }, {"Dropout2d", "[0, 1]"});
  nn::Dropout2d d(0.5);
  expect_error<ShapeError>([&] { d(randn({4, 5})); }, {"Dropout2d", "got (4, 5)"});
}
