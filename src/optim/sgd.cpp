// SGD: hyperparameter plumbing around the fused sgd_step kernel.
#include "ember/optim/sgd.h"

#include "backend/backend.h"
#include "ember/ops/creation.h"

namespace ember::optim {

namespace {
std::vector<std::pair<std::string, double>> sgd_defaults(const SGDOptions& o) {
  return {{"lr", o.lr},
          {"weight_decay", o.weight_decay},
          {"momentum", o.momentum},
          {"dampening", o.dampening},
          {"nesterov", o.nesterov ? 1.0 : 0.0},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}
}  // namespace

SGD::SGD(std::vector<Tensor> params, SGDOptions options)
    : SGD(single_group(std::move(params)), options) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions defaults)
    : Optimizer("SGD", sgd_defaults(defaults), {"momentum_buffer"}, /*has_step=*/false) {
  init_groups(std::move(groups));
}

SGDOptions SGD::options_of(const ParamGroup& g) {
  return {.lr = g.get("lr"),
          .momentum = g.get("momentum"),
          .dampening = g.get("dampening"),
          .weight_decay = g.get("weight_decay"),
          .nesterov = g.get("nesterov") != 0,
          .maximize = g.get("maximize") != 0};
}

void SGD::validate(const ParamGroup& group) const {
  const SGDOptions o = options_of(group);
  EMBER_CHECK(o.lr >= 0, "SGD: invalid learning rate ", o.lr);
  EMBER_CHECK(o.momentum >= 0, "SGD: invalid momentum ", o.momentum);
  EMBER_CHECK(o.weight_decay >= 0, "SGD: invalid weight_decay ", o.weight_decay);
  EMBER_CHECK(!o.nesterov || (o.momentum > 0 && o.dampening == 0),
              "SGD: Nesterov momentum requires a momentum and zero dampening (momentum ",
              o.momentum, ", dampening ", o.dampening, ")");
}

void SGD::init_state(ParamState&, const Tensor&, const ParamGroup&) const {
  // momentum_buffer is created by the first update, as a copy of the gradient.
}

void SGD::step_group(ParamGroup& group) {
  const SGDOptions o = options_of(group);
  for_each_param(group, [&](const Tensor& p, const Tensor& grad, ParamState& s) {
    Tensor& buf = s.buffers[0];
    const bool init_buf = o.momentum != 0 && !buf.defined();
    if (init_buf) buf = empty_like(p);
    backend::backend_for(p.device())
        .sgd_step(p, grad, buf, o.lr, o.momentum, o.dampening, o.weight_decay, o.nesterov,
                  o.maximize, init_buf);
  });
}

}  // namespace ember::optim
