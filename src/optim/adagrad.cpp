// Adagrad: hyperparameter plumbing around the fused adagrad_step kernel.
#include "ember/optim/adagrad.h"

#include "backend/backend.h"
#include "ember/autograd/sparse_grad.h"
#include "ember/ops/creation.h"

namespace ember::optim {

namespace {
std::vector<std::pair<std::string, double>> adagrad_defaults(const AdagradOptions& o) {
  return {{"lr", o.lr},
          {"weight_decay", o.weight_decay},
          {"lr_decay", o.lr_decay},
          {"initial_accumulator_value", o.initial_accumulator_value},
          {"eps", o.eps},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}
}  // namespace

Adagrad::Adagrad(std::vector<Tensor> params, AdagradOptions options)
    : Adagrad(single_group(std::move(params)), options) {}

Adagrad::Adagrad(std::vector<ParamGroup> groups, AdagradOptions defaults)
    : Optimizer("Adagrad", adagrad_defaults(defaults), {"sum"}, /*has_step=*/true) {
  init_groups(std::move(groups));
}

AdagradOptions Adagrad::options_of(const ParamGroup& g) {
  return {.lr = g.get("lr"),
          .lr_decay = g.get("lr_decay"),
          .weight_decay = g.get("weight_decay"),
          .initial_accumulator_value = g.get("initial_accumulator_value"),
          .eps = g.get("eps"),
          .maximize = g.get("maximize") != 0};
}

void Adagrad::validate(const ParamGroup& group) const {
  const AdagradOptions o = options_of(group);
  EMBER_CHECK(o.lr >= 0, "Adagrad: invalid learning rate ", o.lr);
  EMBER_CHECK(o.lr_decay >= 0, "Adagrad: invalid lr_decay value ", o.lr_decay);
  EMBER_CHECK(o.weight_decay >= 0, "Adagrad: invalid weight_decay value ", o.weight_decay);
  EMBER_CHECK(o.initial_accumulator_value >= 0, "Adagrad: invalid initial_accumulator_value ",
              o.initial_accumulator_value);
  EMBER_CHECK(o.eps >= 0, "Adagrad: invalid epsilon value ", o.eps);
}

void Adagrad::init_state(ParamState& state, const Tensor& param, const ParamGroup& group) const {
  state.buffers[0] = full_like(param, group.get("initial_accumulator_value"));
}

void Adagrad::step_group(ParamGroup& group) {
  const AdagradOptions o = options_of(group);
  for_each_param(group, [&](const Tensor& p, const Tensor& grad, ParamState& s) {
    ++s.step;
    const double clr = o.lr / (1 + (static_cast<double>(s.step) - 1) * o.lr_decay);
    if (p.grad_is_row_sparse()) {  // torch's sparse path: only the rows used
      EMBER_CHECK(o.weight_decay == 0, "Adagrad: weight_decay (", o.weight_decay,
                  ") is not compatible with the row-sparse gradient of parameter of shape ",
                  p.shape_str(), " (embedding_bag(sparse=true)); set it to 0 for that group");
      backend::backend_for(p.device())
          .adagrad_rows_step(p, grad, s.buffers[0], autograd::unique_grad_rows(p), clr, o.eps,
                             o.maximize);
      return;
    }
    backend::backend_for(p.device())
        .adagrad_step(p, grad, s.buffers[0], clr, o.weight_decay, o.eps, o.maximize);
  });
}

}  // namespace ember::optim
