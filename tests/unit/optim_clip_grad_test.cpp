// Gradient clipping: total norms of several orders, the clip coefficient, non-finite norms and
// clamping by value.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"

using namespace ember;

namespace {

Tensor with_grad(std::initializer_list<double> g) {
  Tensor p = zeros({static_cast<int64_t>(g.size())}, kFloat64).requires_grad_();
  p.set_grad(tensor(g, kFloat64));
  return p;
}

}  // namespace

TEST(OptimClipGrad, TwoNormScalesAllGradients) {
  Tensor a = with_grad({3, 0}), b = with_grad({0, 4});
  const double total = optim::clip_grad_norm_({a, b}, 1.0);
  EXPECT_DOUBLE_EQ(total, 5.0);
  const double coef = 1.0 / (5.0 + 1e-6);
  EXPECT_DOUBLE_EQ(a.grad().to_vector<double>()[0], 3 * coef);
  EXPECT_DOUBLE_EQ(b.grad().to_vector<double>()[1], 4 * coef);
}

TEST(OptimClipGrad, SmallNormIsUntouched) {
  Tensor a = with_grad({0.3, -0.4});
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({a}, 1.0), 0.5);
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{0.3, -0.4}));
}

TEST(OptimClipGrad, OtherNormOrders) {
  auto total = [](double p) {
    Tensor a = with_grad({1, -2}), b = with_grad({-3});
    return optim::clip_grad_norm_({a, b}, 1e9, p);
  };
  EXPECT_DOUBLE_EQ(total(1), 6);
  EXPECT_DOUBLE_EQ(total(3), std::cbrt(36.0));
  EXPECT_DOUBLE_EQ(total(optim::kInf), 3);
  EXPECT_DOUBLE_EQ(total(-optim::kInf), 1);
  EXPECT_DOUBLE_EQ(total(0), 2);  // PyTorch: the 0-"norm" of the per-gradient norms
}

TEST(OptimClipGrad, SkipsParametersWithoutGradient) {
  Tensor a = with_grad({6, 8});
  Tensor none = zeros({3}).requires_grad_();
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({a, none}, 5.0), 10.0);
  EXPECT_FALSE(none.grad().defined());
  EXPECT_NEAR(a.grad().to_vector<double>()[0], 3.0, 1e-6);
  EXPECT_EQ(optim::clip_grad_norm_({none}, 1.0), 0.0);
}

TEST(OptimClipGrad, NonFiniteNorm) {
  Tensor a = with_grad({1, NAN});
  EXPECT_THROW(optim::clip_grad_norm_({a}, 1.0, 2.0, /*error_if_nonfinite=*/true), ValueError);
  EXPECT_EQ(a.grad().to_vector<double>()[0], 1.0);  // untouched
  const double total = optim::clip_grad_norm_({a}, 1.0);
  EXPECT_TRUE(std::isnan(total));
  EXPECT_TRUE(std::isnan(a.grad().to_vector<double>()[0]));  // as in PyTorch
}

TEST(OptimClipGrad, Float32Gradients) {
  Tensor p = zeros({2}).requires_grad_();
  p.set_grad(tensor({30, 40}));
  EXPECT_DOUBLE_EQ(optim::clip_grad_norm_({p}, 5.0), 50.0);
  EXPECT_NEAR(p.grad().to_vector<float>()[1], 4.0f, 1e-5);
  EXPECT_EQ(p.grad().dtype(), kFloat32);
}

TEST(OptimClipGrad, ByValue) {
  Tensor a = with_grad({-3, 0.5, 2});
  Tensor none = zeros({1}).requires_grad_();
  optim::clip_grad_value_({a, none}, 1.0);
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{-1, 0.5, 1}));
  EXPECT_FALSE(none.grad().defined());
}
