// SGD: stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.
#pragma once

#include "ember/optim/optimizer.h"

namespace ember::optim {

/// Hyperparameters of SGD (torch.optim.SGD; group option names in quotes).
struct SGDOptions {
  double lr = 1e-3;         ///< PyTorch 1.13 requires lr; 2.x defaults to 1e-3, as here
  double momentum = 0;      ///< "momentum"
  double dampening = 0;     ///< "dampening"
  double weight_decay = 0;  ///< L2 penalty added to the gradient
  bool nesterov = false;    ///< "nesterov": needs momentum > 0 and dampening == 0
  bool maximize = false;    ///< "maximize": ascend the objective
};

/// torch.optim.SGD (1.13): with g = ±grad + weight_decay * p,
///   buf = g (first step) or momentum * buf + (1 - dampening) * g   (when momentum != 0)
///   d = nesterov ? g + momentum * buf : buf;   p -= lr * d.
/// State: momentum_buffer (when momentum != 0); no step count.
class SGD final : public Optimizer {
 public:
  explicit SGD(std::vector<Tensor> params, SGDOptions options = {});
  explicit SGD(std::vector<ParamGroup> groups, SGDOptions defaults = {});
  /// A group's resolved hyperparameters.
  static SGDOptions options_of(const ParamGroup& group);

 protected:
  void validate(const ParamGroup& group) const override;
  void init_state(ParamState& state, const Tensor& param, const ParamGroup& group) const override;
  void step_group(ParamGroup& group) override;
};

}  // namespace ember::optim
