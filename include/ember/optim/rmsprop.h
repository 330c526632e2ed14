// RMSprop: gradient scaled by a running RMS, optionally centered and with momentum.
#pragma once

#include "ember/optim/optimizer.h"

namespace ember::optim {

/// Hyperparameters of RMSprop (torch.optim.RMSprop; group option names in quotes).
struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;      ///< "alpha": smoothing constant
  double eps = 1e-8;        ///< "eps"
  double weight_decay = 0;  ///< L2 penalty added to the gradient
  double momentum = 0;      ///< "momentum"
  bool centered = false;    ///< "centered": normalise by the estimated variance
  bool maximize = false;    ///< "maximize"
};

/// torch.optim.RMSprop (1.13): with g = ±grad + weight_decay * p,
///   sq = alpha sq + (1 - alpha) g²;  centered: ga = alpha ga + (1 - alpha) g,
///   avg = sqrt(sq - ga²) + eps (centered) or sqrt(sq) + eps;
///   momentum > 0: buf = momentum buf + g / avg, p -= lr buf;  else p -= lr g / avg.
/// State: step, square_avg, momentum_buffer (momentum > 0), grad_avg (centered).
class RMSprop final : public Optimizer {
 public:
  explicit RMSprop(std::vector<Tensor> params, RMSpropOptions options = {});
  explicit RMSprop(std::vector<ParamGroup> groups, RMSpropOptions defaults = {});
  /// A group's resolved hyperparameters.
  static RMSpropOptions options_of(const ParamGroup& group);

 protected:
  void validate(const ParamGroup& group) const override;
  void init_state(ParamState& state, const Tensor& param, const ParamGroup& group) const override;
  void step_group(ParamGroup& group) override;
};

}  // namespace ember::optim
