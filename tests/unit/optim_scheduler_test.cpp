// LR schedulers: closed forms, chaining, warmup + cosine, OneCycleLR and ReduceLROnPlateau rules,
// and argument checks.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "ember/ember.h"

using namespace ember;

namespace {

std::vector<Tensor> one_param() {
  return {zeros({1}).requires_grad_()};
}

double lr_of(const optim::Optimizer& opt, size_t group = 0) {
  return opt.param_groups()[group].get("lr");
}

}  // namespace

TEST(OptimScheduler, ConstructionTakesTheInitialStep) {
  optim::SGD opt(one_param(), {.lr = 0.1});
  optim::ExponentialLR s(opt, 0.5);
  EXPECT_EQ(s.last_epoch(), 0);
  EXPECT_EQ(s.get_last_lr(), std::vector<double>{0.1});
  EXPECT_EQ(*opt.param_groups()[0].initial_lr, 0.1);
  s.step();
  EXPECT_EQ(s.last_epoch(), 1);
  EXPECT_EQ(lr_of(opt), 0.05);
  EXPECT_EQ(s.base_lrs(), std::vector<double>{0.1});
}

TEST(OptimScheduler, ChainableSchedulersCompose) {
  // As in PyTorch: StepLR and ExponentialLR both scale the current lr.
  optim::SGD opt(one_param(), {.lr = 1.0});
  optim::StepLR a(opt, 2, 0.1);
  optim::ExponentialLR b(opt, 0.5);
  double expected = 1.0;
  for (int e = 1; e <= 6; ++e) {
    a.step();
    b.step();
    expected *= (e % 2 == 0 ? 0.1 : 1.0) * 0.5;
    EXPECT_DOUBLE_EQ(lr_of(opt), expected) << "epoch " << e;
  }
  // The second scheduler kept the initial_lr recorded by the first.
  EXPECT_EQ(b.base_lrs(), std::vector<double>{1.0});
}

TEST(OptimScheduler, MultiStepRepeatedMilestones) {
  optim::SGD opt(one_param(), {.lr = 1.0});
  optim::MultiStepLR s(opt, {2, 4, 4}, 0.5);
  std::vector<double> lrs;
  for (int e = 0; e < 5; ++e) {
    lrs.push_back(lr_of(opt));
    s.step();
  }
  lrs.push_back(lr_of(opt));
  EXPECT_EQ(lrs, (std::vector<double>{1.0, 1.0, 0.5, 0.5, 0.125, 0.125}));
}

TEST(OptimScheduler, CosineAnnealingClosedForm) {
  optim::SGD opt({{.params = one_param()}, {.params = one_param(), .lr = 0.5}}, {.lr = 0.1});
  optim::CosineAnnealingLR s(opt, 10, 0.01);
  for (int e = 0; e <= 25; ++e) {
    for (size_t g = 0; g < 2; ++g) {
      const double base = g == 0 ? 0.1 : 0.5;
      const double want = 0.01 + (base - 0.01) * (1 + std::cos(std::numbers::pi * e / 10)) / 2;
      EXPECT_EQ(lr_of(opt, g), want) << "epoch " << e << " group " << g;
    }
    s.step();
  }
}

TEST(OptimScheduler, CosineAnnealingWarmup) {
  optim::SGD opt(one_param(), {.lr = 1.0});
  optim::CosineAnnealingWarmup s(opt, /*warmup_steps=*/4, /*total_steps=*/12, /*min_lr=*/0.1,
                                 /*warmup_start_factor=*/0.2);
  std::vector<double> lrs;
  for (int e = 0; e <= 14; ++e) {
    lrs.push_back(lr_of(opt));
    s.step();
  }
  EXPECT_DOUBLE_EQ(lrs[0], 0.2);
  EXPECT_DOUBLE_EQ(lrs[1], 0.4);
  EXPECT_DOUBLE_EQ(lrs[3], 0.8);
  EXPECT_DOUBLE_EQ(lrs[4], 1.0);              // warmup done: base lr
  EXPECT_DOUBLE_EQ(lrs[8], 0.1 + 0.9 * 0.5);  // half way down the cosine
  EXPECT_DOUBLE_EQ(lrs[12], 0.1);             // total_steps: min_lr
  EXPECT_DOUBLE_EQ(lrs[14], 0.1);             // and it stays there
  for (int e = 5; e <= 12; ++e) EXPECT_LT(lrs[e], lrs[e - 1]) << "epoch " << e;

  optim::SGD opt0(one_param(), {.lr = 1.0});
  optim::CosineAnnealingWarmup zero(opt0, 0, 10);  // no warmup, min_lr 0
  EXPECT_EQ(lr_of(opt0), 1.0);
  for (int e = 0; e < 10; ++e) zero.step();
  EXPECT_EQ(lr_of(opt0), 0.0);
}

TEST(OptimScheduler, OneCycleSetsInitialLrAndMomentum) {
  optim::SGD opt(one_param(), {.lr = 0.1});
  optim::OneCycleLR s(opt, 1.0, 10);
  EXPECT_NEAR(lr_of(opt), 1.0 / 25, 1e-15);  // PyTorch: 0.040000000000000036
  EXPECT_EQ(*opt.param_groups()[0].initial_lr, 1.0 / 25);
  EXPECT_EQ(opt.param_groups()[0].get("momentum"), 0.95);
  for (int e = 0; e < 10; ++e) s.step();
  EXPECT_THROW(s.step(), ValueError);

  optim::SGD plain(one_param(), {.lr = 0.1});
  optim::OneCycleLR no_momentum(plain, 1.0, 10, {.cycle_momentum = false});
  EXPECT_EQ(plain.param_groups()[0].get("momentum"), 0.0);

  optim::Adagrad adagrad(one_param());
  EXPECT_THROW(optim::OneCycleLR(adagrad, 1.0, 10), ValueError);  // no momentum to cycle
  optim::OneCycleLR ok(adagrad, 1.0, 10, {.cycle_momentum = false});
  EXPECT_THROW((optim::OneCycleLR(plain, std::vector<double>{1.0, 2.0}, 10)), ValueError);
  EXPECT_THROW(optim::OneCycleLR(plain, 1.0, 0), ValueError);
  EXPECT_THROW(optim::OneCycleLR(plain, 1.0, 10, {.pct_start = 1.5}), ValueError);
}

TEST(OptimScheduler, ReduceLROnPlateauRules) {
  optim::SGD opt(one_param(), {.lr = 1.0});
  optim::ReduceLROnPlateau s(opt, {.factor = 0.5, .patience = 1, .cooldown = 1, .min_lr = 0.2});
  EXPECT_EQ(s.get_last_lr(), std::vector<double>{1.0});
  s.step(1.0);  // best
  s.step(1.0);  // bad 1
  EXPECT_EQ(lr_of(opt), 1.0);
  s.step(1.0);  // bad 2 > patience: reduce, cooldown 1
  EXPECT_EQ(lr_of(opt), 0.5);
  s.step(1.0);  // cooldown: bad epochs ignored
  s.step(1.0);  // bad 1
  EXPECT_EQ(lr_of(opt), 0.5);
  s.step(0.5);  // improvement resets the count
  s.step(0.5);
  EXPECT_EQ(lr_of(opt), 0.5);
  s.step(0.5);
  EXPECT_EQ(lr_of(opt), 0.25);
  for (int i = 0; i < 10; ++i) s.step(0.5);
  EXPECT_EQ(lr_of(opt), 0.2);  // min_lr
  EXPECT_EQ(s.get_last_lr(), std::vector<double>{0.2});
  EXPECT_EQ(s.best(), 0.5);

  EXPECT_THROW(optim::ReduceLROnPlateau(opt, {.factor = 1.0}), ValueError);
  EXPECT_THROW((optim::ReduceLROnPlateau(opt, {.min_lrs = {0.1, 0.2}})), ValueError);
}

TEST(OptimScheduler, ArgumentChecks) {
  optim::SGD opt(one_param());
  EXPECT_THROW(optim::StepLR(opt, 0), ValueError);
  EXPECT_THROW(optim::CosineAnnealingLR(opt, 0), ValueError);
  EXPECT_THROW(optim::CosineAnnealingWarmup(opt, 5, 4), ValueError);
  EXPECT_THROW(optim::CosineAnnealingWarmup(opt, 1, 4, 0, 1.5), ValueError);
  optim::StepLR s(opt, 1);
  opt.add_param_group({.params = one_param()});
  EXPECT_THROW(s.step(), ValueError);  // groups changed under the scheduler
}
