// Autograd engine behaviour: implicit gradients, accumulation, retain_graph, no-grad, detach,
// retain_grad, grad() with allow_unused, higher order, and the version-counter checks.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "ember/ember.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;
using ember::testing::expect_values;

namespace {

Tensor leaf(std::initializer_list<double> v) {
  return tensor(v).requires_grad_();
}

}  // namespace

TEST(Autograd, BackwardOnNonScalarNeedsAGradient) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * 2.0;
  expect_error<ValueError>([&] { y.backward(); }, {"scalar", "(3,)"});
  y.backward(ones({3}));
  expect_values(x.grad(), {2, 2, 2});
  Tensor z = x * 2.0;
  expect_error<ShapeError>([&] { z.backward(ones({2})); }, {"(2,)", "(3,)"});
}

TEST(Autograd, BackwardOnTensorWithoutHistoryThrows) {
  Tensor x = tensor({1, 2});
  expect_error<ValueError>([&] { sum(x).backward(); }, {"does not require grad"});
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = leaf({1, -2, 3});
  sum(x * x).backward();
  expect_values(x.grad(), {2, -4, 6});
  sum(x * x).backward();
  expect_values(x.grad(), {4, -8, 12});
  Tensor kept = x.grad();
  sum(x * 3.0).backward();
  expect_values(kept, {7, -5, 15});  // accumulated into the same tensor, as torch
}

TEST(Autograd, RetainGraph) {
  Tensor x = leaf({1, 2});
  Tensor y = sum(exp(x) * x);
  y.backward();
  expect_error<ValueError>([&] { y.backward(); }, {"second time", "retain_graph"});

  Tensor x2 = leaf({1, 2});
  Tensor y2 = sum(x2 * x2);
  y2.backward(Tensor(), /*retain_graph=*/true);
  y2.backward();
  expect_values(x2.grad(), {4, 8});
}

TEST(Autograd, NoGradGuard) {
  Tensor x = leaf({1, 2});
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(GradMode::is_enabled());
    Tensor y = x * 2.0 + 1.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    {
      GradModeGuard on(true);
      EXPECT_TRUE((x * 2.0).requires_grad());
    }
    EXPECT_FALSE(GradMode::is_enabled());
  }
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_TRUE((x * 2.0).requires_grad());
}

TEST(Autograd, DetachSharesDataButNotHistory) {
  Tensor x = leaf({1, 2});
  Tensor h = x * 3.0;
  Tensor d = h.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_EQ(d.storage(), h.storage());
  Tensor y = sum(d * x);  // d is a constant here
  y.backward();
  expect_values(x.grad(), {3, 6});
  Tensor e = x * 1.0;
  e.detach_();
  EXPECT_FALSE(e.requires_grad());
  EXPECT_EQ(e.grad_fn(), nullptr);
}

TEST(Autograd, RetainGradOnNonLeaf) {
  Tensor x = leaf({1, 2, 3});
  Tensor h = x * 2.0;
  Tensor k = h + 1.0;
  h.retain_grad();
  sum(h * k).backward();
  // d/dh (h * (h + 1)) = 2h + 1
  expect_values(h.grad(), {5, 9, 13});
  EXPECT_FALSE(k.grad().defined()) << "only retained non-leaves keep .grad";
  expect_values(x.grad(), {10, 18, 26});
  Tensor c = tensor({1.0});
  expect_error<ValueError>([&] { c.retain_grad(); }, {"does not require grad"});
}

TEST(Autograd, GradAllowUnused) {
  Tensor x = leaf({1, 2});
  Tensor z = leaf({5});
  Tensor y = sum(x * x);
  expect_error<ValueError>(
      [&] {
        autograd::grad({y}, {x, z}, {}, true);
      },
      {"input 1", "not used", "allow_unused"});
  std::vector<Tensor> g = autograd::grad({y}, {x, z}, {}, false, false, /*allow_unused=*/true);
  expect_values(g[0], {2, 4});
  EXPECT_FALSE(g[1].defined());
  EXPECT_FALSE(x.grad().defined()) << "grad() returns gradients instead of accumulating them";
}

TEST(Autograd, GradOfNonLeafInput) {
  Tensor x = leaf({1, 2});
  Tensor h = x * 3.0;
  Tensor y = sum(h * h);
  std::vector<Tensor> g = autograd::grad({y}, {h});
  expect_values(g[0], {6, 12});
}

TEST(Autograd, SecondOrder) {
  Tensor x = leaf({1, -2});
  Tensor y = sum(pow(x, 3));
  std::vector<Tensor> g = autograd::grad({y}, {x}, {}, false, /*create_graph=*/true);
  expect_values(g[0], {3, 12});
  ASSERT_TRUE(g[0].requires_grad());
  std::vector<Tensor> gg = autograd::grad({sum(g[0])}, {x});
  expect_values(gg[0], {6, -12});
  // backward(create_graph) leaves a differentiable .grad
  Tensor w = leaf({2});
  sum(exp(w)).backward(Tensor(), false, /*create_graph=*/true);
  ASSERT_TRUE(w.grad().requires_grad());
  std::vector<Tensor> g2 = autograd::grad({sum(w.grad())}, {w});
  expect_values(g2[0], {std::exp(2.0)}, 1e-5);
}

TEST(Autograd, DiamondGraphSumsBothPaths) {
  Tensor x = leaf({1, 2});
  Tensor a = x * 2.0, b = x * 3.0;
  Tensor c = a * b;  // 6 x^2
  Tensor d = c + a;  // 6 x^2 + 2x
  sum(d).backward();
  expect_values(x.grad(), {14, 26});
}

TEST(Autograd, BackwardOverSeveralRoots) {
  Tensor x = leaf({1, 2});
  autograd::backward({sum(x * x), sum(x * 4.0)});
  expect_values(x.grad(), {6, 8});
  Tensor y = leaf({1, 2});
  autograd::backward({y * 2.0}, {tensor({1, 10})});
  expect_values(y.grad(), {2, 20});
}

TEST(Autograd, BroadcastGradientsAreReduced) {
  Tensor a = randn({3, 1, 5}).requires_grad_();
  Tensor b = randn({4, 5}).requires_grad_();
  sum(a * b).backward();
  EXPECT_EQ(a.grad().shape(), (Shape{3, 1, 5}));
  EXPECT_EQ(b.grad().shape(), (Shape{4, 5}));
  EXPECT_TRUE(allclose(a.grad(), sum(b, {0}, true).unsqueeze(0).expand({3, 1, 5}), 1e-5, 1e-5));
}

TEST(Autograd, IntegerTensorsCannotRequireGrad) {
  expect_error<DTypeError>([] { arange(3).requires_grad_(); }, {"floating"});
}

// Note [Versions]: a tensor saved for backward and modified in place makes backward fail.
TEST(AutogradVersions, InPlaceOnSavedOutputThrows) {
  Tensor x = leaf({0.5, 1});
  Tensor y = exp(x);
  const uint64_t v0 = y.version();
  y.add_(1.0);
  EXPECT_EQ(y.version(), v0 + 1);
  expect_error<ValueError>(
      [&] { sum(y).backward(); },
      {"ExpBackward", "modified by an in-place operation", "version 0", "version 1"});
}

TEST(AutogradVersions, InPlaceOnSavedInputUnderNoGradThrows) {
  Tensor x = leaf({1, 2});
  Tensor w = leaf({3, 4});
  Tensor a = x * w;
  {
    NoGradGuard no_grad;
    w.mul_(2.0);
  }
  expect_error<ValueError>([&] { sum(a).backward(); }, {"MulBackward", "version"});
}

TEST(AutogradVersions, UnsavedInPlaceIsFine) {
  Tensor x = leaf({1, 2});
  Tensor y = x + 1.0;  // AddBackward saves nothing
  {
    NoGradGuard no_grad;
    x.mul_(10.0);
  }
  sum(y).backward();
  expect_values(x.grad(), {1, 1});
}

TEST(AutogradVersions, ViewsShareTheVersionCounter) {
  Tensor x = leaf({1, 2, 3, 4});
  Tensor y = x * 2.0;
  Tensor s = sigmoid(y);
  Tensor v = s.detach().view({2, 2});
  v.mul_(0.5);
  expect_error<ValueError>([&] { sum(s).backward(); }, {"SigmoidBackward"});
}

TEST(Autograd, LeafGradDoesNotAliasTheGivenGradient) {
  Tensor x = leaf({1, 2});
  Tensor g = tensor({3, 4});
  x.backward(g);
  x.backward(g);
  expect_values(x.grad(), {6, 8});
  expect_values(g, {3, 4});  // accumulation must not write into the caller's tensor
}

TEST(Autograd, DtypeConversionIsDifferentiable) {
  Tensor x = leaf({1, 2});
  Tensor y = x.to(kFloat64);
  EXPECT_EQ(y.dtype(), kFloat64);
  sum(y * y).backward();
  EXPECT_EQ(x.grad().dtype(), kFloat32);
  expect_values(x.grad(), {2, 4});
  Tensor z = leaf({1, 2});
  sum(z.to(kInt64).to(kFloat32) * z).backward();  // through an integer: no gradient that way
  expect_values(z.grad(), {1, 2});
}

TEST(Autograd, PostAccumulateGradHookSeesTheAccumulatedGrad) {
  Tensor w = full({3}, 2.0).requires_grad_();
  std::vector<double> seen;
  w.register_post_accumulate_grad_hook(
      [&](const Tensor& leaf) { seen.push_back(leaf.grad().sum().item()); });
  (w * w).sum().backward();  // grad 2w = 4 per entry: one call after the whole accumulation
  (w * 3.0).sum().backward();
  EXPECT_EQ(seen, (std::vector<double>{12.0, 21.0}));
  Tensor y = w * 2.0;
  EXPECT_THROW(y.register_post_accumulate_grad_hook([](const Tensor&) {}), Error);
}
