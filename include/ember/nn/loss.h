// Loss modules: Module wrappers of the functional losses, holding their options.
#pragma once

#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

/// Base of the loss modules: forward(input, target) -> loss.
class Loss : public Module {
 public:
  using Module::forward;
  using Module::operator();
  virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }

  std::string reduction;  ///< "mean", "sum" or "none" ("batchmean" for KLDivLoss)

 protected:
  Loss(std::string type_name, std::string reduction, bool allow_batchmean = false);
};

class MSELoss : public Loss {
 public:
  explicit MSELoss(std::string reduction = "mean") : Loss("MSELoss", std::move(reduction)) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;
};

class L1Loss : public Loss {
 public:
  explicit L1Loss(std::string reduction = "mean") : Loss("L1Loss", std::move(reduction)) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;
};

class SmoothL1Loss : public Loss {
 public:
  explicit SmoothL1Loss(std::string reduction = "mean", double beta = 1.0);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  double beta;
};

class HuberLoss : public Loss {
 public:
  explicit HuberLoss(std::string reduction = "mean", double delta = 1.0);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  double delta;
};

/// Cross entropy of logits; weight (C) is registered as the buffer "weight" when given.
class CrossEntropyLoss : public Loss {
 public:
  explicit CrossEntropyLoss(const Tensor& weight = Tensor(), int64_t ignore_index = -100,
                            std::string reduction = "mean", double label_smoothing = 0.0);
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight;
  int64_t ignore_index;
  double label_smoothing;
};

/// Negative log likelihood of log-probabilities; weight (C) is the buffer "weight" when given.
class NLLLoss : public Loss {
 public:
  explicit NLLLoss(const Tensor& weight = Tensor(), int64_t ignore_index = -100,
                   std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight;
  int64_t ignore_index;
};

/// Binary cross entropy of probabilities; weight is the buffer "weight" when given.
class BCELoss : public Loss {
 public:
  explicit BCELoss(const Tensor& weight = Tensor(), std::string reduction = "mean");
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight;
};

/// Binary cross entropy of logits; weight and pos_weight are buffers when given.
class BCEWithLogitsLoss : public Loss {
 public:
  explicit BCEWithLogitsLoss(const Tensor& weight = Tensor(), std::string reduction = "mean",
                             const Tensor& pos_weight = Tensor());
  Tensor forward(const Tensor& input, const Tensor& target) override;
  Tensor weight, pos_weight;
};

/// KL divergence; input holds log-probabilities.
class KLDivLoss : public Loss {
 public:
  explicit KLDivLoss(std::string reduction = "mean", bool log_target = false)
      : Loss("KLDivLoss", std::move(reduction), true), log_target(log_target) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;
  bool log_target;
};

}  // namespace ember::nn
