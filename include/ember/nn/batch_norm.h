// nn::BatchNorm1d: batch normalisation over (N, C) or (N, C, L) inputs, with PyTorch's semantics.
#pragma once

#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

/// Normalises each channel c over the batch (and length) dims:
///   y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c.
/// Training mode (or track_running_stats = false) uses the batch's statistics, with the biased
/// variance; with track_running_stats it also updates, without recording history,
///   running_mean = (1 - momentum) running_mean + momentum mean
///   running_var  = (1 - momentum) running_var  + momentum var_unbiased
/// and adds one to num_batches_tracked. Eval mode uses the running statistics.
/// Built from ember ops, so autograd (including higher-order gradients) works.
/// state_dict names: weight, bias (affine), running_mean, running_var, num_batches_tracked (int64,
/// 0-d) (track_running_stats), as in torch.nn.BatchNorm1d.
class BatchNorm1d : public Module {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true);
  /// x: (N, C) or (N, C, L) with C = num_features -> same shape. Training with batch statistics
  /// needs more than one value per channel (N * L > 1).
  Tensor forward(const Tensor& x) override;
  /// running_mean = 0, running_var = 1, num_batches_tracked = 0.
  void reset_running_stats();
  /// reset_running_stats(), weight = 1, bias = 0.
  void reset_parameters();
  std::string extra_repr() const override;

  int64_t num_features;
  double eps, momentum;
  bool affine, track_running_stats;
  Tensor weight, bias;                                    ///< (C); undefined without affine
  Tensor running_mean, running_var, num_batches_tracked;  ///< undefined without tracking
};

}  // namespace ember::nn
