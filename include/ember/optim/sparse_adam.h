// SparseAdam: lazy Adam for embedding tables with row-sparse gradients.
#pragma once

#include <utility>

#include "ember/optim/optimizer.h"

namespace ember::optim {

/// Hyperparameters of SparseAdam (torch.optim.SparseAdam; group option names in quotes).
struct SparseAdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};  ///< "beta1", "beta2"
  double eps = 1e-8;                               ///< "eps"
  bool maximize = false;                           ///< "maximize"
};

/// torch.optim.SparseAdam (1.13), the lazy Adam: for a row-sparse gradient
/// (Note [Row-sparse gradients]) only the rows written since zero_grad (deduplicated; their
/// gradients were summed by the scatter-add, as torch coalesces) update, with g = ±grad,
///   m += (1 - b1)(g - m);  v += (1 - b2)(g² - v);
///   p -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps),
/// t being the parameter's step count; the other rows and their state stay bit-identical.
/// A dense gradient updates every row with the same formula (torch raises there instead), so
/// one SparseAdam can serve a whole model. No weight decay (the group's weight_decay must be 0).
/// State: step, exp_avg, exp_avg_sq.
class SparseAdam final : public Optimizer {
 public:
  explicit SparseAdam(std::vector<Tensor> params, SparseAdamOptions options = {});
  explicit SparseAdam(std::vector<ParamGroup> groups, SparseAdamOptions defaults = {});
  /// A group's resolved hyperparameters.
  static SparseAdamOptions options_of(const ParamGroup& group);

 protected:
  void validate(const ParamGroup& group) const override;
  void init_state(ParamState& state, const Tensor& param, const ParamGroup& group) const override;
  void step_group(ParamGroup& group) override;
};

}  // namespace ember::optim
