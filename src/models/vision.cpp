// Image models from a [model] config: inferred-shape layer stacks and small ResNets.
#include "ember/models/vision.h"

#include <sstream>

#include "ember/models/tabular.h"
#include "ember/nn/activation.h"
#include "ember/nn/batch_norm.h"
#include "ember/nn/conv.h"
#include "ember/nn/layers.h"
#include "ember/nn/pooling.h"
#include "ember/ops/elementwise.h"

namespace ember::models {

namespace {

std::shared_ptr<nn::Module> conv3x3(int64_t in, int64_t out, int64_t stride) {
  return std::make_shared<nn::Conv2d>(in, out, 3, stride, /*padding=*/1, /*dilation=*/1,
                                      /*groups=*/1, /*bias=*/false);
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + ")";
}

// Output side of a convolution or pool: floor((n + 2 p - k) / s) + 1, or 0 when the window does
// not fit (C++ division truncates toward zero, so a negative span would give 1).
int64_t out_side(int64_t n, int64_t k, int64_t s, int64_t p) {
  const int64_t span = n + 2 * p - k;
  return span < 0 ? 0 : span / s + 1;
}

// Appends layer l of a sequential model, given the per-sample shape coming in; returns the shape
// going out.
std::vector<int64_t> add_layer(nn::Sequential& model, const train::LayerConfig& l, size_t i,
                               std::vector<int64_t> shape) {
  const std::string where = "model.layers[" + std::to_string(i) + "] (" + l.type + ")";
  const bool image = shape.size() == 3;
  auto need_image = [&] {
    EMBER_CHECK_T(ConfigError, image, where, ": needs an image input (C, H, W), got ",
                  shape_str(shape), "; it cannot follow flatten or linear");
  };
  const std::string& t = l.type;
  if (t == "conv2d" || t == "max_pool2d" || t == "avg_pool2d") {
    need_image();
    const int64_t stride = l.stride > 0 ? l.stride : (t == "conv2d" ? 1 : l.kernel_size);
    const int64_t h = out_side(shape[1], l.kernel_size, stride, l.padding);
    const int64_t w = out_side(shape[2], l.kernel_size, stride, l.padding);
    EMBER_CHECK_T(ConfigError, h >= 1 && w >= 1, where, ": kernel_size ", l.kernel_size,
                  " with padding ", l.padding, " does not fit the input ", shape_str(shape));
    EMBER_CHECK_T(ConfigError, t == "conv2d" || 2 * l.padding <= l.kernel_size, where, ": padding ",
                  l.padding, " must be at most half of kernel_size ", l.kernel_size);
    if (t == "conv2d") {
      model.push_back(std::make_shared<nn::Conv2d>(shape[0], l.out_channels, l.kernel_size, stride,
                                                   l.padding, 1, 1, l.bias));
      return {l.out_channels, h, w};
    }
    if (t == "max_pool2d")
      model.push_back(
          std::make_shared<nn::MaxPool2d>(Shape{l.kernel_size}, Shape{stride}, Shape{l.padding}));
    else
      model.push_back(
          std::make_shared<nn::AvgPool2d>(Shape{l.kernel_size}, Shape{stride}, Shape{l.padding}));
    return {shape[0], h, w};
  }
  if (t == "adaptive_avg_pool2d") {
    need_image();
    model.push_back(std::make_shared<nn::AdaptiveAvgPool2d>(Shape{l.output_size}));
    return {shape[0], l.output_size, l.output_size};
  }
  if (t == "flatten") {
    model.push_back(std::make_shared<nn::Flatten>());
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return {n};
  }
  if (t == "linear") {
    EMBER_CHECK_T(ConfigError, shape.size() == 1, where, ": needs a flat input (F), got ",
                  shape_str(shape), "; add a flatten layer before it");
    model.push_back(std::make_shared<nn::Linear>(shape[0], l.out_features, l.bias));
    return {l.out_features};
  }
  if (t == "batch_norm") {
    if (image)
      model.push_back(std::make_shared<nn::BatchNorm2d>(shape[0]));
    else
      model.push_back(std::make_shared<nn::BatchNorm1d>(shape[0]));
    return shape;
  }
  if (t == "dropout") {
    model.push_back(std::make_shared<nn::Dropout>(l.p));
    return shape;
  }
  if (t == "dropout2d") {
    need_image();
    model.push_back(std::make_shared<nn::Dropout2d>(l.p));
    return shape;
  }
  model.push_back(make_activation(t));  // ConfigError for an unknown name
  return shape;
}

std::shared_ptr<nn::Sequential> build_sequential(const train::ModelConfig& cfg,
                                                 std::vector<int64_t> shape, int64_t out) {
  auto model = std::make_shared<nn::Sequential>();
  for (size_t i = 0; i < cfg.layers.size(); ++i) shape = add_layer(*model, cfg.layers[i], i, shape);
  EMBER_CHECK_T(ConfigError, shape.size() == 1 && shape[0] == out,
                "model.layers: the last layer gives ", shape_str(shape),
                " per sample, but the data needs (", out,
                "); end with a linear layer with out_features = ", out);
  return model;
}

std::shared_ptr<nn::Sequential> build_resnet(const train::ModelConfig& cfg,
                                             const std::vector<int64_t>& shape, int64_t out) {
  EMBER_CHECK_T(ConfigError, shape.size() == 3, "model.type = \"resnet\" needs image data, got ",
                "inputs ", shape_str(shape));
  EMBER_CHECK_T(ConfigError, !cfg.channels.empty() && cfg.blocks.size() == cfg.channels.size(),
                "model.blocks: must have one entry per stage (as many as model.channels)");
  auto model = std::make_shared<nn::Sequential>();
  model->push_back("conv1", conv3x3(shape[0], cfg.channels[0], 1));
  model->push_back("bn1", std::make_shared<nn::BatchNorm2d>(cfg.channels[0]));
  model->push_back("relu", std::make_shared<nn::ReLU>());
  int64_t in = cfg.channels[0];
  for (size_t s = 0; s < cfg.channels.size(); ++s) {
    auto stage = std::make_shared<nn::Sequential>();
    for (int64_t b = 0; b < cfg.blocks[s]; ++b) {
      const int64_t stride = s > 0 && b == 0 ? 2 : 1;
      stage->push_back(std::make_shared<BasicBlock>(in, cfg.channels[s], stride));
      in = cfg.channels[s];
    }
    model->push_back("layer" + std::to_string(s + 1), stage);
  }
  model->push_back("avgpool", std::make_shared<nn::AdaptiveAvgPool2d>(Shape{1}));
  model->push_back("flatten", std::make_shared<nn::Flatten>());
  if (cfg.dropout > 0) model->push_back("dropout", std::make_shared<nn::Dropout>(cfg.dropout));
  model->push_back("fc", std::make_shared<nn::Linear>(in, out));
  return model;
}

}  // namespace

BasicBlock::BasicBlock(int64_t in, int64_t out, int64_t s)
    : Module("BasicBlock"), in_channels(in), out_channels(out), stride(s) {
  EMBER_CHECK(in >= 1 && out >= 1 && s >= 1,
              "BasicBlock: channels and stride must be >= 1, got in ", in, ", out ", out,
              ", stride ", s);
  conv1 = register_module("conv1", conv3x3(in, out, s));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(out));
  conv2 = register_module("conv2", conv3x3(out, out, 1));
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(out));
  if (s != 1 || in != out) {
    auto down = std::make_shared<nn::Sequential>();
    down->push_back(std::make_shared<nn::Conv2d>(in, out, 1, s, 0, 1, 1, /*bias=*/false));
    down->push_back(std::make_shared<nn::BatchNorm2d>(out));
    downsample = register_module("downsample", down);
  }
}

Tensor BasicBlock::forward(const Tensor& x) {
  // x: (N, in, H, W) -> (N, out, H / stride, W / stride)
  Tensor y = relu(bn1->forward(conv1->forward(x)));
  y = bn2->forward(conv2->forward(y));
  return relu(y + (downsample ? downsample->forward(x) : x));
}

std::string BasicBlock::extra_repr() const {
  std::ostringstream os;
  os << in_channels << ", " << out_channels << ", stride=" << stride;
  return os.str();
}

std::shared_ptr<nn::Sequential> build_model(const train::ModelConfig& cfg,
                                            const std::vector<int64_t>& input_shape,
                                            int64_t out_features) {
  EMBER_CHECK(input_shape.size() == 1 || input_shape.size() == 3,
              "build_model: input_shape must be (F) or (C, H, W), got ", shape_str(input_shape));
  if (cfg.type == "sequential") return build_sequential(cfg, input_shape, out_features);
  if (cfg.type == "resnet") return build_resnet(cfg, input_shape, out_features);
  if (input_shape.size() == 1) return build_tabular_model(cfg, input_shape[0], out_features);
  int64_t features = 1;
  for (int64_t d : input_shape) features *= d;
  auto model = std::make_shared<nn::Sequential>();
  model->push_back(std::make_shared<nn::Flatten>());
  const auto mlp = build_tabular_model(cfg, features, out_features);
  for (const auto& m : *mlp) model->push_back(m);
  return model;
}

}  // namespace ember::models
