// Gradient clipping: rescale gradients to a maximum total norm, or clamp them elementwise.
#pragma once

#include <limits>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::optim {

/// torch.nn.utils.clip_grad_norm_ (1.13). The total norm of order norm_type (any p > 0, 0,
/// or ±infinity) is taken over the gradients of params as if they were one vector; gradients are
/// multiplied in place by min(1, max_norm / (total_norm + 1e-6)). Parameters without a gradient
/// are skipped. Returns the total norm (0 when no parameter has a gradient); norms are accumulated
/// in float64. With error_if_nonfinite a NaN or infinite total norm throws ValueError before any
/// gradient changes.
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

/// torch.nn.utils.clip_grad_value_: clamps every gradient of params to [-clip_value, clip_value]
/// in place. Parameters without a gradient are skipped.
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

/// Positive infinity, for clip_grad_norm_'s norm_type.
inline constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace ember::optim
