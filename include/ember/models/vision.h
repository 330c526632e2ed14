// Image models from a [model] config: layer stacks (conv, pool, linear, ...) and small ResNets.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ember/nn/containers.h"
#include "ember/train/config.h"

namespace ember::models {

/// The ResNet basic block (torchvision's BasicBlock, with its child names):
///   out = relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x))
/// conv1: 3x3 with `stride`, conv2: 3x3, both without bias; downsample is Identity, or a 1x1
/// convolution with `stride` plus BatchNorm2d (children "0", "1") when the shape changes.
/// x: (N, in_channels, H, W) -> (N, out_channels, ceil(H / stride), ceil(W / stride)).
class BasicBlock : public nn::Module {
 public:
  BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride = 1);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

  int64_t in_channels, out_channels, stride;
  std::shared_ptr<nn::Module> conv1, bn1, conv2, bn2;
  std::shared_ptr<nn::Module> downsample;  ///< nullptr when the shape is unchanged
};

/// The model a ModelConfig describes for inputs of per-sample shape input_shape: (F) features or
/// (C, H, W) images; the output is (N, out_features).
///   linear, logistic, mlp: models::build_tabular_model, after a Flatten for images.
///   sequential: the [[model.layers]] in order; input sizes are inferred from the shape flowing
///     through (batch_norm becomes BatchNorm2d on images, BatchNorm1d on features). The last layer
///     must produce out_features values per sample.
///   resnet: conv 3x3 (C -> channels[0]), BatchNorm2d, ReLU; then for each stage s, blocks[s]
///     BasicBlocks with channels[s] (the first of stage s > 0 with stride 2); then
///     AdaptiveAvgPool2d(1), Flatten, Dropout (when dropout > 0), Linear(channels.back(), out).
/// Shapes that do not fit (a linear layer on an image without flatten, a pool larger than its
/// input, a wrong output size) are ConfigErrors naming "model.layers[i]" and the shapes.
std::shared_ptr<nn::Sequential> build_model(const train::ModelConfig& cfg,
                                            const std::vector<int64_t>& input_shape,
                                            int64_t out_features);

}  // namespace ember::models
