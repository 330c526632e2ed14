// train/factory: optimizers from [optimizer], schedules from [schedule] behind one Scheduler.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "ember/ember.h"
#include "ember/train/factory.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;
using train::OptimizerConfig;
using train::ScheduleConfig;
using train::Scheduler;

namespace {

std::vector<Tensor> params() {
  return {randn({3, 2}).requires_grad_(), zeros({2}).requires_grad_()};
}

std::unique_ptr<optim::Optimizer> sgd(double lr, double momentum = 0) {
  OptimizerConfig c;
  c.name = "sgd";
  c.lr = lr;
  c.momentum = momentum;
  return train::make_optimizer(c, params());
}

// The lr after each of `steps` calls to step(), starting with the lr before the first.
std::vector<double> lrs(Scheduler& s, int steps) {
  std::vector<double> out = {s.lr()};
  for (int i = 0; i < steps; ++i) {
    s.step();
    out.push_back(s.lr());
  }
  return out;
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << "step " << i;
}

}  // namespace

TEST(TrainFactory, OptimizersGetTheirHyperparameters) {
  OptimizerConfig c;
  c.lr = 0.05;
  c.weight_decay = 0.01;
  c.momentum = 0.8;
  c.nesterov = true;
  c.betas = {0.85, 0.95};
  c.eps = 1e-7;
  c.alpha = 0.9;
  const std::vector<std::pair<std::string, std::string>> names = {{"sgd", "SGD"},
                                                                  {"adam", "Adam"},
                                                                  {"adamw", "AdamW"},
                                                                  {"rmsprop", "RMSprop"},
                                                                  {"adagrad", "Adagrad"}};
  for (const auto& [name, type] : names) {
    c.name = name;
    auto opt = train::make_optimizer(c, params());
    EXPECT_EQ(opt->name(), type);
    const optim::ParamGroup& g = opt->param_groups()[0];
    EXPECT_EQ(g.params.size(), 2u);
    EXPECT_EQ(g.get("lr"), 0.05) << name;
    EXPECT_EQ(g.get("weight_decay"), 0.01) << name;
  }
  c.name = "sgd";
  auto s = train::make_optimizer(c, params());
  EXPECT_EQ(s->param_groups()[0].get("momentum"), 0.8);
  EXPECT_EQ(s->param_groups()[0].get("nesterov"), 1);
  c.name = "adamw";
  auto a = train::make_optimizer(c, params());
  EXPECT_EQ(a->param_groups()[0].get("beta1"), 0.85);
  EXPECT_EQ(a->param_groups()[0].get("beta2"), 0.95);
  EXPECT_EQ(a->param_groups()[0].get("eps"), 1e-7);
  c.name = "rmsprop";
  auto r = train::make_optimizer(c, params());
  EXPECT_EQ(r->param_groups()[0].get("alpha"), 0.9);
  EXPECT_EQ(r->param_groups()[0].get("momentum"), 0.8);
  c.name = "adagrad";
  EXPECT_EQ(train::make_optimizer(c, params())->param_groups()[0].get("eps"), 1e-7);
  c.name = "lion";
  expect_error<ConfigError>([&] { train::make_optimizer(c, params()); },
                            {"optimizer.name = \"lion\": must be one of"});
}

TEST(TrainFactory, PerStepSchedules) {
  ScheduleConfig c;
  {
    auto opt = sgd(1.0);
    Scheduler none(c, *opt, 10);
    expect_near_all(lrs(none, 3), {1, 1, 1, 1});
    EXPECT_TRUE(none.state_dict().empty());
  }
  {
    c.name = "step";
    c.step_size = 2;
    c.gamma = 0.5;
    auto opt = sgd(1.0);
    Scheduler s(c, *opt, 10);
    expect_near_all(lrs(s, 5), {1, 1, 0.5, 0.5, 0.25, 0.25});
  }
  {
    c.name = "exponential";
    c.gamma = 0.9;
    auto opt = sgd(2.0);
    Scheduler s(c, *opt, 10);
    expect_near_all(lrs(s, 3), {2, 2 * 0.9, 2 * 0.81, 2 * 0.729});
  }
  {
    c.name = "cosine";
    c.min_lr = 0.1;
    auto opt = sgd(1.0);
    Scheduler s(c, *opt, 10);
    const std::vector<double> got = lrs(s, 10);
    for (int k = 0; k <= 10; ++k)
      EXPECT_NEAR(got[k], 0.1 + 0.9 * (1 + std::cos(std::numbers::pi * k / 10)) / 2, 1e-12) << k;
  }
  {
    c.name = "warmup_cosine";
    c.warmup_steps = 4;
    c.min_lr = 0;
    auto opt = sgd(1.0);
    Scheduler s(c, *opt, 12);
    const std::vector<double> got = lrs(s, 12);
    EXPECT_NEAR(got[0], 0, 1e-12);
    EXPECT_NEAR(got[2], 0.5, 1e-12);   // halfway through the warmup
    EXPECT_NEAR(got[4], 1.0, 1e-12);   // warmup done
    EXPECT_NEAR(got[8], 0.5, 1e-12);   // halfway through the cosine
    EXPECT_NEAR(got[12], 0.0, 1e-12);  // end
    auto small = sgd(1.0);
    expect_error<ConfigError>(
        [&] { Scheduler(c, *small, 3); },
        {"schedule.warmup_steps = 4: must be <= the run's number of optimizer "
         "steps (3)"});
  }
}

TEST(TrainFactory, OneCycleUsesTheOptimizerLrAndCyclesOnlyExistingMomentum) {
  ScheduleConfig c;
  c.name = "onecycle";
  // max_lr = 0: the optimizer's lr is the peak. Start at max_lr / 25, peak at step 0.3 * 10 - 1.
  auto opt = sgd(0.1);
  Scheduler s(c, *opt, 10);
  const std::vector<double> got = lrs(s, 9);
  EXPECT_NEAR(got[0], 0.1 / 25, 1e-12);
  EXPECT_NEAR(got[2], 0.1, 1e-12);
  EXPECT_NEAR(got[9], 0.1 / 25 / 1e4, 1e-12);            // the end of the cycle
  EXPECT_EQ(opt->param_groups()[0].get("momentum"), 0);  // SGD without momentum keeps none

  auto with_momentum = sgd(0.1, 0.9);
  Scheduler sm(c, *with_momentum, 10);
  EXPECT_NEAR(with_momentum->param_groups()[0].get("momentum"), 0.95, 1e-12);  // max_momentum

  OptimizerConfig ac;
  ac.lr = 0.01;
  auto adam = train::make_optimizer(ac, params());
  c.max_lr = 0.5;
  Scheduler sa(c, *adam, 10);
  EXPECT_NEAR(sa.lr(), 0.5 / 25, 1e-12);
  EXPECT_NEAR(adam->param_groups()[0].get("beta1"), 0.95, 1e-12);

  ac.name = "adagrad";  // no momentum at all: the schedule still works
  auto ada = train::make_optimizer(ac, params());
  Scheduler sg(c, *ada, 10);
  EXPECT_NEAR(lrs(sg, 2)[2], 0.5, 1e-12);
}

TEST(TrainFactory, PlateauStepsOnEvaluationsOnly) {
  ScheduleConfig c;
  c.name = "plateau";
  c.patience = 1;
  c.factor = 0.5;
  auto opt = sgd(1.0);
  Scheduler s(c, *opt, 100);
  s.step();  // per-step calls do nothing
  s.step();
  EXPECT_EQ(s.lr(), 1.0);
  s.step_eval(1.0);  // best
  s.step_eval(1.0);  // 1 bad evaluation: within patience
  EXPECT_EQ(s.lr(), 1.0);
  s.step_eval(1.0);  // 2 > patience: halve
  EXPECT_NEAR(s.lr(), 0.5, 1e-12);

  // higher_is_better: a rising metric keeps the lr; a falling one reduces it.
  auto up = sgd(1.0);
  Scheduler max_mode(c, *up, 100, true);
  for (double m : {1.0, 2.0, 3.0, 4.0}) max_mode.step_eval(m);
  EXPECT_EQ(max_mode.lr(), 1.0);
  for (double m : {3.0, 2.0}) max_mode.step_eval(m);
  EXPECT_NEAR(max_mode.lr(), 0.5, 1e-12);
  // Per-step schedules ignore evaluations.
  ScheduleConfig step;
  step.name = "step";
  step.step_size = 1;
  auto o2 = sgd(1.0);
  Scheduler st(step, *o2, 10);
  st.step_eval(5.0);
  EXPECT_EQ(st.lr(), 1.0);
}

TEST(TrainFactory, StateDictResumesTheSchedule) {
  for (const std::string name : {"step", "cosine", "warmup_cosine", "plateau", "onecycle"}) {
    ScheduleConfig c;
    c.name = name;
    c.step_size = 2;
    c.warmup_steps = 3;
    c.patience = 0;
    auto o1 = sgd(1.0);
    Scheduler a(c, *o1, 20);
    for (int i = 0; i < 5; ++i) {
      a.step();
      a.step_eval(1.0);
    }
    auto o2 = sgd(1.0);
    Scheduler b(c, *o2, 20);
    b.load_state_dict(a.state_dict());
    o2->param_groups()[0].set("lr", o1->param_groups()[0].get("lr"));  // the optimizer's state
    for (int i = 0; i < 4; ++i) {
      a.step();
      a.step_eval(1.0);
      b.step();
      b.step_eval(1.0);
      EXPECT_EQ(a.lr(), b.lr()) << name << " step " << i;
    }
  }
  ScheduleConfig none;
  auto o = sgd(1.0);
  Scheduler n(none, *o, 5);
  n.load_state_dict({});
  expect_error<ValueError>(
      [&] {
        n.load_state_dict({{"last_epoch", scalar_tensor(1, kFloat64)}});
      },
      {"schedule 'none' has no state", "last_epoch"});
  ScheduleConfig plateau;
  plateau.name = "plateau";
  Scheduler p(plateau, *o, 5);
  ScheduleConfig st;
  st.name = "step";
  Scheduler q(st, *o, 5);
  EXPECT_THROW(p.load_state_dict(q.state_dict()), ValueError);
  EXPECT_THROW(Scheduler(st, *o, 0), ValueError);
  EXPECT_NE(train::make_scheduler(st, *o, 5), nullptr);
}
