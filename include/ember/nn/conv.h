// Convolution layers: Conv2d and ConvTranspose2d.
#pragma once

#include <concepts>
#include <initializer_list>
#include <string>

#include "ember/core/generator.h"
#include "ember/nn/module.h"

namespace ember::nn {

/// A (height, width) pair given as one number for both dims or as {h, w}.
struct Size2 {
  Size2(int64_t v) : h(v), w(v) {}  // NOLINT(google-explicit-constructor): 3 means {3, 3}
  Size2(std::initializer_list<int64_t> v);
  Shape vec() const { return {h, w}; }
  int64_t h, w;
};

/// 2-d convolution over (N, C_in, H, W) or (C_in, H, W) inputs (see ember::conv2d).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Size2 stride = 1,
         Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1, bool bias = true);
  /// Padding by name: "valid" or "same" (stride 1 only).
  template <class S>
  requires std::convertible_to<const S&, std::string> Conv2d(int64_t in_channels,
                                                             int64_t out_channels,
                                                             Size2 kernel_size, Size2 stride,
                                                             const S& padding, Size2 dilation = 1,
                                                             int64_t groups = 1, bool bias = true)
      : Conv2d(in_channels, out_channels, kernel_size, stride, Size2(0), dilation, groups, bias) {
    set_padding_mode(padding);
  }
  /// x: (N, C_in, H, W) -> (N, C_out, OH, OW)
  Tensor forward(const Tensor& x) override;
  /// PyTorch's default init: kaiming_uniform_(a = sqrt(5)) for the weight and
  /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, fan_in = C_in / groups * kH * kW.
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;

  int64_t in_channels, out_channels;
  Size2 kernel_size, stride, padding, dilation;
  std::string padding_mode;  ///< "" (numeric padding), "valid" or "same"
  int64_t groups;
  Tensor weight;  ///< (out_channels, in_channels / groups, kH, kW)
  Tensor bias;    ///< (out_channels); undefined when built with bias = false

 private:
  void set_padding_mode(const std::string& mode);
};

/// 2-d transposed convolution (see ember::conv_transpose2d).
class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Size2 stride = 1,
                  Size2 padding = 0, Size2 output_padding = 0, int64_t groups = 1, bool bias = true,
                  Size2 dilation = 1);
  /// x: (N, C_in, H, W) -> (N, C_out, OH, OW)
  Tensor forward(const Tensor& x) override;
  /// As Conv2d, with fan_in = weight.size(1) * kH * kW = C_out / groups * kH * kW (as torch).
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;

  int64_t in_channels, out_channels;
  Size2 kernel_size, stride, padding, output_padding;
  int64_t groups;
  Size2 dilation;
  Tensor weight;  ///< (in_channels, out_channels / groups, kH, kW)
  Tensor bias;    ///< (out_channels); undefined when built with bias = false
};

}  // namespace ember::nn
