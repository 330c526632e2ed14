// Batch and group normalisation modules: nn::BatchNorm1d, nn::BatchNorm2d, nn::GroupNorm
// (PyTorch semantics and state_dict names).
#pragma once

#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

/// The shared state and forward of BatchNorm1d / BatchNorm2d: normalises each channel c over
/// the batch (and spatial) dims with the fused functional batch_norm:
///   y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c.
/// Training mode (or track_running_stats = false) uses the batch's statistics, with the biased
/// variance; with track_running_stats it also updates, without recording history,
///   running_mean = (1 - momentum) running_mean + momentum mean
///   running_var  = (1 - momentum) running_var  + momentum var_unbiased
/// and adds one to num_batches_tracked. Eval mode uses the running statistics.
/// state_dict names: weight, bias (affine), running_mean, running_var, num_batches_tracked (int64,
/// 0-d) (track_running_stats), as in torch.nn.BatchNorm*d.
class BatchNorm : public Module {
 public:
  /// Training with batch statistics needs more than one value per channel.
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

 protected:
  BatchNorm(const char* type_name, int64_t num_features, double eps, double momentum, bool affine,
            bool track_running_stats);
  /// Throws ShapeError unless x has the module's expected dims.
  virtual void check_input(const Tensor& x) const = 0;
};

/// Batch normalisation of x: (N, C) or (N, C, L) with C = num_features.
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true);

 protected:
  void check_input(const Tensor& x) const override;
};

/// Batch normalisation of x: (N, C, H, W) with C = num_features.
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1,
                       bool affine = true, bool track_running_stats = true);

 protected:
  void check_input(const Tensor& x) const override;
};

/// Group normalisation (torch.nn.GroupNorm): x: (N, C, *) with C = num_channels split into
/// num_groups groups, each normalised over its channels and spatial dims; then per-channel
/// weight (ones) and bias (zeros) when affine.
class GroupNorm : public Module {
 public:
  GroupNorm(int64_t num_groups, int64_t num_channels, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  int64_t num_groups, num_channels;
  double eps;
  bool affine;
  Tensor weight, bias;  ///< (C); undefined without affine
};

}  // namespace ember::nn
