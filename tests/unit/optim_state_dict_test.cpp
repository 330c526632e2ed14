// Optimizer and scheduler state_dict: keys, snapshots, checks on load, and resuming after 10 of
// 20 steps bit for bit.
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "ember/ember.h"

using namespace ember;

namespace {

// An 8-16-4 tanh MLP regressing random targets.
struct Mlp {
  Tensor x, y;
  std::vector<Tensor> params;  // w1 (16, 8), b1 (16), w2 (4, 16), b2 (4)
};

Mlp make_mlp() {
  manual_seed(5);
  Mlp m;
  m.x = randn({32, 8});
  m.y = randn({32, 4});
  for (const Tensor& t :
       {randn({16, 8}) * 0.4, randn({16}) * 0.1, randn({4, 16}) * 0.3, randn({4}) * 0.1})
    m.params.push_back(t.detach().requires_grad_());
  return m;
}

void train_steps(optim::Optimizer& opt, const Mlp& m, int steps, optim::LRScheduler* sched = nullptr) {
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    Tensor d = linear(tanh(linear(m.x, m.params[0], m.params[1])), m.params[2], m.params[3]) - m.y;
    mean(d * d).backward();
    opt.step();
    if (sched) sched->step();
  }
}

using Factory = std::function<std::unique_ptr<optim::Optimizer>(const std::vector<Tensor>&)>;

// Two groups: (w1, b1) with its own lr and weight decay, (w2, b2) on the defaults.
std::vector<optim::ParamGroup> two_groups(const std::vector<Tensor>& p) {
  return {{.params = {p[0], p[1]}, .lr = 0.003, .weight_decay = 0.01}, {.params = {p[2], p[3]}}};
}

// 20 uninterrupted steps == 10 steps, state_dict, a fresh optimizer on copies of the parameters,
// load_state_dict, 10 more steps; bit for bit.
void expect_resume_exact(const Factory& make) {
  Mlp a = make_mlp();
  auto oa = make(a.params);
  train_steps(*oa, a, 20);

  Mlp b = make_mlp();
  auto ob = make(b.params);
  train_steps(*ob, b, 10);
  const optim::StateDict sd = ob->state_dict();
  Mlp c = make_mlp();
  {
    NoGradGuard no_grad;
    for (size_t i = 0; i < c.params.size(); ++i) c.params[i].copy_(b.params[i]);
  }
  train_steps(*ob, b, 3);  // the saved dict is a snapshot: later steps don't change it

  auto oc = make(c.params);
  oc->load_state_dict(sd);
  train_steps(*oc, c, 10);
  for (size_t i = 0; i < a.params.size(); ++i)
    EXPECT_EQ(a.params[i].to_vector<float>(), c.params[i].to_vector<float>()) << "param " << i;
}

template <class E>
void expect_load_error(optim::Optimizer& opt, const optim::StateDict& sd,
                       const std::string& fragment) {
  try {
    opt.load_state_dict(sd);
    ADD_FAILURE() << "expected an error mentioning '" << fragment << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

optim::StateDict without(optim::StateDict sd, const std::string& key) {
  std::erase_if(sd, [&](const auto& kv) { return kv.first == key; });
  return sd;
}

optim::StateDict replaced(optim::StateDict sd, const std::string& key, const Tensor& t) {
  for (auto& [k, v] : sd)
    if (k == key) v = t;
  return sd;
}

}  // namespace

TEST(OptimStateDict, ResumeSgdNesterovExactly) {
  expect_resume_exact([](const std::vector<Tensor>& p) {
    return std::make_unique<optim::SGD>(
        two_groups(p), optim::SGDOptions{.lr = 0.05, .momentum = 0.9, .nesterov = true});
  });
}

TEST(OptimStateDict, ResumeAdamAmsgradExactly) {
  expect_resume_exact([](const std::vector<Tensor>& p) {
    return std::make_unique<optim::Adam>(two_groups(p),
                                         optim::AdamOptions{.lr = 0.01, .amsgrad = true});
  });
}

TEST(OptimStateDict, ResumeAdamWExactly) {
  expect_resume_exact([](const std::vector<Tensor>& p) {
    return std::make_unique<optim::AdamW>(two_groups(p), optim::AdamWOptions{.lr = 0.01});
  });
}

TEST(OptimStateDict, ResumeRmspropCenteredMomentumExactly) {
  expect_resume_exact([](const std::vector<Tensor>& p) {
    return std::make_unique<optim::RMSprop>(
        two_groups(p), optim::RMSpropOptions{.lr = 0.005, .momentum = 0.5, .centered = true});
  });
}

TEST(OptimStateDict, ResumeAdagradExactly) {
  expect_resume_exact([](const std::vector<Tensor>& p) {
    return std::make_unique<optim::Adagrad>(two_groups(p),
                                            optim::AdagradOptions{.lr = 0.1, .lr_decay = 0.01});
  });
}

TEST(OptimStateDict, KeysInOrder) {
  Tensor a = zeros({2, 3}).requires_grad_(), b = zeros({3}).requires_grad_();
  optim::Adam opt({{.params = {a}, .lr = 0.5}, {.params = {b}}});
  a.set_grad(ones({2, 3}));
  opt.step();
  std::vector<std::string> keys;
  for (const auto& [k, t] : opt.state_dict()) keys.push_back(k);
  const std::vector<std::string> expected = {"state.0.step",
                                             "state.0.exp_avg",
                                             "state.0.exp_avg_sq",
                                             "param_groups.0.params",
                                             "param_groups.0.lr",
                                             "param_groups.0.weight_decay",
                                             "param_groups.0.beta1",
                                             "param_groups.0.beta2",
                                             "param_groups.0.eps",
                                             "param_groups.0.amsgrad",
                                             "param_groups.0.maximize",
                                             "param_groups.1.params",
                                             "param_groups.1.lr",
                                             "param_groups.1.weight_decay",
                                             "param_groups.1.beta1",
                                             "param_groups.1.beta2",
                                             "param_groups.1.eps",
                                             "param_groups.1.amsgrad",
                                             "param_groups.1.maximize"};
  EXPECT_EQ(keys, expected);
  const optim::StateDict sd = opt.state_dict();
  EXPECT_EQ(sd[0].second.dim(), 0);
  EXPECT_EQ(sd[0].second.dtype(), kFloat64);
  EXPECT_EQ(sd[0].second.item(), 1.0);
  EXPECT_EQ(sd[1].second.shape(), (Shape{2, 3}));
  EXPECT_EQ(sd[4].second.item(), 0.5);
  EXPECT_EQ(sd[11].second.to_vector<int64_t>(), std::vector<int64_t>{1});
}

TEST(OptimStateDict, LoadRestoresHyperparameters) {
  Tensor p = zeros({2}).requires_grad_();
  optim::SGD src({p}, {.lr = 0.3, .momentum = 0.7});
  Tensor q = zeros({2}).requires_grad_();
  optim::SGD dst({q}, {.lr = 0.1});
  dst.load_state_dict(src.state_dict());
  EXPECT_EQ(*dst.param_groups()[0].lr, 0.3);
  EXPECT_EQ(dst.param_groups()[0].get("momentum"), 0.7);
  EXPECT_EQ(dst.state(q), nullptr);
}

TEST(OptimStateDict, LoadChecksKeysAndShapes) {
  Tensor a = zeros({2, 3}).requires_grad_(), b = zeros({3}).requires_grad_();
  optim::Adam opt({a, b});
  a.set_grad(ones({2, 3}));
  b.set_grad(ones({3}));
  opt.step();
  const optim::StateDict sd = opt.state_dict();

  Tensor a2 = zeros({2, 3}).requires_grad_(), b2 = zeros({3}).requires_grad_();
  optim::Adam fresh({a2, b2});
  expect_load_error<ShapeError>(fresh, replaced(sd, "state.1.exp_avg", zeros({4})),
                                "'state.1.exp_avg' has shape (4,) but parameter 1 has shape (3,)");
  expect_load_error<ValueError>(fresh, without(sd, "state.0.exp_avg_sq"),
                                "missing key 'state.0.exp_avg_sq'");
  expect_load_error<ValueError>(fresh, without(sd, "state.0.step"), "missing key 'state.0.step'");
  expect_load_error<ValueError>(fresh, without(sd, "param_groups.0.eps"),
                                "missing key 'param_groups.0.eps'");
  optim::StateDict extra = sd;
  extra.emplace_back("state.0.momentum_buffer", zeros({2, 3}));
  expect_load_error<ValueError>(fresh, extra, "unexpected key 'state.0.momentum_buffer'");
  extra = sd;
  extra.emplace_back("param_groups.0.momentum", scalar_tensor(0.9, kFloat64));
  expect_load_error<ValueError>(fresh, extra, "unexpected key 'param_groups.0.momentum'");
  extra = sd;
  extra.emplace_back("state.7.exp_avg", zeros({3}));
  expect_load_error<ValueError>(fresh, extra, "names parameter 7");
  extra = sd;
  extra.emplace_back("param_groups.1.lr", scalar_tensor(0.1, kFloat64));
  expect_load_error<ValueError>(fresh, extra, "has 2 param group(s) but Adam has 1");
  extra = sd;
  extra.emplace_back("optimizer.lr", scalar_tensor(0.1, kFloat64));
  expect_load_error<ValueError>(fresh, extra, "unexpected key 'optimizer.lr'");
  expect_load_error<ValueError>(fresh, replaced(sd, "param_groups.0.lr", zeros({2})),
                                "'param_groups.0.lr' should hold one number");
  expect_load_error<ValueError>(fresh, replaced(sd, "param_groups.0.beta1", scalar_tensor(1.5)),
                                "invalid beta parameter");
  // Nothing changed after the failed loads.
  EXPECT_EQ(fresh.state(a2), nullptr);
  EXPECT_EQ(fresh.param_groups()[0].get("lr"), 1e-3);

  // Group sizes must match.
  Tensor c = zeros({3}).requires_grad_();
  optim::Adam small({c});
  expect_load_error<ValueError>(small, sd, "has 2 parameter(s) but Adam's group 0 has 1");
  // Two groups saved, one group here.
  optim::Adam two({{.params = {a2}}, {.params = {b2}}});
  expect_load_error<ValueError>(fresh, two.state_dict(), "has 2 param group(s) but Adam has 1");
  // A state dict of another optimizer type.
  optim::SGD sgd({a2, b2}, {.momentum = 0.9});
  expect_load_error<ValueError>(fresh, sgd.state_dict(),
                                "unexpected key 'param_groups.0.momentum'");

  fresh.load_state_dict(sd);
  EXPECT_EQ(fresh.state(b2)->step, 1);
  EXPECT_EQ(fresh.state_buffer(b2, "exp_avg").to_vector<float>(),
            opt.state_buffer(b, "exp_avg").to_vector<float>());
}

TEST(OptimStateDict, SchedulerResumeExactly) {
  // OneCycleLR over SGD: 20 steps == 10 steps, save optimizer and scheduler, load both into fresh
  // objects, 10 more steps (lr, momentum and parameters equal bit for bit).
  auto run = [](Mlp& m, int steps, const optim::StateDict* opt_sd, const optim::StateDict* sched_sd,
                optim::StateDict* opt_out, optim::StateDict* sched_out) {
    optim::SGD opt(m.params, {.lr = 0.1, .momentum = 0.9});
    optim::OneCycleLR sched(opt, 0.2, 20);
    if (opt_sd) opt.load_state_dict(*opt_sd);
    if (sched_sd) sched.load_state_dict(*sched_sd);
    train_steps(opt, m, steps, &sched);
    if (opt_out) *opt_out = opt.state_dict();
    if (sched_out) *sched_out = sched.state_dict();
    return std::make_pair(sched.get_last_lr()[0], opt.param_groups()[0].get("momentum"));
  };
  Mlp a = make_mlp();
  const auto full_run = run(a, 20, nullptr, nullptr, nullptr, nullptr);
  Mlp b = make_mlp();
  optim::StateDict osd, ssd;
  run(b, 10, nullptr, nullptr, &osd, &ssd);
  const auto resumed = run(b, 10, &osd, &ssd, nullptr, nullptr);
  EXPECT_EQ(full_run, resumed);
  for (size_t i = 0; i < a.params.size(); ++i)
    EXPECT_EQ(a.params[i].to_vector<float>(), b.params[i].to_vector<float>()) << "param " << i;
}

TEST(OptimStateDict, SchedulerLoadChecks) {
  Tensor p = zeros({1}).requires_grad_();
  optim::SGD opt({p}, {.lr = 0.1});
  optim::StepLR s(opt, 2);
  optim::StateDict sd = s.state_dict();
  EXPECT_THROW(s.load_state_dict(without(sd, "base_lrs")), ValueError);
  sd.emplace_back("gamma", scalar_tensor(0.5, kFloat64));
  EXPECT_THROW(s.load_state_dict(sd), ValueError);
  optim::ReduceLROnPlateau plateau(opt);
  plateau.step(1.0);
  optim::StateDict psd = plateau.state_dict();
  optim::ReduceLROnPlateau other(opt);
  other.load_state_dict(psd);
  EXPECT_EQ(other.best(), 1.0);
  EXPECT_EQ(other.last_epoch(), 1);
  EXPECT_THROW(other.load_state_dict(replaced(psd, "last_lr", zeros({3}, kFloat64))), ValueError);
}
