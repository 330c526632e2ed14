// Optimizers against torch::optim: 20 training steps of a small MLP from identical parameters and
// data, for every optimizer and every option on its own; all parameters within 1e-5 relative.
#include <functional>
#include <memory>

#include "support/torch_bridge.h"

using namespace ember;
using ember::testing::max_rel_error;
using ember::testing::to_torch;

namespace {

constexpr int kSteps = 20;
constexpr double kRtol = 1e-5;

// An 8-16-4 tanh MLP regressing random targets: x (32, 8), y (32, 4),
// params w1 (16, 8), b1 (16), w2 (4, 16), b2 (4).
struct Problem {
  Tensor x, y;
  std::vector<Tensor> init;
};

Problem make_problem() {
  manual_seed(2024);
  Problem p;
  p.x = randn({32, 8});
  p.y = randn({32, 4});
  p.init = {randn({16, 8}) * 0.4, randn({16}) * 0.1, randn({4, 16}) * 0.3, randn({4}) * 0.1};
  return p;
}

Tensor ember_loss(const Problem& pb, const std::vector<Tensor>& w) {
  Tensor d = linear(tanh(linear(pb.x, w[0], w[1])), w[2], w[3]) - pb.y;
  return mean(d * d);
}

torch::Tensor torch_loss(const torch::Tensor& x, const torch::Tensor& y,
                         const std::vector<torch::Tensor>& w) {
  torch::Tensor d = torch::linear(torch::tanh(torch::linear(x, w[0], w[1])), w[2], w[3]) - y;
  return (d * d).mean();
}

using EmberFactory =
    std::function<std::unique_ptr<optim::Optimizer>(const std::vector<Tensor>& params)>;
using TorchFactory = std::function<std::unique_ptr<torch::optim::Optimizer>(
    const std::vector<torch::Tensor>& params)>;

// How the two runs get their gradients.
enum class Mode {
  // float32; each step Ember computes the MLP gradients and torch's .grad is set to a copy of
  // them, so both optimizers see bit-identical gradients and only the updates are compared
  // (they agree bit for bit on x86-64 with FMA; see Note [Fused optimizer rounding]).
  // Independent float32 forward/backward passes differ by ~5e-6 relative in the gradients
  // after one step (summation order in the cancelling batch sums), which 20 steps amplify past
  // 1e-5 for parameters that pass near zero, so the independent run uses float64.
  kSharedGradsFloat32,
  // float64; each framework runs its own forward and backward pass.
  kIndependentFloat64,
};

const char* mode_name(Mode m) {
  return m == Mode::kSharedGradsFloat32 ? "float32, shared gradients"
                                        : "float64, independent forward/backward";
}

// Trains both for kSteps and compares every parameter. libtorch's C++ optimizers have no
// `maximize` option; PyTorch 1.13 implements it as `grad = -grad` before anything else
// (torch/optim/{sgd,adam,rmsprop,adagrad}.py), so with negate_torch_grads the torch side
// negates its gradients before each step, which is the same update.
void expect_parity_in(Mode mode, const EmberFactory& make_ember, const TorchFactory& make_torch,
                      bool negate_torch_grads) {
  const DType dtype = mode == Mode::kSharedGradsFloat32 ? kFloat32 : kFloat64;
  Problem pb = make_problem();
  pb.x = pb.x.to(dtype);
  pb.y = pb.y.to(dtype);
  std::vector<Tensor> ep;
  std::vector<torch::Tensor> tp;
  for (Tensor& t : pb.init) {
    t = t.to(dtype);
    ep.push_back(t.clone().requires_grad_());
    tp.push_back(to_torch(t).requires_grad_());
  }
  const torch::Tensor tx = to_torch(pb.x), ty = to_torch(pb.y);
  std::unique_ptr<optim::Optimizer> eo = make_ember(ep);
  std::unique_ptr<torch::optim::Optimizer> to = make_torch(tp);
  for (int s = 0; s < kSteps; ++s) {
    eo->zero_grad();
    ember_loss(pb, ep).backward();
    eo->step();
    if (mode == Mode::kSharedGradsFloat32) {
      for (size_t i = 0; i < ep.size(); ++i) tp[i].mutable_grad() = to_torch(ep[i].grad());
    } else {
      to->zero_grad();
      torch_loss(tx, ty, tp).backward();
    }
    if (negate_torch_grads) {
      torch::NoGradGuard no_grad;
      for (torch::Tensor& p : tp) p.mutable_grad().neg_();
    }
    to->step();
  }
  const char* names[] = {"w1", "b1", "w2", "b2"};
  double worst = 0, moved = 0;
  std::string where = "none";
  for (size_t i = 0; i < ep.size(); ++i) {
    const double e = max_rel_error(ep[i], tp[i]);
    if (e > worst || e != e) {
      worst = e;
      const torch::Tensor a = to_torch(ep[i]).to(torch::kFloat64).flatten();
      const torch::Tensor b = tp[i].detach().to(torch::kFloat64).flatten();
      const int64_t k = ((a - b).abs() / b.abs().clamp_min(1e-3)).argmax().item<int64_t>();
      where = std::string(names[i]) + "[" + std::to_string(k) + "]: ember " +
              ::testing::PrintToString(a[k].item<double>()) + " vs torch " +
              ::testing::PrintToString(b[k].item<double>()) + ", initially " +
              ::testing::PrintToString(pb.init[i].flatten()[k].item<double>());
    }
    moved = std::max(moved, max_rel_error(ep[i], to_torch(pb.init[i])));
  }
  EXPECT_LE(worst, kRtol) << mode_name(mode) << ": after " << kSteps
                          << " steps the max relative error is " << worst << " (in " << where
                          << ")";
  EXPECT_GT(moved, 1e-3) << "the parameters barely moved; the test would not detect a wrong update";
}

void expect_parity(const EmberFactory& make_ember, const TorchFactory& make_torch,
                   bool negate_torch_grads = false) {
  expect_parity_in(Mode::kSharedGradsFloat32, make_ember, make_torch, negate_torch_grads);
  expect_parity_in(Mode::kIndependentFloat64, make_ember, make_torch, negate_torch_grads);
}

template <class EmberOpt, class EmberOptions, class TorchOpt, class TorchOptions>
void expect_parity_with(const EmberOptions& eopts, const TorchOptions& topts,
                        bool negate_torch_grads = false) {
  expect_parity(
      [&](const std::vector<Tensor>& p) { return std::make_unique<EmberOpt>(p, eopts); },
      [&](const std::vector<torch::Tensor>& p) { return std::make_unique<TorchOpt>(p, topts); },
      negate_torch_grads);
}

void sgd(const optim::SGDOptions& e, const torch::optim::SGDOptions& t, bool neg = false) {
  expect_parity_with<optim::SGD, optim::SGDOptions, torch::optim::SGD>(e, t, neg);
}
void adam(const optim::AdamOptions& e, const torch::optim::AdamOptions& t, bool neg = false) {
  expect_parity_with<optim::Adam, optim::AdamOptions, torch::optim::Adam>(e, t, neg);
}
void adamw(const optim::AdamWOptions& e, const torch::optim::AdamWOptions& t) {
  expect_parity_with<optim::AdamW, optim::AdamWOptions, torch::optim::AdamW>(e, t);
}
void rmsprop(const optim::RMSpropOptions& e, const torch::optim::RMSpropOptions& t,
             bool neg = false) {
  expect_parity_with<optim::RMSprop, optim::RMSpropOptions, torch::optim::RMSprop>(e, t, neg);
}
void adagrad(const optim::AdagradOptions& e, const torch::optim::AdagradOptions& t,
             bool neg = false) {
  expect_parity_with<optim::Adagrad, optim::AdagradOptions, torch::optim::Adagrad>(e, t, neg);
}

using TSGD = torch::optim::SGDOptions;
using TAdam = torch::optim::AdamOptions;
using TAdamW = torch::optim::AdamWOptions;
using TRMSprop = torch::optim::RMSpropOptions;
using TAdagrad = torch::optim::AdagradOptions;

}  // namespace

// ---- SGD ----

TEST(OptimSgdParity, Plain) {
  sgd({.lr = 0.1}, TSGD(0.1));
}
TEST(OptimSgdParity, Momentum) {
  sgd({.lr = 0.05, .momentum = 0.9}, TSGD(0.05).momentum(0.9));
}
TEST(OptimSgdParity, Dampening) {
  sgd({.lr = 0.05, .momentum = 0.9, .dampening = 0.3}, TSGD(0.05).momentum(0.9).dampening(0.3));
}
TEST(OptimSgdParity, Nesterov) {
  sgd({.lr = 0.05, .momentum = 0.8, .nesterov = true}, TSGD(0.05).momentum(0.8).nesterov(true));
}
TEST(OptimSgdParity, WeightDecay) {
  sgd({.lr = 0.1, .weight_decay = 0.05}, TSGD(0.1).weight_decay(0.05));
}
TEST(OptimSgdParity, WeightDecayWithMomentum) {
  sgd({.lr = 0.05, .momentum = 0.9, .weight_decay = 0.05},
      TSGD(0.05).momentum(0.9).weight_decay(0.05));
}
TEST(OptimSgdParity, Maximize) {
  sgd({.lr = 0.02, .momentum = 0.5, .weight_decay = 0.01, .maximize = true},
      TSGD(0.02).momentum(0.5).weight_decay(0.01), /*neg=*/true);
}

// ---- Adam / AdamW ----

TEST(OptimAdamParity, Plain) {
  adam({.lr = 0.01}, TAdam(0.01));
}
TEST(OptimAdamParity, Betas) {
  adam({.lr = 0.01, .betas = {0.8, 0.95}, .eps = 1e-6},
       TAdam(0.01).betas(std::make_tuple(0.8, 0.95)).eps(1e-6));
}
TEST(OptimAdamParity, WeightDecay) {
  adam({.lr = 0.01, .weight_decay = 0.1}, TAdam(0.01).weight_decay(0.1));
}
TEST(OptimAdamParity, Amsgrad) {
  adam({.lr = 0.01, .amsgrad = true}, TAdam(0.01).amsgrad(true));
}
TEST(OptimAdamParity, Maximize) {
  adam({.lr = 0.01, .weight_decay = 0.01, .maximize = true}, TAdam(0.01).weight_decay(0.01),
       /*neg=*/true);
}
TEST(OptimAdamWParity, DefaultWeightDecay) {
  adamw({.lr = 0.01}, TAdamW(0.01));
}
TEST(OptimAdamWParity, LargeWeightDecayAmsgrad) {
  adamw({.lr = 0.01, .weight_decay = 0.5, .amsgrad = true},
        TAdamW(0.01).weight_decay(0.5).amsgrad(true));
}

// ---- RMSprop ----

TEST(OptimRmspropParity, Plain) {
  rmsprop({.lr = 0.01}, TRMSprop(0.01));
}
TEST(OptimRmspropParity, Alpha) {
  rmsprop({.lr = 0.01, .alpha = 0.9, .eps = 1e-6}, TRMSprop(0.01).alpha(0.9).eps(1e-6));
}
TEST(OptimRmspropParity, Centered) {
  rmsprop({.lr = 0.01, .centered = true}, TRMSprop(0.01).centered(true));
}
TEST(OptimRmspropParity, Momentum) {
  rmsprop({.lr = 0.005, .momentum = 0.9}, TRMSprop(0.005).momentum(0.9));
}
TEST(OptimRmspropParity, CenteredMomentum) {
  rmsprop({.lr = 0.005, .momentum = 0.5, .centered = true},
          TRMSprop(0.005).momentum(0.5).centered(true));
}
TEST(OptimRmspropParity, WeightDecay) {
  rmsprop({.lr = 0.01, .weight_decay = 0.1}, TRMSprop(0.01).weight_decay(0.1));
}
TEST(OptimRmspropParity, Maximize) {
  rmsprop({.lr = 0.01, .maximize = true}, TRMSprop(0.01), /*neg=*/true);
}

// ---- Adagrad ----

TEST(OptimAdagradParity, Plain) {
  adagrad({.lr = 0.1}, TAdagrad(0.1));
}
TEST(OptimAdagradParity, LrDecay) {
  adagrad({.lr = 0.1, .lr_decay = 0.05}, TAdagrad(0.1).lr_decay(0.05));
}
TEST(OptimAdagradParity, WeightDecay) {
  adagrad({.lr = 0.1, .weight_decay = 0.1}, TAdagrad(0.1).weight_decay(0.1));
}
TEST(OptimAdagradParity, InitialAccumulatorValue) {
  adagrad({.lr = 0.1, .initial_accumulator_value = 0.5},
          TAdagrad(0.1).initial_accumulator_value(0.5));
}
TEST(OptimAdagradParity, Maximize) {
  adagrad({.lr = 0.1, .eps = 1e-8, .maximize = true}, TAdagrad(0.1).eps(1e-8), /*neg=*/true);
}

// ---- parameter groups: group 0 (w1, b1) overrides lr and weight decay, group 1 (w2, b2)
// inherits the defaults ----

namespace {
template <class TorchOpt, class TorchOptions>
std::unique_ptr<torch::optim::Optimizer> torch_groups(const std::vector<torch::Tensor>& p,
                                                      const TorchOptions& group0,
                                                      const TorchOptions& defaults) {
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{p[0], p[1]},
                      std::make_unique<TorchOptions>(group0));
  groups.emplace_back(std::vector<torch::Tensor>{p[2], p[3]});
  return std::make_unique<TorchOpt>(groups, defaults);
}

std::vector<optim::ParamGroup> ember_groups(const std::vector<Tensor>& p, double lr, double wd) {
  return {{.params = {p[0], p[1]}, .lr = lr, .weight_decay = wd}, {.params = {p[2], p[3]}}};
}
}  // namespace

TEST(OptimParamGroupsParity, SgdMomentum) {
  expect_parity(
      [](const std::vector<Tensor>& p) {
        return std::make_unique<optim::SGD>(ember_groups(p, 0.02, 0.1),
                                            optim::SGDOptions{.lr = 0.08, .momentum = 0.9});
      },
      [](const std::vector<torch::Tensor>& p) {
        return torch_groups<torch::optim::SGD>(p, TSGD(0.02).momentum(0.9).weight_decay(0.1),
                                               TSGD(0.08).momentum(0.9));
      });
}

TEST(OptimParamGroupsParity, Adam) {
  expect_parity(
      [](const std::vector<Tensor>& p) {
        return std::make_unique<optim::Adam>(ember_groups(p, 0.003, 0.2),
                                             optim::AdamOptions{.lr = 0.02});
      },
      [](const std::vector<torch::Tensor>& p) {
        return torch_groups<torch::optim::Adam>(p, TAdam(0.003).weight_decay(0.2), TAdam(0.02));
      });
}

TEST(OptimParamGroupsParity, AdamW) {
  expect_parity(
      [](const std::vector<Tensor>& p) {
        return std::make_unique<optim::AdamW>(ember_groups(p, 0.005, 0.3),
                                              optim::AdamWOptions{.lr = 0.02});
      },
      [](const std::vector<torch::Tensor>& p) {
        return torch_groups<torch::optim::AdamW>(p, TAdamW(0.005).weight_decay(0.3), TAdamW(0.02));
      });
}

TEST(OptimParamGroupsParity, RmspropPerGroupOption) {
  // Group 0 also overrides an optimizer-specific option (momentum) by name.
  expect_parity(
      [](const std::vector<Tensor>& p) {
        std::vector<optim::ParamGroup> g = ember_groups(p, 0.002, 0.05);
        g[0].options["momentum"] = 0.5;
        return std::make_unique<optim::RMSprop>(g, optim::RMSpropOptions{.lr = 0.01});
      },
      [](const std::vector<torch::Tensor>& p) {
        return torch_groups<torch::optim::RMSprop>(
            p, TRMSprop(0.002).weight_decay(0.05).momentum(0.5), TRMSprop(0.01));
      });
}

TEST(OptimParamGroupsParity, Adagrad) {
  expect_parity(
      [](const std::vector<Tensor>& p) {
        return std::make_unique<optim::Adagrad>(ember_groups(p, 0.03, 0.1),
                                                optim::AdagradOptions{.lr = 0.1});
      },
      [](const std::vector<torch::Tensor>& p) {
        return torch_groups<torch::optim::Adagrad>(p, TAdagrad(0.03).weight_decay(0.1),
                                                   TAdagrad(0.1));
      });
}

// ---- gradient clipping against torch::nn::utils ----

namespace {
// Random gradients on three parameters, in ember and in torch.
void make_grads(std::vector<Tensor>& ep, std::vector<torch::Tensor>& tp, double scale) {
  manual_seed(11);
  for (const Shape& s : {Shape{5, 3}, Shape{7}, Shape{2, 2, 2}}) {
    Tensor p = randn(s).requires_grad_();
    p.set_grad(randn(s) * scale);
    torch::Tensor t = to_torch(p).requires_grad_();
    t.mutable_grad() = to_torch(p.grad());
    ep.push_back(p);
    tp.push_back(t);
  }
}
}  // namespace

TEST(OptimClipGradParity, NormTypes) {
  for (double norm_type : {2.0, 1.0, 3.0, optim::kInf}) {
    for (double max_norm : {0.5, 1e3}) {
      std::vector<Tensor> ep;
      std::vector<torch::Tensor> tp;
      make_grads(ep, tp, 2.0);
      const double e = optim::clip_grad_norm_(ep, max_norm, norm_type);
      const double t = torch::nn::utils::clip_grad_norm_(tp, max_norm, norm_type);
      EXPECT_NEAR(e, t, 1e-5 * t) << "norm_type " << norm_type;
      for (size_t i = 0; i < ep.size(); ++i)
        ember::testing::expect_close(ep[i].grad(), tp[i].grad(), 1e-5,
                                     "clipped grad " + std::to_string(i));
    }
  }
}

TEST(OptimClipGradParity, Value) {
  std::vector<Tensor> ep;
  std::vector<torch::Tensor> tp;
  make_grads(ep, tp, 2.0);
  optim::clip_grad_value_(ep, 0.7);
  torch::nn::utils::clip_grad_value_(tp, 0.7);
  for (size_t i = 0; i < ep.size(); ++i)
    ember::testing::expect_close(ep[i].grad(), tp[i].grad(), 0, "clamped grad");
}
