// Conv2d and ConvTranspose2d against libtorch modules with the same parameters: forward, input and
// parameter gradients, parameter names and extra_repr.
#include <functional>

#include "support/torch_bridge.h"

using namespace ember;
using ember::testing::to_torch;

namespace {

using ember::testing::expect_parity;

constexpr double kTol = 1e-4;  // float32 sums of up to a few hundred products

// Copies ours into theirs by name (both must have the same parameter names, in order), runs both
// on the same input and upstream gradient, and compares output, input grad and parameter grads.
void compare_module(const std::string& what, nn::Module& ours, torch::nn::Module& theirs,
                    const std::function<torch::Tensor(const torch::Tensor&)>& torch_forward,
                    const Tensor& input) {
  SCOPED_TRACE(what);
  {
    torch::NoGradGuard no_grad;
    auto params = theirs.named_parameters();
    std::vector<std::string> torch_names;
    for (const auto& item : params) torch_names.push_back(item.key());
    EXPECT_EQ(ours.named_parameters().keys(), torch_names);
    for (const auto& [name, t] : ours.state_dict()) {
      torch::Tensor* target = params.find(name);
      ASSERT_NE(target, nullptr) << "torch module has no " << name;
      target->copy_(to_torch(t));
    }
  }
  Tensor x = input.detach().clone().requires_grad_();
  torch::Tensor tx = to_torch(x).requires_grad_();
  Tensor y = ours(x);
  torch::Tensor ty = torch_forward(tx);
  expect_parity(y, ty, kTol, what + " forward");
  Tensor g = randn(y.shape());
  y.backward(g);
  ty.backward(to_torch(g));
  expect_parity(x.grad(), tx.grad(), kTol, what + " input grad");
  auto tparams = theirs.named_parameters();
  for (const auto& [name, p] : ours.named_parameters()) {
    const torch::Tensor* tp = tparams.find(name);
    ASSERT_NE(tp, nullptr) << name;
    expect_parity(p.grad(), tp->grad(), kTol, what + " grad " + name);
  }
}

TEST(NnConvParity, Conv2dMnistLayers) {
  manual_seed(1);
  // The CNN's two layers at a small batch: 1->32 on 28x28 and 32->64 on 14x14, 3x3, padding 1.
  nn::Conv2d c1(1, 32, 3, /*stride=*/1, /*padding=*/1);
  torch::nn::Conv2d t1(torch::nn::Conv2dOptions(1, 32, 3).padding(1));
  compare_module(
      "conv1", c1, *t1, [&](const torch::Tensor& x) { return t1(x); }, randn({4, 1, 28, 28}));
  nn::Conv2d c2(32, 64, 3, 1, 1);
  torch::nn::Conv2d t2(torch::nn::Conv2dOptions(32, 64, 3).padding(1));
  compare_module(
      "conv2", c2, *t2, [&](const torch::Tensor& x) { return t2(x); }, randn({4, 32, 14, 14}));
  EXPECT_EQ(c2.extra_repr(), "32, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1)");
}

TEST(NnConvParity, Conv2dOptions) {
  manual_seed(2);
  nn::Conv2d c(4, 6, {3, 2}, {2, 1}, {1, 0}, {1, 2}, 2, /*bias=*/false);
  torch::nn::Conv2d t(torch::nn::Conv2dOptions(4, 6, {3, 2})
                          .stride({2, 1})
                          .padding({1, 0})
                          .dilation({1, 2})
                          .groups(2)
                          .bias(false));
  compare_module(
      "strided grouped", c, *t, [&](const torch::Tensor& x) { return t(x); }, randn({3, 4, 9, 8}));
  EXPECT_EQ(c.extra_repr(),
            "4, 6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2, "
            "bias=False");
}

TEST(NnConvParity, Conv2dSamePadding) {
  manual_seed(3);
  nn::Conv2d c(3, 5, {2, 4}, 1, "same");
  torch::nn::Conv2d t(torch::nn::Conv2dOptions(3, 5, {2, 4}).padding(torch::kSame));
  compare_module(
      "same", c, *t, [&](const torch::Tensor& x) { return t(x); }, randn({2, 3, 7, 6}));
  EXPECT_EQ(c.extra_repr(), "3, 5, kernel_size=(2, 4), stride=(1, 1), padding='same'");
  // Unbatched input.
  nn::Conv2d u(3, 5, 3, 1, 1);
  torch::nn::Conv2d tu(torch::nn::Conv2dOptions(3, 5, 3).padding(1));
  compare_module(
      "unbatched", u, *tu, [&](const torch::Tensor& x) { return tu(x); }, randn({3, 6, 5}));
}

TEST(NnConvParity, ConvTranspose2d) {
  manual_seed(4);
  nn::ConvTranspose2d c(4, 6, 3, /*stride=*/2, /*padding=*/1, /*output_padding=*/1, /*groups=*/2);
  torch::nn::ConvTranspose2d t(
      torch::nn::ConvTranspose2dOptions(4, 6, 3).stride(2).padding(1).output_padding(1).groups(2));
  compare_module(
      "transpose", c, *t, [&](const torch::Tensor& x) { return t(x); }, randn({2, 4, 5, 6}));
  EXPECT_EQ(c.weight.shape(), (Shape{4, 3, 3, 3}));
  EXPECT_EQ(c.extra_repr(),
            "4, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1), "
            "groups=2");
  nn::ConvTranspose2d d(3, 2, {2, 3}, 1, 0, 0, 1, /*bias=*/false, /*dilation=*/2);
  torch::nn::ConvTranspose2d td(
      torch::nn::ConvTranspose2dOptions(3, 2, {2, 3}).dilation(2).bias(false));
  compare_module(
      "dilated", d, *td, [&](const torch::Tensor& x) { return td(x); }, randn({2, 3, 4, 4}));
}

// Double backward through conv2d (create_graph): the gradient of sum(grad_x^2) with respect to
// the weight, compared with torch.
TEST(NnConvParity, Conv2dDoubleBackward) {
  manual_seed(5);
  Tensor x = randn({2, 4, 6, 5}, kFloat64).requires_grad_();
  Tensor w = randn({6, 2, 3, 3}, kFloat64).requires_grad_();
  torch::Tensor tx = to_torch(x).requires_grad_(), tw = to_torch(w).requires_grad_();
  Tensor y = conv2d(x, w, Tensor(), {2}, {1}, {1}, 2);
  torch::Tensor ty = torch::conv2d(tx, tw, {}, 2, 1, 1, 2);
  Tensor g = randn(y.shape(), kFloat64);
  auto grads = autograd::grad({y}, {x, w}, {g}, /*retain_graph=*/true, /*create_graph=*/true);
  auto tgrads = torch::autograd::grad({ty}, {tx, tw}, {to_torch(g)}, true, true);
  expect_parity(grads[0], tgrads[0], 1e-10, "grad x");
  expect_parity(grads[1], tgrads[1], 1e-10, "grad w");
  Tensor loss = sum(grads[0] * grads[0]) + sum(grads[1] * grads[1]);
  torch::Tensor tloss = (tgrads[0] * tgrads[0]).sum() + (tgrads[1] * tgrads[1]).sum();
  auto gg = autograd::grad({loss}, {x, w});
  auto tgg = torch::autograd::grad({tloss}, {tx, tw});
  expect_parity(gg[1], tgg[1], 1e-9, "double backward w");
  // x enters the first-order grads only through grad_w (linear in x): compare it too.
  expect_parity(gg[0], tgg[0], 1e-9, "double backward x");
}

}  // namespace
