// Convolutions: shapes, init, repr and argument errors of conv2d, conv_transpose2d and their
// modules.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"

using namespace ember;

namespace {

// Runs f, expects an Error of type E whose message contains every one of parts.
template <class E, class F>
void expect_error(const F& f, std::initializer_list<const char*> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const char* p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message \"" << e.what() << "\" lacks \"" << p << "\"";
  }
}

}  // namespace

TEST(NnConv, OutputShapes) {
  EXPECT_EQ(conv2d(randn({8, 3, 28, 28}), randn({16, 3, 3, 3})).shape(), (Shape{8, 16, 26, 26}));
  EXPECT_EQ(conv2d(randn({2, 3, 9, 8}), randn({4, 3, 3, 2}), Tensor(), {2, 3}, {1}, {1, 2}).shape(),
            (Shape{2, 4, 5, 3}));
  EXPECT_EQ(conv2d(randn({3, 7, 7}), randn({4, 3, 2, 2}), Tensor(), {1}, "same").shape(),
            (Shape{4, 7, 7}));
  EXPECT_EQ(
      conv_transpose2d(randn({2, 4, 5, 5}), randn({4, 3, 3, 3}), Tensor(), {2}, {1}, {1}).shape(),
      (Shape{2, 3, 10, 10}));
  EXPECT_EQ(conv2d(randn({0, 3, 5, 5}), randn({4, 3, 3, 3}), randn({4})).shape(),
            (Shape{0, 4, 3, 3}));
  // float64 in, float64 out.
  EXPECT_EQ(conv2d(randn({1, 1, 4, 4}, kFloat64), randn({1, 1, 2, 2}, kFloat64)).dtype(), kFloat64);
}

TEST(NnConv, KnownValues) {
  // A 3x3 box filter over ones with padding 1: 4 at corners, 6 on edges, 9 inside.
  Tensor y = conv2d(ones({1, 1, 3, 3}), ones({1, 1, 3, 3}), tensor({0.5}), {1}, {1});
  EXPECT_TRUE(allclose(y.reshape({9}), tensor({4.5, 6.5, 4.5, 6.5, 9.5, 6.5, 4.5, 6.5, 4.5})));
  // Transposed conv of a single 1 with stride 2 places the kernel.
  Tensor k = arange(0, 4).reshape({1, 1, 2, 2}).to(kFloat32);
  Tensor t = conv_transpose2d(ones({1, 1, 1, 1}), k, Tensor(), {2});
  EXPECT_TRUE(allclose(t, k));
}

TEST(NnConv, Errors) {
  Tensor w = randn({16, 3, 3, 3});
  expect_error<ShapeError>(
      [&] {
        conv2d(randn({8, 1, 28, 28}), w);
      },
      {"conv2d", "3 channels", "(16, 3, 3, 3)", "(8, 1, 28, 28)"});
  expect_error<ShapeError>(
      [&] {
        conv2d(randn({1, 3, 2, 2}), w);
      },
      {"conv2d", "larger than the padded input"});
  EXPECT_NO_THROW(conv2d(randn({1, 3, 1, 1}), w, Tensor(), {1}, {1}));  // 3x3 fits padded 3x3
  expect_error<ShapeError>(
      [&] {
        conv2d(randn({1, 6, 5, 5}), randn({5, 3, 3, 3}), {}, {1}, {0}, {1}, 2);
      },
      {"conv2d", "not divisible by groups 2"});
  expect_error<ValueError>(
      [&] {
        conv2d(randn({1, 3, 5, 5}), w, {}, {1}, {0}, {1}, 0);
      },
      {"conv2d", "groups must be positive"});
  expect_error<ValueError>(
      [&] {
        conv2d(randn({1, 3, 5, 5}), w, {}, {1}, {-1});
      },
      {"conv2d", "padding must be non-negative"});
  expect_error<ValueError>(
      [&] {
        conv2d(randn({1, 3, 5, 5}), w, {}, {0});
      },
      {"conv2d", "stride must be positive"});
  expect_error<ValueError>(
      [&] {
        conv2d(randn({1, 3, 5, 5}), w, {}, {1, 2, 3});
      },
      {"conv2d", "stride", "one or two values"});
  expect_error<ValueError>(
      [&] {
        conv2d(randn({1, 3, 5, 5}), w, {}, {2}, "same");
      },
      {"conv2d", "same", "strided"});
  expect_error<ValueError>(
      [&] {
        conv2d(randn({1, 3, 5, 5}), w, {}, {1}, "full");
      },
      {"conv2d", "\"valid\" or \"same\""});
  expect_error<ShapeError>(
      [&] {
        conv2d(randn({1, 3, 5, 5}), w, randn({15}));
      },
      {"conv2d", "bias", "(15,)"});
  expect_error<ShapeError>([&] { conv2d(randn({3, 5, 5, 1, 1}), w); }, {"conv2d", "4-d"});
  expect_error<ShapeError>(
      [&] {
        conv2d(randn({1, 3, 5, 5}), randn({16, 3, 3}));
      },
      {"conv2d", "4-d weight"});
  expect_error<DTypeError>([&] { conv2d(randn({1, 3, 5, 5}, kFloat64), w); }, {"conv2d", "dtype"});
  expect_error<DTypeError>(
      [&] {
        conv2d(ones({1, 3, 5, 5}, kInt64), ones({16, 3, 3, 3}, kInt64));
      },
      {"conv2d"});
  Tensor tw = randn({4, 2, 3, 3});
  expect_error<ShapeError>(
      [&] {
        conv_transpose2d(randn({1, 3, 5, 5}), tw);
      },
      {"conv_transpose2d", "4 channels", "(1, 3, 5, 5)"});
  expect_error<ValueError>(
      [&] {
        conv_transpose2d(randn({1, 4, 5, 5}), tw, {}, {2}, {0}, {2});
      },
      {"conv_transpose2d", "output_padding", "smaller than"});
  expect_error<ShapeError>(
      [&] {
        conv_transpose2d(randn({1, 4, 1, 1}), tw, {}, {1}, {2});
      },
      {"conv_transpose2d", "too small"});
}

TEST(NnConv, ModuleInitReprAndErrors) {
  manual_seed(0);
  nn::Conv2d c(8, 16, 3, 1, 1);
  EXPECT_EQ(c.weight.shape(), (Shape{16, 8, 3, 3}));
  EXPECT_EQ(c.state_dict().keys(), (std::vector<std::string>{"weight", "bias"}));
  // kaiming_uniform(a = sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)); fan_in = 72.
  const double bound = 1.0 / std::sqrt(72.0);
  EXPECT_LE(amax(abs(c.weight), {0, 1, 2, 3}).item(), bound);
  EXPECT_GT(amax(abs(c.weight), {0, 1, 2, 3}).item(), 0.95 * bound);
  EXPECT_LE(amax(abs(c.bias), {0}).item(), bound);
  EXPECT_EQ(c.repr(), "Conv2d(8, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
  EXPECT_EQ(c(randn({2, 8, 5, 5})).shape(), (Shape{2, 16, 5, 5}));
  nn::Conv2d v(2, 3, {1, 2}, 1, "valid", 1, 1, false);
  EXPECT_EQ(v.repr(),
            "Conv2d(2, 3, kernel_size=(1, 2), stride=(1, 1), padding='valid', bias=False)");
  EXPECT_EQ(v(randn({2, 4, 4})).shape(), (Shape{3, 4, 3}));
  nn::ConvTranspose2d t(4, 6, 3, 2, 1, 1, 2);
  EXPECT_EQ(t.weight.shape(), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(t(randn({1, 4, 5, 5})).shape(), (Shape{1, 6, 10, 10}));

  EXPECT_THROW(nn::Conv2d(3, 4, 3, 1, 0, 1, 2), ValueError);  // 3 not divisible by 2
  EXPECT_THROW(nn::Conv2d(4, 3, 3, 1, 0, 1, 2), ValueError);
  EXPECT_THROW(nn::Conv2d(3, 4, 0), ValueError);
  EXPECT_THROW(nn::Conv2d(3, 4, 3, 1, -1), ValueError);
  EXPECT_THROW(nn::Conv2d(3, 4, 3, 2, "same"), ValueError);
  EXPECT_THROW(nn::Conv2d(3, 4, 3, 1, "full"), ValueError);
  EXPECT_THROW(nn::ConvTranspose2d(3, 4, 3, 1, 0, 1), ValueError);  // output_padding >= stride
  expect_error<ShapeError>([&] { c(randn({2, 3, 5, 5})); }, {"conv2d", "8 channels"});
}

TEST(NnConv, BackwardShapesAndBiasGrad) {
  Tensor x = randn({2, 3, 6, 6}).requires_grad_();
  Tensor w = randn({4, 3, 3, 3}).requires_grad_();
  Tensor b = randn({4}).requires_grad_();
  Tensor y = conv2d(x, w, b, {2}, {1});
  y.sum().backward();
  EXPECT_EQ(x.grad().shape(), x.shape());
  EXPECT_EQ(w.grad().shape(), w.shape());
  // d sum(y) / d b = number of output positions per channel: 2 * 3 * 3.
  EXPECT_TRUE(allclose(b.grad(), full({4}, 18.0)));
}
