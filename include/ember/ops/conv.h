// Convolutions: conv2d and conv_transpose2d (NCHW, PyTorch semantics).
#pragma once

#include <concepts>
#include <string>

#include "ember/core/tensor.h"

namespace ember {

/// 2-d cross-correlation, as torch.nn.functional.conv2d.
/// x: (N, C_in, H, W) or unbatched (C_in, H, W); weight: (C_out, C_in / groups, kH, kW);
/// bias: (C_out) or undefined. Returns (N, C_out, OH, OW) (or (C_out, OH, OW) unbatched) with
/// OH = (H + 2 padding - dilation (kH - 1) - 1) / stride + 1, likewise OW. stride, padding and
/// dilation take one value for both dims or {h, w}. float32 or float64.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              IntList stride = {1, 1}, IntList padding = {0, 0}, IntList dilation = {1, 1},
              int64_t groups = 1);
/// conv2d with padding "valid" (none) or "same" (output size = input size; stride must be 1;
/// an odd total padding puts the extra row/column at the bottom/right, as torch does).
Tensor conv2d_padding_mode(const Tensor& x, const Tensor& weight, const Tensor& bias,
                           IntList stride, const std::string& padding, IntList dilation,
                           int64_t groups);
/// conv2d(x, w, b, {1}, "same"): the padding given by name (see conv2d_padding_mode). A template
/// so that braced padding lists like {1, 1} still pick the IntList overload.
template <class S>
requires std::convertible_to<const S&, std::string> Tensor
conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, IntList stride, const S& padding,
       IntList dilation = {1, 1}, int64_t groups = 1) {
  return conv2d_padding_mode(x, weight, bias, stride, padding, dilation, groups);
}

/// 2-d transposed convolution (the gradient of conv2d with respect to its input), as
/// torch.nn.functional.conv_transpose2d. x: (N, C_in, H, W) or (C_in, H, W);
/// weight: (C_in, C_out / groups, kH, kW); bias: (C_out) or undefined. Returns (N, C_out, OH, OW)
/// with OH = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1, likewise OW.
/// output_padding must be smaller than stride or dilation.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        IntList stride = {1, 1}, IntList padding = {0, 0},
                        IntList output_padding = {0, 0}, int64_t groups = 1,
                        IntList dilation = {1, 1});

}  // namespace ember
