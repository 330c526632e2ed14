// Pooling modules: nn::MaxPool2d, nn::AvgPool2d, nn::AdaptiveAvgPool2d (torch.nn semantics).
#pragma once

#include <optional>
#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

/// max_pool2d as a module. x: (N, C, H, W) or (C, H, W). An empty stride means kernel_size.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Shape kernel_size, Shape stride = {}, Shape padding = {0},
                     Shape dilation = {1}, bool ceil_mode = false);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Shape kernel_size, stride, padding, dilation;
  bool ceil_mode;
};

/// avg_pool2d as a module. x: (N, C, H, W) or (C, H, W). An empty stride means kernel_size.
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Shape kernel_size, Shape stride = {}, Shape padding = {0},
                     bool ceil_mode = false, bool count_include_pad = true,
                     std::optional<int64_t> divisor_override = {});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Shape kernel_size, stride, padding;
  bool ceil_mode, count_include_pad;
  std::optional<int64_t> divisor_override;
};

/// adaptive_avg_pool2d to output_size (one value for both dims, or (OH, OW)).
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Shape output_size);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  Shape output_size;
};

}  // namespace ember::nn
