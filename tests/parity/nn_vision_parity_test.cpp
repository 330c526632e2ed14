// Vision modules against torch::nn: BatchNorm2d (train/eval, running statistics over several
// steps, double backward), GroupNorm, pools (repr, forward, gradient), Dropout2d statistics.
#include "ember/nn/batch_norm.h"
#include "ember/nn/layers.h"
#include "ember/nn/pooling.h"
#include "ember/ops/vision.h"
#include "support/torch_bridge.h"

using namespace ember;
using ember::testing::expect_parity;
using ember::testing::to_torch;

namespace {

constexpr double kTol = 1e-5;

// One forward/backward of both modules on the same input and output gradient; compares output,
// input gradient and the parameters' gradients. A float64 torch module (widened inputs) gives
// the exact answer to compare a float32 Ember module with, where torch's own float32 sums over
// large batches differ from it by about 1e-5.
template <class Ours, class Theirs>
void step_and_compare(const std::string& what, Ours& ours, Theirs& theirs, const Tensor& input,
                      torch::Dtype torch_dtype = torch::kFloat32) {
  SCOPED_TRACE(what);
  ours.zero_grad();
  theirs->zero_grad();
  Tensor x = input.detach().clone().requires_grad_();
  torch::Tensor tx = to_torch(x).to(torch_dtype).requires_grad_();
  Tensor y = ours(x);
  torch::Tensor ty = theirs->forward(tx);
  expect_parity(y, ty, kTol, "forward");
  Tensor g = randn(y.shape(), y.dtype());
  y.backward(g);
  ty.backward(to_torch(g).to(torch_dtype));
  expect_parity(x.grad(), tx.grad(), kTol, "input grad");
  const auto params = ours.named_parameters();
  for (const auto& item : theirs->named_parameters()) {
    SCOPED_TRACE(item.key());
    expect_parity(params.at(item.key()).grad(), item.value().grad(), kTol, "parameter grad");
  }
}

void compare_bn_buffers(nn::BatchNorm2d& ours, torch::nn::BatchNorm2d& theirs) {
  expect_parity(ours.running_mean, theirs->running_mean, kTol, "running_mean");
  expect_parity(ours.running_var, theirs->running_var, kTol, "running_var");
  EXPECT_EQ(ours.num_batches_tracked.item<int64_t>(), theirs->num_batches_tracked.item<int64_t>());
}

}  // namespace

TEST(NnVisionParity, BatchNorm2dTrainingEvalAndRunningStatistics) {
  manual_seed(41);
  struct Case {
    Shape input;
    bool affine, track;
    double momentum;
  };
  for (const Case& c : std::vector<Case>{{{8, 4, 6, 5}, true, true, 0.1},
                                         {{4, 3, 5, 5}, false, true, 0.3},
                                         {{6, 5, 3, 4}, true, false, 0.1},
                                         {{64, 16, 14, 14}, true, true, 0.1}}) {
    SCOPED_TRACE(ember::detail::shape_to_string(c.input));
    const int64_t C = c.input[1];
    nn::BatchNorm2d ours(C, 1e-5, c.momentum, c.affine, c.track);
    torch::nn::BatchNorm2d theirs(torch::nn::BatchNorm2dOptions(C)
                                      .momentum(c.momentum)
                                      .affine(c.affine)
                                      .track_running_stats(c.track));
    if (c.affine) {
      NoGradGuard no_grad;
      torch::NoGradGuard torch_no_grad;
      ours.weight.normal_(1.0, 0.5);
      ours.bias.normal_(0.0, 0.5);
      theirs->weight.copy_(to_torch(ours.weight));
      theirs->bias.copy_(to_torch(ours.bias));
    }
    std::vector<std::string> names;
    for (const auto& item : theirs->named_parameters()) names.push_back(item.key());
    for (const auto& item : theirs->named_buffers()) names.push_back(item.key());
    EXPECT_EQ(ours.state_dict().keys(), names);
    theirs->to(torch::kFloat64);  // the exact answer (see step_and_compare)
    for (int step = 0; step < 4; ++step) {
      step_and_compare("train step " + std::to_string(step), ours, theirs,
                       randn(c.input) * 2.0 + 0.7 * step, torch::kFloat64);
      if (c.track) compare_bn_buffers(ours, theirs);
    }
    ours.eval();
    theirs->eval();
    step_and_compare("eval", ours, theirs, randn(c.input) * 3.0 - 1.0, torch::kFloat64);
    if (c.track) compare_bn_buffers(ours, theirs);
  }
}

TEST(NnVisionParity, BatchNorm2dReprAndFloat64) {
  nn::BatchNorm2d ours(3);
  EXPECT_EQ(ours.repr(),
            "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  ours.to(kFloat64);
  torch::nn::BatchNorm2d theirs(3);
  theirs->to(torch::kFloat64);
  for (int step = 0; step < 2; ++step)
    step_and_compare("float64 train", ours, theirs, randn({5, 3, 4, 3}, kFloat64) * 4.0,
                     torch::kFloat64);
  ours.eval();
  theirs->eval();
  step_and_compare("float64 eval", ours, theirs, randn({5, 3, 4, 3}, kFloat64), torch::kFloat64);
}

// grad(create_graph) through batch_norm, then a second gradient, against torch.
TEST(NnVisionParity, BatchNormDoubleBackward) {
  manual_seed(43);
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    Tensor x = randn({4, 3, 3, 2}, kFloat64).requires_grad_();
    Tensor w = randn({3}, kFloat64).requires_grad_();
    Tensor b = randn({3}, kFloat64).requires_grad_();
    Tensor rm = randn({3}, kFloat64), rv = rand({3}, kFloat64) + 0.5;
    torch::Tensor tx = to_torch(x).requires_grad_(), tw = to_torch(w).requires_grad_(),
                  tb = to_torch(b).requires_grad_();
    Tensor y = batch_norm(x, training ? Tensor() : rm, training ? Tensor() : rv, w, b, training);
    torch::Tensor ty =
        torch::batch_norm(tx, tw, tb, training ? torch::Tensor() : to_torch(rm),
                          training ? torch::Tensor() : to_torch(rv), training, 0.1, 1e-5, false);
    Tensor g = randn(y.shape(), kFloat64);
    std::vector<Tensor> gr = autograd::grad({sum(y * y * g)}, {x, w, b}, {}, false, true);
    std::vector<torch::Tensor> tgr = torch::autograd::grad({(ty * ty * to_torch(g)).sum()},
                                                           {tx, tw, tb}, {}, c10::nullopt, true);
    Tensor l2 = sum(gr[0] * gr[0]) + sum(gr[1] * gr[1]);
    torch::Tensor tl2 = (tgr[0] * tgr[0]).sum() + (tgr[1] * tgr[1]).sum();
    std::vector<Tensor> gg = autograd::grad({l2}, {x, w}, {}, false, false);
    std::vector<torch::Tensor> tgg = torch::autograd::grad({tl2}, {tx, tw});
    for (size_t i = 0; i < gr.size(); ++i) expect_parity(gr[i], tgr[i], 1e-8, "first order");
    for (size_t i = 0; i < gg.size(); ++i) expect_parity(gg[i], tgg[i], 1e-8, "second order");
  }
}

TEST(NnVisionParity, GroupNorm) {
  manual_seed(44);
  nn::GroupNorm ours(2, 6);
  torch::nn::GroupNorm theirs(torch::nn::GroupNormOptions(2, 6));
  EXPECT_EQ(ours.repr(), "GroupNorm(2, 6, eps=1e-05, affine=True)");
  {
    NoGradGuard no_grad;
    torch::NoGradGuard torch_no_grad;
    ours.weight.normal_(1.0, 0.5);
    ours.bias.normal_(0.0, 0.5);
    theirs->weight.copy_(to_torch(ours.weight));
    theirs->bias.copy_(to_torch(ours.bias));
  }
  EXPECT_EQ(ours.state_dict().keys(), (std::vector<std::string>{"weight", "bias"}));
  step_and_compare("4d", ours, theirs, randn({3, 6, 5, 4}) * 2.0 + 1.0);
  step_and_compare("3d", ours, theirs, randn({2, 6, 7}));
  nn::GroupNorm plain(3, 3, 1e-3, false);
  EXPECT_EQ(plain.state_dict().keys().size(), 0u);
  EXPECT_EQ(plain.repr(), "GroupNorm(3, 3, eps=0.001, affine=False)");
}

TEST(NnVisionParity, Pools) {
  manual_seed(45);
  nn::MaxPool2d mp({2});
  torch::nn::MaxPool2d tmp(torch::nn::MaxPool2dOptions(2));
  EXPECT_EQ(mp.repr(),
            "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
  step_and_compare("max 2", mp, tmp, randn({4, 3, 8, 6}));
  nn::MaxPool2d mp2({3, 2}, {2, 1}, {1, 0}, {1}, true);
  torch::nn::MaxPool2d tmp2(
      torch::nn::MaxPool2dOptions({3, 2}).stride({2, 1}).padding({1, 0}).ceil_mode(true));
  EXPECT_EQ(mp2.repr(),
            "MaxPool2d(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=1, "
            "ceil_mode=True)");
  step_and_compare("max rect", mp2, tmp2, randn({2, 3, 7, 6}));

  nn::AvgPool2d ap({3}, {2}, {1}, false, false);
  torch::nn::AvgPool2d tap(
      torch::nn::AvgPool2dOptions(3).stride(2).padding(1).count_include_pad(false));
  EXPECT_EQ(ap.repr(), "AvgPool2d(kernel_size=3, stride=2, padding=1)");
  step_and_compare("avg", ap, tap, randn({2, 3, 7, 8}));

  nn::AdaptiveAvgPool2d aap({3, 5});
  torch::nn::AdaptiveAvgPool2d taap(torch::nn::AdaptiveAvgPool2dOptions({3, 5}));
  EXPECT_EQ(aap.repr(), "AdaptiveAvgPool2d(output_size=(3, 5))");
  step_and_compare("adaptive", aap, taap, randn({2, 3, 7, 11}));
  EXPECT_EQ(nn::AdaptiveAvgPool2d({1}).repr(), "AdaptiveAvgPool2d(output_size=1)");
}

TEST(NnVisionParity, Dropout2dZeroesWholeChannels) {
  manual_seed(46);
  nn::Dropout2d drop(0.3);
  EXPECT_EQ(drop.repr(), "Dropout2d(p=0.3, inplace=False)");
  Tensor x = (rand({50, 40, 3, 4}) + 1.0).requires_grad_();
  Tensor y = drop(x);
  ASSERT_EQ(y.shape(), x.shape());
  // Each channel is either all zero or x / (1 - p).
  torch::Tensor ty = to_torch(y.detach()), tx = to_torch(x.detach());
  torch::Tensor ratio = (ty / tx).reshape({50 * 40, 12});
  torch::Tensor kept = ratio.select(1, 0).ne(0);
  const double scale = 1.0 / 0.7;
  EXPECT_TRUE(torch::allclose(
      ratio, kept.unsqueeze(1).to(torch::kFloat) * scale * torch::ones({1, 12}), 1e-5, 1e-6));
  const double frac = 1.0 - kept.to(torch::kFloat).mean().item<double>();
  EXPECT_NEAR(frac, 0.3, 0.04);  // 2000 channels: sd ~ 0.01
  // The gradient is the same mask.
  y.backward(ones_like(y));
  EXPECT_TRUE(torch::allclose(to_torch(x.grad()), ratio.reshape({50, 40, 3, 4}), 1e-5, 1e-6));
  // Unbatched (C, H, W) and eval mode.
  EXPECT_EQ(drop(rand({6, 2, 2})).shape(), (Shape{6, 2, 2}));
  drop.eval();
  Tensor z = drop(x);
  EXPECT_TRUE(z.is_same(x));
}
