// Adagrad: per-element learning rates from the running sum of squared gradients.
#pragma once

#include "ember/optim/optimizer.h"

namespace ember::optim {

/// Hyperparameters of Adagrad (torch.optim.Adagrad; group option names in quotes).
struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;                   ///< "lr_decay"
  double weight_decay = 0;               ///< L2 penalty added to the gradient
  double initial_accumulator_value = 0;  ///< "initial_accumulator_value": starting sum
  double eps = 1e-10;                    ///< "eps"
  bool maximize = false;                 ///< "maximize"
};

/// torch.optim.Adagrad (1.13): at step t, with g = ±grad + weight_decay * p,
///   clr = lr / (1 + (t - 1) lr_decay);  sum += g²;  p -= clr g / (sqrt(sum) + eps).
/// A row-sparse grad (Note [Row-sparse gradients]) takes torch's sparse path: only its rows
/// update (sum += g², p -= clr g / (sqrt(sum) + eps)); weight_decay must then be 0.
/// State: step, sum (created at a parameter's first update, filled with
/// initial_accumulator_value; PyTorch creates it in the constructor, with the same values).
class Adagrad final : public Optimizer {
 public:
  explicit Adagrad(std::vector<Tensor> params, AdagradOptions options = {});
  explicit Adagrad(std::vector<ParamGroup> groups, AdagradOptions defaults = {});
  /// A group's resolved hyperparameters.
  static AdagradOptions options_of(const ParamGroup& group);

 protected:
  void validate(const ParamGroup& group) const override;
  void init_state(ParamState& state, const Tensor& param, const ParamGroup& group) const override;
  void step_group(ParamGroup& group) override;
};

}  // namespace ember::optim
