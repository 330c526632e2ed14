// Vision ops with torch.nn.functional semantics on NCHW tensors: pooling, batch and group
// normalization, interpolation and padding.
#pragma once

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "ember/core/tensor.h"

namespace ember {

/// 2-d max pooling. x: (N, C, H, W) or (C, H, W) -> (N, C, OH, OW) or (C, OH, OW), with
/// OH = floor_or_ceil((H + 2 padding - dilation (kernel - 1) - 1) / stride) + 1 (a ceil-mode
/// window must start inside the input or the left padding). kernel_size, stride, padding and
/// dilation take one value (both dims) or two (H, W); an empty stride means stride = kernel.
/// padding must be at most half the kernel.
Tensor max_pool2d(const Tensor& x, IntList kernel_size, IntList stride = {}, IntList padding = {0},
                  IntList dilation = {1}, bool ceil_mode = false);
/// max_pool2d plus the int64 index of each maximum, flat over the input's H * W plane.
std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, IntList kernel_size,
                                                   IntList stride = {}, IntList padding = {0},
                                                   IntList dilation = {1}, bool ceil_mode = false);
/// 2-d average pooling; shapes as max_pool2d (no dilation). Windows are clipped to the padded
/// input; the divisor is divisor_override if given, else the window size including padding
/// (count_include_pad) or only the in-bounds elements.
Tensor avg_pool2d(const Tensor& x, IntList kernel_size, IntList stride = {}, IntList padding = {0},
                  bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = {});
/// Adaptive average pooling to output_size (one or two values): output (oh, ow) averages
/// rows [floor(oh H / OH), ceil((oh + 1) H / OH)) and the same for columns.
/// x: (N, C, H, W) or (C, H, W).
Tensor adaptive_avg_pool2d(const Tensor& x, IntList output_size);

/// Batch normalization over dim 1 of x: (N, C), (N, C, L) or (N, C, H, W):
///   y = (x - mean_c) / sqrt(var_c + eps) * weight_c + bias_c.
/// training: batch statistics (biased variance); running_mean / running_var, when defined, are
/// updated in place without history: r = (1 - momentum) r + momentum stat (unbiased variance).
/// Otherwise the running statistics (required). weight, bias: (C) or undefined (1 and 0).
/// Fused kernels forward and backward (the backward is composite under create_graph).
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = {}, const Tensor& bias = {}, bool training = false,
                  double momentum = 0.1, double eps = 1e-5);
/// Group normalization: the C channels of x: (N, C, *) split into num_groups groups, each
/// normalized over its channels and spatial dims (biased variance), then weight_c, bias_c (C).
Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);

/// Options of interpolate: exactly one of size and scale_factor (one value for every spatial
/// dim, or one per dim). mode: "nearest" (3-d or 4-d input) or "bilinear" (4-d);
/// align_corners only for bilinear. Build with sized() or scaled().
struct InterpolateOptions {
  Shape size;
  std::vector<double> scale_factor;
  std::string mode = "nearest";
  bool align_corners = false;

  /// Resize to a given output size: InterpolateOptions::sized({8, 8}, "bilinear").
  static InterpolateOptions sized(Shape size, std::string mode = "nearest",
                                  bool align_corners = false) {
    return {std::move(size), {}, std::move(mode), align_corners};
  }
  /// Resize by scale factors: output = floor(input * scale_factor).
  static InterpolateOptions scaled(std::vector<double> scale_factor, std::string mode = "nearest",
                                   bool align_corners = false) {
    return {{}, std::move(scale_factor), std::move(mode), align_corners};
  }
};
/// Resizes the spatial dims of x: (N, C, L) or (N, C, H, W), as torch.nn.functional.interpolate
/// (recompute_scale_factor=None: a given scale_factor is used for the source coordinates).
/// e.g. interpolate(x, InterpolateOptions::sized({8, 8}, "bilinear")).
Tensor interpolate(const Tensor& x, const InterpolateOptions& options);

/// Pads x; pad lists (left, right) pairs from the last dim backwards, as torch.
/// "constant": any dims, fills with value; negative pads crop. "reflect": the last 1 or 2 dims
/// (pad of length 2 or 4) mirrored without repeating the edge; each pad < that dim's size.
Tensor pad(const Tensor& x, IntList pad, const std::string& mode = "constant", double value = 0);

}  // namespace ember
