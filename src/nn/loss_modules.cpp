// Loss modules: option holders that forward to nn::functional.
#include "ember/nn/functional.h"
#include "ember/nn/loss.h"

namespace ember::nn {

namespace F = functional;

Loss::Loss(std::string type_name, std::string reduction, bool allow_batchmean)
    : Module(std::move(type_name)), reduction(std::move(reduction)) {
  const std::string& r = this->reduction;
  const bool ok = r == "mean" || r == "sum" || r == "none" || (allow_batchmean && r == "batchmean");
  EMBER_CHECK(ok, this->type_name(), ": unknown reduction '", r, "' (expected 'mean', 'sum'",
              allow_batchmean ? ", 'batchmean'" : "", " or 'none')");
}

Tensor MSELoss::forward(const Tensor& input, const Tensor& target) {
  return F::mse_loss(input, target, reduction);
}

Tensor L1Loss::forward(const Tensor& input, const Tensor& target) {
  return F::l1_loss(input, target, reduction);
}

SmoothL1Loss::SmoothL1Loss(std::string reduction, double beta)
    : Loss("SmoothL1Loss", std::move(reduction)), beta(beta) {
  EMBER_CHECK(beta >= 0, "SmoothL1Loss: beta must be non-negative, got ", beta);
}

Tensor SmoothL1Loss::forward(const Tensor& input, const Tensor& target) {
  return F::smooth_l1_loss(input, target, reduction, beta);
}

HuberLoss::HuberLoss(std::string reduction, double delta)
    : Loss("HuberLoss", std::move(reduction)), delta(delta) {
  EMBER_CHECK(delta > 0, "HuberLoss: delta must be positive, got ", delta);
}

Tensor HuberLoss::forward(const Tensor& input, const Tensor& target) {
  return F::huber_loss(input, target, reduction, delta);
}

CrossEntropyLoss::CrossEntropyLoss(const Tensor& weight, int64_t ignore_index,
                                   std::string reduction, double label_smoothing)
    : Loss("CrossEntropyLoss", std::move(reduction)),
      ignore_index(ignore_index),
      label_smoothing(label_smoothing) {
  EMBER_CHECK(label_smoothing >= 0 && label_smoothing <= 1,
              "CrossEntropyLoss: label_smoothing must be in [0, 1], got ", label_smoothing);
  if (weight.defined()) this->weight = register_buffer("weight", weight);
}

Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
  return F::cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing);
}

NLLLoss::NLLLoss(const Tensor& weight, int64_t ignore_index, std::string reduction)
    : Loss("NLLLoss", std::move(reduction)), ignore_index(ignore_index) {
  if (weight.defined()) this->weight = register_buffer("weight", weight);
}

Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) {
  return F::nll_loss(input, target, weight, ignore_index, reduction);
}

BCELoss::BCELoss(const Tensor& weight, std::string reduction)
    : Loss("BCELoss", std::move(reduction)) {
  if (weight.defined()) this->weight = register_buffer("weight", weight);
}

Tensor BCELoss::forward(const Tensor& input, const Tensor& target) {
  return F::binary_cross_entropy(input, target, weight, reduction);
}

BCEWithLogitsLoss::BCEWithLogitsLoss(const Tensor& weight, std::string reduction,
                                     const Tensor& pos_weight)
    : Loss("BCEWithLogitsLoss", std::move(reduction)) {
  if (weight.defined()) this->weight = register_buffer("weight", weight);
  if (pos_weight.defined()) this->pos_weight = register_buffer("pos_weight", pos_weight);
}

Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) {
  return F::binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weight);
}

Tensor KLDivLoss::forward(const Tensor& input, const Tensor& target) {
  return F::kl_div(input, target, reduction, log_target);
}

}  // namespace ember::nn
