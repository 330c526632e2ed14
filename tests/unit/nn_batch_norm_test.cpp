// nn::BatchNorm1d: hand-computed statistics, eval mode, (N, C, L), state_dict, gradcheck, errors.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"
#include "ember/nn/batch_norm.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;
using ember::testing::expect_values;

TEST(NnBatchNorm, StateDictNamesAndInitialValues) {
  nn::BatchNorm1d bn(3);
  EXPECT_EQ(bn.state_dict().keys(),
            (std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                      "num_batches_tracked"}));
  EXPECT_EQ(bn.named_parameters().keys(), (std::vector<std::string>{"weight", "bias"}));
  expect_values(bn.weight, {1, 1, 1});
  expect_values(bn.bias, {0, 0, 0});
  expect_values(bn.running_mean, {0, 0, 0});
  expect_values(bn.running_var, {1, 1, 1});
  EXPECT_EQ(bn.num_batches_tracked.dtype(), kInt64);
  EXPECT_EQ(bn.num_batches_tracked.dim(), 0);
  EXPECT_EQ(bn.repr(),
            "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");

  nn::BatchNorm1d plain(2, 1e-5, 0.1, false, true);
  EXPECT_EQ(plain.state_dict().keys(),
            (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  nn::BatchNorm1d untracked(2, 1e-5, 0.1, true, false);
  EXPECT_EQ(untracked.state_dict().keys(), (std::vector<std::string>{"weight", "bias"}));
}

TEST(NnBatchNorm, TrainingUsesBatchStatisticsAndUpdatesRunningOnes) {
  nn::BatchNorm1d bn(2);
  // Channel 0: {1, 3}: mean 2, biased var 1, unbiased 2. Channel 1: {2, 6}: mean 4, var 4 / 8.
  const Tensor x = tensor({{1, 2}, {3, 6}});
  const Tensor y = bn(x);
  const double e = 1e-5;
  const double a = 1 / std::sqrt(1 + e), b = 2 / std::sqrt(4 + e);
  expect_values(y, {-a, -b, a, b});
  expect_values(bn.running_mean, {0.9 * 0 + 0.1 * 2, 0.9 * 0 + 0.1 * 4});
  expect_values(bn.running_var, {0.9 * 1 + 0.1 * 2, 0.9 * 1 + 0.1 * 8});
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 1);
  bn(x);
  expect_values(bn.running_mean, {0.9 * 0.2 + 0.1 * 2, 0.9 * 0.4 + 0.1 * 4}, 1e-6);
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 2);
  // No history on the running statistics.
  EXPECT_FALSE(bn.running_mean.requires_grad());
  EXPECT_EQ(bn.running_mean.grad_fn(), nullptr);
}

TEST(NnBatchNorm, AffineParametersScaleAndShift) {
  nn::BatchNorm1d bn(1, 1e-3);
  {
    NoGradGuard no_grad;
    bn.weight.fill_(2);
    bn.bias.fill_(-1);
  }
  // {0, 4}: mean 2, var 4 -> (x - 2) / sqrt(4 + 1e-3) * 2 - 1
  const double s = 2 / std::sqrt(4 + 1e-3);
  expect_values(bn(tensor({0, 4}).reshape({2, 1})), {-2 * s - 1, 2 * s - 1});
}

TEST(NnBatchNorm, EvalUsesRunningStatistics) {
  nn::BatchNorm1d bn(2);
  {
    NoGradGuard no_grad;
    bn.running_mean.copy_(tensor({1, -2}));
    bn.running_var.copy_(tensor({4, 0.25}));
    bn.weight.copy_(tensor({3, 1}));
    bn.bias.copy_(tensor({0, 0.5}));
  }
  bn.eval();
  const double e = 1e-5;
  // One sample is fine in eval mode.
  expect_values(bn(tensor({{3, 0}})),
                {(3 - 1) / std::sqrt(4 + e) * 3, (0 + 2) / std::sqrt(0.25 + e) + 0.5}, 1e-5);
  expect_values(bn.running_mean, {1, -2});  // unchanged
  EXPECT_EQ(bn.num_batches_tracked.item<int64_t>(), 0);

  // Without running statistics, eval mode still normalises with the batch's.
  nn::BatchNorm1d untracked(1, 1e-5, 0.1, false, false);
  untracked.eval();
  expect_values(untracked(tensor({1, 3}).reshape({2, 1})),
                {-1 / std::sqrt(1 + e), 1 / std::sqrt(1 + e)});
}

TEST(NnBatchNorm, ThreeDimInputsNormaliseOverBatchAndLength) {
  manual_seed(3);
  const Tensor x = randn({4, 3, 5}) * 2.0 + 1.0;
  // The same values laid out as (N * L, C) rows.
  const Tensor rows = x.permute({0, 2, 1}).reshape({20, 3});
  nn::BatchNorm1d a(3), b(3);
  const Tensor ya = a(x);
  const Tensor yb = b(rows).reshape({4, 5, 3}).permute({0, 2, 1});
  EXPECT_TRUE(allclose(ya, yb, 1e-5, 1e-6));
  EXPECT_TRUE(allclose(a.running_mean, b.running_mean, 1e-5, 1e-7));
  EXPECT_TRUE(allclose(a.running_var, b.running_var, 1e-5, 1e-7));
  // Each channel of the output has mean 0 and biased variance ~1.
  EXPECT_TRUE(allclose(mean(ya, {0, 2}), zeros({3}), 0, 1e-5));
  EXPECT_TRUE(allclose(var(ya, {0, 2}, 0), ones({3}), 1e-3, 1e-3));
}

TEST(NnBatchNorm, GradcheckFloat64) {
  for (const Shape& shape : {Shape{5, 3}, Shape{3, 3, 4}}) {
    for (bool training : {true, false}) {
      nn::BatchNorm1d bn(3);
      bn.to(kFloat64);
      {
        NoGradGuard no_grad;
        bn.running_mean.copy_(tensor({0.5, -1, 0.2}));
        bn.running_var.copy_(tensor({2, 0.5, 1.5}));
      }
      bn.train(training);
      Generator g(11);
      const Tensor x = randn(shape, kFloat64, &g).requires_grad_();
      const Tensor w = (randn({3}, kFloat64, &g) + 1.0).detach().requires_grad_();
      const Tensor b = randn({3}, kFloat64, &g).requires_grad_();
      auto f = [&](const std::vector<Tensor>& v) {
        bn.weight = v[1];  // forward reads the members
        bn.bias = v[2];
        return bn(v[0]);
      };
      const autograd::GradcheckResult r = autograd::gradcheck(f, {x, w, b});
      EXPECT_TRUE(r.ok) << ember::detail::shape_to_string(shape) << " training=" << training << ": "
                        << r.detail;
    }
  }
}

TEST(NnBatchNorm, Errors) {
  nn::BatchNorm1d bn(3);
  expect_error<ShapeError>(
      [&] {
        bn(randn({4, 2}));
      },
      {"BatchNorm1d: expected input (N, 3) or (N, 3, L), got (4, 2)"});
  expect_error<ShapeError>([&] { bn(randn({3})); }, {"got (3,)"});
  expect_error<ValueError>(
      [&] {
        bn(randn({1, 3}));
      },
      {"expected more than 1 value per channel when training", "(1, 3)"});
  expect_error<DTypeError>([&] { bn(ones({2, 3}, kInt64)); }, {"floating point"});
  expect_error<ValueError>([] { nn::BatchNorm1d(0); }, {"num_features must be >= 1"});
  expect_error<ValueError>([] { nn::BatchNorm1d(2, 0.0); }, {"eps must be > 0"});
  bn.eval();
  EXPECT_EQ(bn(randn({1, 3})).shape(), (Shape{1, 3}));
}
