// Adam and AdamW: adaptive moment estimation, with coupled (L2) or decoupled weight decay.
#pragma once

#include <utility>

#include "ember/optim/optimizer.h"

namespace ember::optim {

/// Hyperparameters of Adam (torch.optim.Adam; group option names in quotes).
struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};  ///< "beta1", "beta2"
  double eps = 1e-8;                               ///< "eps"
  double weight_decay = 0;                         ///< L2 penalty added to the gradient
  bool amsgrad = false;                            ///< "amsgrad"
  bool maximize = false;                           ///< "maximize"
};

/// Hyperparameters of AdamW (torch.optim.AdamW): as Adam, but weight decay defaults to 1e-2 and
/// is decoupled (p *= 1 - lr * weight_decay before the Adam update).
struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas = {0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;
};

/// torch.optim.Adam (1.13), fused into one kernel per parameter: with g = ±grad (+ wd * p),
///   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g²;  vmax = max(vmax, v) (amsgrad)
///   p -= lr / (1 - b1^t) * m / (sqrt(v or vmax) / sqrt(1 - b2^t) + eps).
/// State: step, exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad only).
class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<Tensor> params, AdamOptions options = {});
  explicit Adam(std::vector<ParamGroup> groups, AdamOptions defaults = {});
  /// A group's resolved hyperparameters.
  static AdamOptions options_of(const ParamGroup& group);

 protected:
  Adam(std::string name, bool decoupled, const AdamOptions& defaults);
  void validate(const ParamGroup& group) const override;
  void init_state(ParamState& state, const Tensor& param, const ParamGroup& group) const override;
  void step_group(ParamGroup& group) override;

 private:
  bool decoupled_;
};

/// torch.optim.AdamW (1.13): Adam with decoupled weight decay. Same state as Adam.
class AdamW final : public Adam {
 public:
  explicit AdamW(std::vector<Tensor> params, AdamWOptions options = {});
  explicit AdamW(std::vector<ParamGroup> groups, AdamWOptions defaults = {});
};

}  // namespace ember::optim
