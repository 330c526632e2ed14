// Optimizer base behaviour: param groups and defaults, zero_grad, skipped parameters, in-place
// updates, closures and argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "ember/ember.h"

using namespace ember;

namespace {

Tensor param(IntList shape, double value) {
  return full(shape, value).requires_grad_();
}

// Sets p.grad to a constant.
void set_grad(const Tensor& p, double g) {
  p.set_grad(full(p.shape(), g));
}

template <class E>
void expect_error(const std::function<void()>& f, const std::string& fragment) {
  try {
    f();
    ADD_FAILURE() << "expected an error mentioning '" << fragment << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(OptimOptimizer, SgdStepIsExact) {
  Tensor p = param({3}, 1.0);
  optim::SGD opt({p}, {.lr = 0.5});
  set_grad(p, 0.25);
  opt.step();
  EXPECT_EQ(p.to_vector<float>(), std::vector<float>(3, 0.875f));
}

TEST(OptimOptimizer, GroupsInheritDefaultsAndOverride) {
  Tensor a = param({2}, 1), b = param({2}, 1), c = param({2}, 1);
  optim::SGD opt({{.params = {a}, .lr = 0.1},
                  {.params = {b}, .weight_decay = 0.5, .options = {{"momentum", 0.5}}}},
                 {.lr = 0.01, .momentum = 0.9, .weight_decay = 1e-4});
  const auto& g = opt.param_groups();
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(*g[0].lr, 0.1);
  EXPECT_EQ(*g[0].weight_decay, 1e-4);
  EXPECT_EQ(g[0].get("momentum"), 0.9);
  EXPECT_EQ(g[0].get("nesterov"), 0.0);
  EXPECT_EQ(*g[1].lr, 0.01);
  EXPECT_EQ(*g[1].weight_decay, 0.5);
  EXPECT_EQ(g[1].get("momentum"), 0.5);
  EXPECT_EQ(optim::SGD::options_of(g[1]).momentum, 0.5);
  opt.add_param_group({.params = {c}, .lr = 1.0});
  EXPECT_EQ(opt.param_groups()[2].get("dampening"), 0.0);
  EXPECT_EQ(opt.param_groups()[2].get("weight_decay"), 1e-4);
}

TEST(OptimOptimizer, LrIsWritableBetweenSteps) {
  Tensor p = param({1}, 1.0);
  optim::SGD opt({p}, {.lr = 0.5});
  opt.param_groups()[0].lr = 0.25;
  set_grad(p, 1.0);
  opt.step();
  EXPECT_EQ(p.item<float>(), 0.75f);
  opt.param_groups()[0].set("lr", 0.5);
  opt.step();
  EXPECT_EQ(p.item<float>(), 0.25f);
}

TEST(OptimOptimizer, ZeroGrad) {
  Tensor p = param({2}, 1.0);
  optim::Adam opt({p});
  set_grad(p, 3.0);
  Tensor g = p.grad();
  opt.zero_grad(/*set_to_none=*/false);
  EXPECT_TRUE(p.grad().is_same(g));
  EXPECT_EQ(p.grad().to_vector<float>(), std::vector<float>(2, 0.f));
  opt.zero_grad();
  EXPECT_FALSE(p.grad().defined());
  opt.zero_grad(false);  // no grad: nothing to do
  EXPECT_FALSE(p.grad().defined());
}

TEST(OptimOptimizer, ParamsWithoutGradAreSkipped) {
  Tensor a = param({2}, 1.0), b = param({2}, 1.0);
  optim::Adam opt({a, b}, {.lr = 0.1});
  set_grad(a, 1.0);
  const uint64_t va = a.version(), vb = b.version();
  opt.step();
  EXPECT_NE(a.to_vector<float>()[0], 1.0f);
  EXPECT_EQ(b.to_vector<float>(), std::vector<float>(2, 1.0f));
  EXPECT_GT(a.version(), va);
  EXPECT_EQ(b.version(), vb);
  ASSERT_NE(opt.state(a), nullptr);
  EXPECT_EQ(opt.state(a)->step, 1);
  EXPECT_EQ(opt.state(b), nullptr);
  // b has no entries in the state dict, a has step, exp_avg and exp_avg_sq.
  int a_keys = 0, b_keys = 0;
  for (const auto& [k, t] : opt.state_dict()) {
    a_keys += k.rfind("state.0.", 0) == 0;
    b_keys += k.rfind("state.1.", 0) == 0;
  }
  EXPECT_EQ(a_keys, 3);
  EXPECT_EQ(b_keys, 0);
}

TEST(OptimOptimizer, StepRunsUnderNoGradAndKeepsLeaves) {
  Tensor p = param({2}, 1.0);
  optim::SGD opt({p}, {.lr = 0.1, .momentum = 0.9});
  set_grad(p, 1.0);
  opt.step();
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_TRUE(opt.state_buffer(p, "momentum_buffer").defined());
  EXPECT_FALSE(opt.state_buffer(p, "no_such_buffer").defined());
}

TEST(OptimOptimizer, ClosureIsEvaluatedWithGrad) {
  Tensor p = param({1}, 2.0);
  optim::SGD opt({p}, {.lr = 0.25});
  NoGradGuard no_grad;  // the closure still runs with grad enabled
  Tensor loss = opt.step([&] {
    opt.zero_grad();
    Tensor l = (p * p).sum();
    l.backward();
    return l;
  });
  EXPECT_EQ(loss.item<float>(), 4.0f);
  EXPECT_EQ(p.item<float>(), 1.0f);  // 2 - 0.25 * 4
}

TEST(OptimOptimizer, Float64Parameters) {
  Tensor p = full({2}, 1.0, kFloat64).requires_grad_();
  optim::RMSprop opt({p}, {.lr = 0.01, .momentum = 0.5, .centered = true});
  p.set_grad(full({2}, 0.5, kFloat64));
  opt.step();
  EXPECT_EQ(opt.state_buffer(p, "square_avg").dtype(), kFloat64);
  EXPECT_LT(p.to_vector<double>()[0], 1.0);
}

TEST(OptimOptimizer, AmsgradBufferOnlyWhenEnabled) {
  Tensor a = param({2}, 1.0), b = param({2}, 1.0);
  optim::Adam opt({{.params = {a}, .options = {{"amsgrad", 1}}}, {.params = {b}}});
  set_grad(a, 1.0);
  set_grad(b, 1.0);
  opt.step();
  EXPECT_TRUE(opt.state_buffer(a, "max_exp_avg_sq").defined());
  EXPECT_FALSE(opt.state_buffer(b, "max_exp_avg_sq").defined());
}

TEST(OptimOptimizer, BadParametersAreRejected) {
  Tensor p = param({2}, 1.0);
  expect_error<ValueError>([] { optim::SGD opt(std::vector<Tensor>{}); }, "empty parameter list");
  expect_error<ValueError>([&] { optim::SGD opt({p, p}); }, "more than once");
  expect_error<ValueError>([&] { optim::Adam opt({p * 2}); }, "non-leaf");
  expect_error<ValueError>([] { optim::Adam opt({arange(3)}); }, "floating-point");
  Tensor t = randn({3, 2}).t().detach().requires_grad_();
  expect_error<ValueError>([&] { optim::Adam opt({t}); }, "not contiguous");
  optim::SGD opt({p});
  expect_error<ValueError>([&] { opt.add_param_group({.params = {p}}); }, "more than once");
  expect_error<ValueError>([&] { opt.add_param_group({}); }, "no parameters");
}

TEST(OptimOptimizer, BadHyperparametersAreRejected) {
  Tensor p = param({2}, 1.0);
  expect_error<ValueError>([&] { optim::SGD opt({p}, {.lr = -1}); }, "invalid learning rate");
  expect_error<ValueError>([&] { optim::SGD opt({p}, {.nesterov = true}); }, "Nesterov");
  expect_error<ValueError>(
      [&] { optim::SGD opt({p}, {.momentum = 0.9, .dampening = 0.1, .nesterov = true}); },
      "zero dampening");
  expect_error<ValueError>([&] { optim::Adam opt({p}, {.betas = {0.9, 1.0}}); }, "index 1");
  expect_error<ValueError>([&] { optim::AdamW opt({p}, {.eps = -1}); }, "AdamW: invalid epsilon");
  expect_error<ValueError>([&] { optim::RMSprop opt({p}, {.alpha = -0.1}); }, "alpha");
  expect_error<ValueError>([&] { optim::Adagrad opt({p}, {.lr_decay = -1}); }, "lr_decay");
  expect_error<ValueError>(
      [&] {
        optim::SGD opt({{.params = {p}, .options = {{"betas", 1}}}});
      },
      "unknown hyperparameter 'betas'");
  expect_error<ValueError>(
      [&] {
        optim::SGD opt({{.params = {p}, .options = {{"lr", 1}}}});
      },
      "unknown hyperparameter 'lr'");
}

TEST(OptimOptimizer, GradMismatchIsAnError) {
  Tensor p = param({2}, 1.0);
  optim::SGD opt({p});
  p.set_grad(ones({3}));
  EXPECT_THROW(opt.step(), ShapeError);
  p.set_grad(ones({2}, kFloat64));
  EXPECT_THROW(opt.step(), DTypeError);
}

TEST(OptimOptimizer, AdamWDecouplesWeightDecay) {
  // With a zero gradient Adam's update is 0, so only the decay moves the parameter.
  Tensor p = param({1}, 2.0), q = param({1}, 2.0);
  optim::AdamW adamw({p}, {.lr = 0.1, .weight_decay = 0.5});
  optim::Adam adam({q}, {.lr = 0.1, .weight_decay = 0.5});
  EXPECT_EQ(adamw.param_groups()[0].get("weight_decay"), 0.5);
  EXPECT_EQ(optim::AdamW({param({1}, 0)}).param_groups()[0].get("weight_decay"), 1e-2);
  set_grad(p, 0.0);
  set_grad(q, 0.0);
  adamw.step();
  adam.step();
  EXPECT_FLOAT_EQ(p.item<float>(), 2.0f * (1 - 0.1f * 0.5f));
  EXPECT_NEAR(q.item<float>(), 1.9f, 1e-6);  // coupled: grad 1.0 -> Adam step of lr
  EXPECT_EQ(adamw.name(), "AdamW");
}

TEST(OptimOptimizer, AdagradLrDecay) {
  // clr = lr / (1 + (t - 1) lr_decay); with g = 1: sum = t, p -= clr / (sqrt(t) + eps).
  Tensor p = full({1}, 0.0, kFloat64).requires_grad_();
  optim::Adagrad opt({p}, {.lr = 1.0, .lr_decay = 0.5, .eps = 0});
  double expected = 0;
  for (int t = 1; t <= 3; ++t) {
    p.set_grad(ones({1}, kFloat64));
    opt.step();
    expected -= 1.0 / (1 + (t - 1) * 0.5) / std::sqrt(t);
    EXPECT_NEAR(p.item(), expected, 1e-15) << "step " << t;
  }
}
