// Adam and AdamW: hyperparameter plumbing around the fused adam_step kernel.
#include "ember/optim/adam.h"

#include "backend/backend.h"
#include "ember/ops/creation.h"

namespace ember::optim {

namespace {
std::vector<std::pair<std::string, double>> adam_defaults(const AdamOptions& o) {
  return {{"lr", o.lr},
          {"weight_decay", o.weight_decay},
          {"beta1", o.betas.first},
          {"beta2", o.betas.second},
          {"eps", o.eps},
          {"amsgrad", o.amsgrad ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}

AdamOptions from_adamw(const AdamWOptions& o) {
  return {.lr = o.lr,
          .betas = o.betas,
          .eps = o.eps,
          .weight_decay = o.weight_decay,
          .amsgrad = o.amsgrad,
          .maximize = o.maximize};
}
}  // namespace

Adam::Adam(std::vector<Tensor> params, AdamOptions options)
    : Adam(single_group(std::move(params)), options) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions defaults) : Adam("Adam", false, defaults) {
  init_groups(std::move(groups));
}

Adam::Adam(std::string name, bool decoupled, const AdamOptions& defaults)
    : Optimizer(std::move(name), adam_defaults(defaults),
                {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}, /*has_step=*/true),
      decoupled_(decoupled) {}

AdamOptions Adam::options_of(const ParamGroup& g) {
  return {.lr = g.get("lr"),
          .betas = {g.get("beta1"), g.get("beta2")},
          .eps = g.get("eps"),
          .weight_decay = g.get("weight_decay"),
          .amsgrad = g.get("amsgrad") != 0,
          .maximize = g.get("maximize") != 0};
}

void Adam::validate(const ParamGroup& group) const {
  const AdamOptions o = options_of(group);
  EMBER_CHECK(o.lr >= 0, name(), ": invalid learning rate ", o.lr);
  EMBER_CHECK(o.eps >= 0, name(), ": invalid epsilon value ", o.eps);
  EMBER_CHECK(o.betas.first >= 0 && o.betas.first < 1, name(),
              ": invalid beta parameter at "
              "index 0: ",
              o.betas.first);
  EMBER_CHECK(o.betas.second >= 0 && o.betas.second < 1, name(),
              ": invalid beta parameter at "
              "index 1: ",
              o.betas.second);
  EMBER_CHECK(o.weight_decay >= 0, name(), ": invalid weight_decay value ", o.weight_decay);
}

void Adam::init_state(ParamState& state, const Tensor& param, const ParamGroup& group) const {
  state.buffers[0] = zeros_like(param);
  state.buffers[1] = zeros_like(param);
  if (group.get("amsgrad") != 0) state.buffers[2] = zeros_like(param);
}

void Adam::step_group(ParamGroup& group) {
  const AdamOptions o = options_of(group);
  for_each_param(group, [&](const Tensor& p, const Tensor& grad, ParamState& s) {
    ++s.step;
    if (o.amsgrad && !s.buffers[2].defined()) s.buffers[2] = zeros_like(p);
    backend::backend_for(p.device())
        .adam_step(p, grad, s.buffers[0], s.buffers[1], s.buffers[2], o.lr, o.betas.first,
                   o.betas.second, o.eps, o.weight_decay, decoupled_, s.step, o.amsgrad,
                   o.maximize);
  });
}

AdamW::AdamW(std::vector<Tensor> params, AdamWOptions options)
    : AdamW(single_group(std::move(params)), options) {}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions defaults)
    : Adam("AdamW", true, from_adamw(defaults)) {
  init_groups(std::move(groups));
}

}  // namespace ember::optim
