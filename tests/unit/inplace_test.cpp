// In-place ops: values (as torch 1.13, expected values computed with it), dtype rules, version
// counter, and autograd through in-place updates of non-leaf tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include "ember/ember.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;
using ember::testing::expect_values;

namespace {



Tensor base() {
  return tensor({{1, -2, 3}, {4, 5, -6}});
}

}  // namespace

TEST(InPlace, ValuesMatchTorch) {
  Tensor r = tensor({10, 20, 30});
  // Expected values from torch 1.13 on the same inputs.
  Tensor a = base();
  a.add_(r, 0.5);
  expect_values(a, {6, 8, 18, 9, 15, 9});
  a = base();
  a.sub_(r);
  expect_values(a, {-9, -22, -27, -6, -15, -36});
  a = base();
  a.mul_(r);
  expect_values(a, {10, -40, 90, 40, 100, -180});
  a = base();
  a.div_(r);
  expect_values(a, {0.1, -0.1, 0.1, 0.4, 0.25, -0.2});
  a = base();
  a.add_(1.5).mul_(2.0).sub_(1.0).div_(4.0);
  expect_values(a, {1, -0.5, 2, 2.5, 3, -2.5});
  a = base();
  a.clamp_(-1.0, 4.0);
  expect_values(a, {1, -1, 3, 4, 4, -1});
  a = base();
  a.clamp_(std::nullopt, 2.0);
  expect_values(a, {1, -2, 2, 2, 2, -6});
  a = base();
  a.fill_(7.0);
  expect_values(a, {7, 7, 7, 7, 7, 7});
  a.zero_();
  expect_values(a, {0, 0, 0, 0, 0, 0});
  a.copy_(tensor({1, 2, 3}));  // broadcast
  expect_values(a, {1, 2, 3, 1, 2, 3});
  Tensor i = zeros({2}, kInt64);
  i.copy_(tensor({1.7, -1.7}));  // truncates toward zero, as torch
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{1, -1}));
}

TEST(InPlace, OperatorsAreInPlace) {
  Tensor a = base();
  Tensor alias = a;
  a += tensor({1, 1, 1});
  a -= 1.0;
  a *= 3.0;
  a /= tensor({3});
  expect_values(alias, {1, -2, 3, 4, 5, -6});
  EXPECT_TRUE(alias.is_same(a));
}

TEST(InPlace, OnNonContiguousViewWritesThroughToBase) {
  Tensor a = base();
  Tensor t = a.t();  // (3, 2)
  t.add_(tensor({10, 20}));
  expect_values(a, {11, 8, 13, 24, 25, 14});  // torch: y.t().add_([10, 20])
  a.slice(1, 0, 3, 2).mul_(0.0);
  expect_values(a, {0, 8, 0, 0, 25, 0});
  a.select(0, 1).fill_(-1.0);
  expect_values(a, {0, 8, 0, -1, -1, -1});
}

TEST(InPlace, BumpsTheVersionCounter) {
  Tensor a = base();
  Tensor view = a.view({6});
  uint64_t v = a.version();
  const std::vector<std::function<void()>> ops = {
      [&] { a.add_(1.0); },           [&] { a.add_(a); },   [&] { a.sub_(tensor({1})); },
      [&] { a.mul_(2.0); },           [&] { a.div_(2.0); }, [&] { a.clamp_(-1.0, 1.0); },
      [&] { a.fill_(3.0); },          [&] { a.zero_(); },   [&] { a.copy_(base()); },
      [&] { view.mul_(tensor({2})); }};
  for (const auto& op : ops) {
    op();
    EXPECT_EQ(a.version(), ++v);
    EXPECT_EQ(view.version(), v) << "views share the version counter";
  }
}

TEST(InPlace, ShapeAndDtypeRules) {
  expect_error<ShapeError>([] { ones({3}).add_(ones({2, 3})); }, {"add_", "(3,)", "(2, 3)"});
  Tensor i = arange(6).view({2, 3});
  expect_error<DTypeError>(
      [&] {
        i.add_(tensor({0.5, 1, 2}));
      },
      {"add_", "can't be cast", "int64"});
  expect_error<DTypeError>([&] { i.add_(0.5); }, {"add_", "int64"});
  expect_error<DTypeError>([&] { i.div_(2.0); }, {"div_"});
  i.mul_(2.0);  // integral scalars are fine
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{0, 2, 4, 6, 8, 10}));
  i.add_(arange(3));
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{0, 3, 6, 6, 9, 12}));
  Tensor b = ones({2}, kBool);
  expect_error<DTypeError>([&] { b.add_(arange(2)); }, {"add_"});
}

TEST(InPlace, LeafThatRequiresGradIsRejected) {
  Tensor w = tensor({1, 2}).requires_grad_();
  expect_error<ValueError>([&] { w.add_(1.0); }, {"add_", "leaf", "requires grad"});
  expect_error<ValueError>([&] { w.copy_(tensor({3, 4})); }, {"copy_", "leaf"});
  {
    NoGradGuard no_grad;  // an optimizer step
    w.sub_(tensor({0.5, 0.5}));
  }
  expect_values(w, {0.5, 1.5});
  EXPECT_TRUE(w.is_leaf());
  EXPECT_TRUE(w.requires_grad());
}

// y = 2x, then y.op(w) in place, loss = sum(y * c): gradients against the closed forms (the
// same as torch's).
class InPlaceAutograd : public ::testing::Test {
 protected:
  Tensor x = tensor({0.5, -1.5, 2.0}).requires_grad_();
  Tensor w = tensor({2.0, 4.0, -0.5}).requires_grad_();
  Tensor c = tensor({1.0, 2.0, 3.0});
  Tensor y = x * 2.0;

  void backward() { sum(y * c).backward(); }
  void expect_x_grad(const std::vector<double>& want) {
    if (!x.grad().defined()) {
      for (double v : want) EXPECT_EQ(v, 0.0) << "x got no gradient";
      return;
    }
    expect_values(x.grad(), want);
  }
};

TEST_F(InPlaceAutograd, Add) {
  y.add_(w, 0.5);
  backward();
  expect_values(y, {2, -1, 3.75});
  expect_x_grad({2, 4, 6});
  expect_values(w.grad(), {0.5, 1, 1.5});
}

TEST_F(InPlaceAutograd, Sub) {
  y.sub_(w);
  backward();
  expect_x_grad({2, 4, 6});
  expect_values(w.grad(), {-1, -2, -3});
}

TEST_F(InPlaceAutograd, Mul) {
  y.mul_(w);
  backward();
  expect_x_grad({4, 16, -3});            // 2 w c
  expect_values(w.grad(), {1, -6, 12});  // 2 x c
}

TEST_F(InPlaceAutograd, Div) {
  y.div_(w);
  backward();
  expect_x_grad({1, 1, -12});                    // 2 c / w
  expect_values(w.grad(), {-0.25, 0.375, -48});  // -2 x c / w^2
}

TEST_F(InPlaceAutograd, Scalars) {
  y.add_(1.5).mul_(3.0).div_(4.0).sub_(1.0);
  backward();
  expect_x_grad({1.5, 3, 4.5});
}

TEST_F(InPlaceAutograd, Clamp) {
  y.clamp_(-2.0, 3.0);  // y = (1, -3, 4): only the first is inside
  backward();
  expect_values(y, {1, -2, 3});
  expect_x_grad({2, 0, 0});
}

TEST_F(InPlaceAutograd, FillAndZero) {
  y.fill_(2.0);
  ASSERT_TRUE(y.requires_grad());
  backward();
  expect_x_grad({0, 0, 0});
  Tensor z = x * 1.0;
  z.zero_();
  sum(z * c).backward();
  expect_x_grad({0, 0, 0});
}

TEST_F(InPlaceAutograd, FillOverInfinities) {
  Tensor z = log(x * 0.0);  // -inf everywhere; fill_ must not compute inf * 0
  z.fill_(1.5);
  expect_values(z, {1.5, 1.5, 1.5});
}

TEST_F(InPlaceAutograd, CopySendsGradientToSource) {
  y.copy_(w);
  ASSERT_FALSE(y.is_leaf()) << "copy_ into a tensor with history keeps it a non-leaf";
  backward();
  expect_values(y, {2, 4, -0.5});
  expect_x_grad({0, 0, 0});
  ASSERT_TRUE(w.grad().defined()) << "copy_ must pass the gradient to its source";
  expect_values(w.grad(), {1, 2, 3});
}

TEST_F(InPlaceAutograd, CopyFromConstantIntoNonLeaf) {
  y.copy_(tensor({1, 1, 1}));
  EXPECT_FALSE(y.is_leaf()) << "y must not turn into a leaf";
  backward();
  expect_x_grad({0, 0, 0});
  EXPECT_FALSE(y.grad().defined());
}

TEST_F(InPlaceAutograd, BufferWithoutGradTakesHistoryOfOther) {
  Tensor acc = zeros({3});
  acc.add_(w);
  acc.mul_(w);
  ASSERT_TRUE(acc.requires_grad());
  sum(acc * c).backward();
  expect_values(w.grad(), {4, 16, -3});  // d/dw (w * w) c = 2 w c
}

TEST_F(InPlaceAutograd, SavedValueModifiedLaterThrows) {
  Tensor z = y * y;  // saves y
  y.add_(1.0);
  expect_error<ValueError>([&] { sum(z).backward(); }, {"MulBackward", "version"});
}

TEST_F(InPlaceAutograd, NewHistoryIsUsedAfterTheUpdate) {
  Tensor z = y * 3.0;  // saves nothing of y
  y.mul_(w);
  sum(z + y).backward();  // d/dx (6x + 2xw) = 6 + 2w
  expect_x_grad({10, 14, 5});
}

TEST_F(InPlaceAutograd, ViewOfATensorInTheGraphIsNotSupported) {
  // Documented limitation: torch rebases the view's history; Ember raises instead.
  Tensor v = y.view({3, 1});
  expect_error<NotImplementedError>([&] { v.add_(w.view({3, 1})); }, {"add_", "view"});
}

TEST(InPlace, CopyIntoAnIntegerTensorDropsTheGradient) {
  Tensor w = tensor({1.7, -2.2}).requires_grad_();
  Tensor i = zeros({2}, kInt64);
  i.copy_(w * 2.0);
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{3, -4}));
  EXPECT_FALSE(i.requires_grad());
}
