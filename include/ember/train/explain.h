// Attribution maps for image classifiers: saliency (gradient x input) and integrated gradients.
#pragma once

#include <cstdint>

#include "ember/core/tensor.h"
#include "ember/nn/module.h"

namespace ember::train {

/// Gradient x input: (x - baseline) * d logit_target / dx for one sample x (C, H, W) (or any
/// per-sample shape) -> same shape. With the black image as baseline this is gradient x pixel
/// value, whatever normalization the model's inputs went through. An undefined baseline means
/// zeros. Runs the model in eval mode; leaves its mode and gradients as they were.
Tensor saliency(nn::Module& model, const Tensor& x, int64_t target,
                const Tensor& baseline = Tensor());

/// Integrated gradients (Sundararajan et al., 2017) of logit `target` for one sample x against
/// baseline (same shape): (x - baseline) times the average gradient along the straight path,
/// estimated with the midpoint rule over `steps` points, `batch` points per forward pass. By the
/// completeness property the attributions sum to logit(x) - logit(baseline), up to the
/// discretisation error, which shrinks as steps grow.
Tensor integrated_gradients(nn::Module& model, const Tensor& x, const Tensor& baseline,
                            int64_t target, int64_t steps = 64, int64_t batch = 32);

/// The target logit of the model for one sample x (eval mode, no autograd).
double target_logit(nn::Module& model, const Tensor& x, int64_t target);

}  // namespace ember::train
