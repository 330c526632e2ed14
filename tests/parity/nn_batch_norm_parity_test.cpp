// nn::BatchNorm1d against torch::nn::BatchNorm1d: forward, gradients and running statistics.
#include "ember/nn/batch_norm.h"
#include "support/torch_bridge.h"

using namespace ember;
using ember::testing::expect_parity;
using ember::testing::to_torch;

namespace {

// BatchNorm1d is composed of ember ops (mean, rsqrt, ...) rather than a fused kernel, so its
// float32 sums run in a different order than PyTorch's: observed errors reach ~1e-5 relative to the
// parity floor on 64-row batches.
constexpr double kTol = 3e-5;

struct Case {
  Shape input;
  bool affine;
  bool track;
  double momentum;
};

std::string describe(const Case& c) {
  return ember::detail::shape_to_string(c.input) + " affine=" + std::to_string(c.affine) +
         " track=" + std::to_string(c.track) + " momentum=" + std::to_string(c.momentum);
}

// One forward/backward of both modules on the same input and upstream gradient; compares the
// output, the input gradient, the parameter gradients and the buffers.
void step_and_compare(const std::string& what, nn::BatchNorm1d& ours,
                      torch::nn::BatchNorm1d& theirs, const Tensor& input) {
  SCOPED_TRACE(what);
  ours.zero_grad();
  theirs->zero_grad();
  Tensor x = input.detach().clone().requires_grad_();
  torch::Tensor tx = to_torch(x).requires_grad_();
  Tensor y = ours(x);
  torch::Tensor ty = theirs(tx);
  expect_parity(y, ty, kTol, "forward");
  Tensor g = randn(y.shape());
  y.backward(g);
  ty.backward(to_torch(g));
  expect_parity(x.grad(), tx.grad(), kTol, "input grad");
  if (ours.affine) {
    expect_parity(ours.weight.grad(), theirs->weight.grad(), kTol, "weight grad");
    expect_parity(ours.bias.grad(), theirs->bias.grad(), kTol, "bias grad");
  }
  if (ours.track_running_stats) {
    expect_parity(ours.running_mean, theirs->running_mean, kTol, "running_mean");
    expect_parity(ours.running_var, theirs->running_var, kTol, "running_var");
    EXPECT_EQ(ours.num_batches_tracked.item<int64_t>(),
              theirs->num_batches_tracked.item<int64_t>());
  }
}

}  // namespace

TEST(NnBatchNormParity, TrainingEvalAndRunningStatistics) {
  manual_seed(31);
  const std::vector<Case> cases = {{{16, 6}, true, true, 0.1},   {{4, 5, 7}, true, true, 0.1},
                                   {{9, 3}, false, true, 0.3},   {{8, 4}, true, false, 0.1},
                                   {{2, 3, 2}, true, true, 1.0}, {{64, 32}, true, true, 0.05}};
  for (const Case& c : cases) {
    const int64_t channels = c.input[1];
    nn::BatchNorm1d ours(channels, 1e-5, c.momentum, c.affine, c.track);
    torch::nn::BatchNorm1d theirs(torch::nn::BatchNorm1dOptions(channels)
                                      .momentum(c.momentum)
                                      .affine(c.affine)
                                      .track_running_stats(c.track));
    if (c.affine) {  // non-trivial affine parameters, copied into torch
      NoGradGuard no_grad;
      torch::NoGradGuard torch_no_grad;
      ours.weight.normal_(1.0, 0.5);
      ours.bias.normal_(0.0, 0.5);
      theirs->weight.copy_(to_torch(ours.weight));
      theirs->bias.copy_(to_torch(ours.bias));
    }
    // Same state_dict names and order as PyTorch.
    std::vector<std::string> torch_names;
    for (const auto& item : theirs->named_parameters()) torch_names.push_back(item.key());
    for (const auto& item : theirs->named_buffers()) torch_names.push_back(item.key());
    EXPECT_EQ(ours.state_dict().keys(), torch_names) << describe(c);

    for (int step = 0; step < 3; ++step)
      step_and_compare(describe(c) + " train step " + std::to_string(step), ours, theirs,
                       randn(c.input) * 2.0 + 0.5 * step);
    ours.eval();
    theirs->eval();
    step_and_compare(describe(c) + " eval", ours, theirs, randn(c.input) * 3.0 - 1.0);
  }
}

TEST(NnBatchNormParity, Float64) {
  manual_seed(32);
  nn::BatchNorm1d ours(5);
  ours.to(kFloat64);
  torch::nn::BatchNorm1d theirs(5);
  theirs->to(torch::kFloat64);
  for (int step = 0; step < 2; ++step)
    step_and_compare("float64 train", ours, theirs, randn({7, 5}, kFloat64) * 4.0);
  ours.eval();
  theirs->eval();
  step_and_compare("float64 eval", ours, theirs, randn({7, 5}, kFloat64));
}
