// nn::functional: layer_norm and the loss functions, with PyTorch's argument order and semantics.
#pragma once

#include <optional>
#include <string>

#include "ember/core/tensor.h"

namespace ember::nn::functional {

/// Layer normalisation over the trailing dims given by normalized_shape:
/// y = (x - mean) / sqrt(var + eps) * weight + bias (biased variance).
/// x: (*, normalized_shape); weight, bias: normalized_shape or undefined.
Tensor layer_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
/// RMS normalisation over the trailing dims: y = x / sqrt(mean(x^2) + eps) * weight
/// (torch.nn.functional.rms_norm; eps defaults to the machine epsilon of x's dtype).
Tensor rms_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight = Tensor(),
                std::optional<double> eps = std::nullopt);

// ---- losses ----
// reduction: "mean" (average over elements, or the weighted average for class-weighted losses),
// "sum", or "none" (per-element losses). Bad dtypes, shapes, class indices and reductions throw
// an ember::Error naming the loss and the offending shapes or values.

/// (input - target)^2. input, target: same shape, floating point.
Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean");
/// |input - target|.
Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean");
/// 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target; beta = 0 gives L1).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target,
                      const std::string& reduction = "mean", double beta = 1.0);
/// 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta). delta > 0.
Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
                  double delta = 1.0);

/// Cross entropy of logits, computed as log_softmax + nll (fused softmax kernel).
/// input: (N, C) or (N, C, d1, ...) or (C). target either
///  - int64 class indices: (N) or (N, d1, ...) or () — entries equal to ignore_index contribute
///    nothing; "mean" divides by the summed weight[target] of the kept entries; or
///  - class probabilities: floating, the same shape as input — "mean" divides by N * d1 * ...
/// weight: (C) per-class weights or undefined. label_smoothing in [0, 1] mixes the target with
/// the uniform distribution over C classes.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, const std::string& reduction = "mean",
                     double label_smoothing = 0.0);
/// Negative log likelihood: -weight[t] * input[n, t] for log-probabilities input (N, C, d1...),
/// (N, C) or (C) and int64 targets (N, d1...), (N) or (); weighting and ignore_index as in
/// cross_entropy.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                int64_t ignore_index = -100, const std::string& reduction = "mean");
/// -weight * (t log(x) + (1 - t) log(1 - x)), each log clamped to >= -100.
/// input: probabilities in [0, 1]; target: same shape; weight: broadcastable to input.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const Tensor& weight = Tensor(), const std::string& reduction = "mean");
/// binary_cross_entropy(sigmoid(input), target) in the numerically stable form
/// (1 - t) x + (1 + (pos_weight - 1) t) log(1 + exp(-x)), times weight.
/// pos_weight: broadcastable to input, e.g. (C) for input (N, C).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight = Tensor(),
                                        const std::string& reduction = "mean",
                                        const Tensor& pos_weight = Tensor());
/// Kullback-Leibler divergence with input = log q: target (log p when log_target) times
/// (log p - input), 0 where p = 0. reduction also accepts "batchmean" (sum / input.size(0)), the
/// one that gives the true KL divergence.
Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
              bool log_target = false);

}  // namespace ember::nn::functional
