// SparseAdam: hyperparameter plumbing around the row-wise sparse_adam_step kernel.
#include "ember/optim/sparse_adam.h"

#include "backend/backend.h"
#include "ember/autograd/sparse_grad.h"
#include "ember/ops/creation.h"

namespace ember::optim {

namespace {
std::vector<std::pair<std::string, double>> sparse_adam_defaults(const SparseAdamOptions& o) {
  return {{"lr", o.lr},
          {"weight_decay", 0.0},
          {"beta1", o.betas.first},
          {"beta2", o.betas.second},
          {"eps", o.eps},
          {"maximize", o.maximize ? 1.0 : 0.0}};
}
}  // namespace

SparseAdam::SparseAdam(std::vector<Tensor> params, SparseAdamOptions options)
    : SparseAdam(single_group(std::move(params)), options) {}

SparseAdam::SparseAdam(std::vector<ParamGroup> groups, SparseAdamOptions defaults)
    : Optimizer("SparseAdam", sparse_adam_defaults(defaults), {"exp_avg", "exp_avg_sq"},
                /*has_step=*/true) {
  init_groups(std::move(groups));
}

SparseAdamOptions SparseAdam::options_of(const ParamGroup& g) {
  return {.lr = g.get("lr"),
          .betas = {g.get("beta1"), g.get("beta2")},
          .eps = g.get("eps"),
          .maximize = g.get("maximize") != 0};
}

void SparseAdam::validate(const ParamGroup& group) const {
  const SparseAdamOptions o = options_of(group);
  EMBER_CHECK(o.lr > 0, "SparseAdam: invalid learning rate ", o.lr);
  EMBER_CHECK(o.eps > 0, "SparseAdam: invalid epsilon value ", o.eps);
  EMBER_CHECK(o.betas.first >= 0 && o.betas.first < 1, "SparseAdam: invalid beta parameter at ",
              "index 0: ", o.betas.first);
  EMBER_CHECK(o.betas.second >= 0 && o.betas.second < 1,
              "SparseAdam: invalid beta parameter at index 1: ", o.betas.second);
  EMBER_CHECK(group.get("weight_decay") == 0, "SparseAdam: has no weight decay, got ",
              "weight_decay = ", group.get("weight_decay"),
              " (use AdamW for the dense parameters)");
}

void SparseAdam::init_state(ParamState& state, const Tensor& param, const ParamGroup&) const {
  state.buffers[0] = zeros_like(param);
  state.buffers[1] = zeros_like(param);
}

void SparseAdam::step_group(ParamGroup& group) {
  const SparseAdamOptions o = options_of(group);
  for_each_param(group, [&](const Tensor& p, const Tensor& grad, ParamState& s) {
    ++s.step;
    const Tensor rows = p.grad_is_row_sparse() ? autograd::unique_grad_rows(p) : Tensor();
    backend::backend_for(p.device())
        .sparse_adam_step(p, grad, s.buffers[0], s.buffers[1], rows, o.lr, o.betas.first,
                          o.betas.second, o.eps, s.step, o.maximize);
  });
}

}  // namespace ember::optim
