// RMSprop: hyperparameter plumbing around the fused rmsprop_step kernel.
#include "ember/optim/rmsprop.h"

#include "backend/backend.h"
#include "ember/ops/creation.h"

namespace ember::optim {

namespace {
std::vector<std::pair<std::string, double>> rmsprop_defaults(const RMSpropOptions& o) {
  return {{"lr", o.lr},
          {"weight_decay", o.weight_decay},
          {"alpha", o.alpha},
          {"eps", o.eps},
          {"momentum", o.momentum},
          {"centered", o.centered ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}
}  // namespace

RMSprop::RMSprop(std::vector<Tensor> params, RMSpropOptions options)
    : RMSprop(single_group(std::move(params)), options) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions defaults)
    : Optimizer("RMSprop", rmsprop_defaults(defaults),
                {"square_avg", "momentum_buffer", "grad_avg"}, /*has_step=*/true) {
  init_groups(std::move(groups));
}

RMSpropOptions RMSprop::options_of(const ParamGroup& g) {
  return {.lr = g.get("lr"),
          .alpha = g.get("alpha"),
          .eps = g.get("eps"),
          .weight_decay = g.get("weight_decay"),
          .momentum = g.get("momentum"),
          .centered = g.get("centered") != 0,
          .maximize = g.get("maximize") != 0};
}

void RMSprop::validate(const ParamGroup& group) const {
  const RMSpropOptions o = options_of(group);
  EMBER_CHECK(o.lr >= 0, "RMSprop: invalid learning rate ", o.lr);
  EMBER_CHECK(o.eps >= 0, "RMSprop: invalid epsilon value ", o.eps);
  EMBER_CHECK(o.momentum >= 0, "RMSprop: invalid momentum value ", o.momentum);
  EMBER_CHECK(o.weight_decay >= 0, "RMSprop: invalid weight_decay value ", o.weight_decay);
  EMBER_CHECK(o.alpha >= 0, "RMSprop: invalid alpha value ", o.alpha);
}

void RMSprop::init_state(ParamState& state, const Tensor& param, const ParamGroup& group) const {
  state.buffers[0] = zeros_like(param);
  if (group.get("momentum") > 0) state.buffers[1] = zeros_like(param);
  if (group.get("centered") != 0) state.buffers[2] = zeros_like(param);
}

void RMSprop::step_group(ParamGroup& group) {
  const RMSpropOptions o = options_of(group);
  for_each_param(group, [&](const Tensor& p, const Tensor& grad, ParamState& s) {
    ++s.step;
    if (o.momentum > 0 && !s.buffers[1].defined()) s.buffers[1] = zeros_like(p);
    if (o.centered && !s.buffers[2].defined()) s.buffers[2] = zeros_like(p);
    backend::backend_for(p.device())
        .rmsprop_step(p, grad, s.buffers[0], s.buffers[2], s.buffers[1], o.lr, o.alpha, o.eps,
                      o.weight_decay, o.momentum, o.centered, o.maximize);
  });
}

}  // namespace ember::optim
