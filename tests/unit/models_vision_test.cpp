// models/vision: layer stacks with inferred shapes, ResNets of BasicBlocks, and their ConfigErrors.
#include <gtest/gtest.h>

#include "ember/ember.h"
#include "ember/models/vision.h"
#include "ember/nn/batch_norm.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using ember::testing::expect_error;

namespace {

// The [model] of examples/fmnist_cnn.toml (its data path pointed at an empty directory).
train::ModelConfig fmnist_cnn() {
  const std::string data = ember::testing::fresh_dir("models_vision", "data").string();
  return train::load_train_config(std::string(EMBER_SOURCE_DIR) + "/examples/fmnist_cnn.toml",
                                  {"data.path=" + data})
      .model;
}

train::LayerConfig layer(const std::string& type) {
  train::LayerConfig l;
  l.type = type;
  return l;
}

train::LayerConfig conv(int64_t out, int64_t k = 3, int64_t padding = 0) {
  train::LayerConfig l = layer("conv2d");
  l.out_channels = out;
  l.kernel_size = k;
  l.padding = padding;
  return l;
}

train::LayerConfig linear(int64_t out) {
  train::LayerConfig l = layer("linear");
  l.out_features = out;
  return l;
}

train::LayerConfig pool(const std::string& type, int64_t k) {
  train::LayerConfig l = layer(type);
  l.kernel_size = k;
  return l;
}

train::ModelConfig sequential(std::vector<train::LayerConfig> layers) {
  train::ModelConfig m;
  m.type = "sequential";
  m.layers = std::move(layers);
  return m;
}

// Gives every BatchNorm2d of m non-trivial affine parameters and running statistics.
void randomize_norms(nn::Module& m) {
  NoGradGuard no_grad;
  for (const auto& [name, child] : m.named_modules()) {
    auto* bn = dynamic_cast<nn::BatchNorm2d*>(child.get());
    if (bn == nullptr) continue;
    const int64_t c = bn->weight.numel();
    bn->weight.copy_(rand({c}) + 0.5);
    bn->bias.copy_(randn({c}));
    bn->running_mean.copy_(randn({c}) * 0.1);
    bn->running_var.copy_(rand({c}) + 0.5);
  }
}

Tensor eval_norm(const std::shared_ptr<nn::Module>& m, const Tensor& x) {
  auto bn = std::dynamic_pointer_cast<nn::BatchNorm2d>(m);
  return batch_norm(x, bn->running_mean, bn->running_var, bn->weight, bn->bias, false, 0.1,
                    bn->eps);
}

Tensor conv_weight(const std::shared_ptr<nn::Module>& m) {
  return std::dynamic_pointer_cast<nn::Conv2d>(m)->weight;
}

}  // namespace

TEST(ModelsVision, FmnistCnnBuildsWithInferredShapes) {
  manual_seed(0);
  auto model = models::build_model(fmnist_cnn(), {1, 28, 28}, 10);
  EXPECT_EQ(model->size(), 10u);
  // conv 1->32: 320; conv 32->64: 18,496; linear 3136->128: 401,536; linear 128->10: 1,290.
  EXPECT_EQ(model->num_parameters(), 421642);
  EXPECT_EQ(model->state_dict().keys(),
            (std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias", "7.weight",
                                      "7.bias", "9.weight", "9.bias"}));
  EXPECT_EQ(model->state_dict()["7.weight"].shape(), (Shape{128, 3136}));
  model->eval();
  const Tensor out = (*model)(randn({3, 1, 28, 28}));
  EXPECT_EQ(out.shape(), (Shape{3, 10}));
}

TEST(ModelsVision, ResnetChildNamesAndShapes) {
  manual_seed(0);
  train::ModelConfig cfg;
  cfg.type = "resnet";
  cfg.channels = {8, 16, 32};
  cfg.blocks = {2, 1, 1};
  auto model = models::build_model(cfg, {1, 28, 28}, 10);
  const std::vector<std::string> keys = model->state_dict().keys();
  auto has = [&](const std::string& k) {
    return std::find(keys.begin(), keys.end(), k) != keys.end();
  };
  for (const char* k :
       {"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
        "layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.conv2.weight",
        "layer1.1.bn2.running_var", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight",
        "layer3.0.downsample.1.running_mean", "fc.weight", "fc.bias"})
    EXPECT_TRUE(has(k)) << k;
  // Stem and blocks convolve without bias; stage 1 keeps the shape, so it has no downsample.
  EXPECT_FALSE(has("conv1.bias"));
  EXPECT_FALSE(has("layer1.0.conv1.bias"));
  EXPECT_FALSE(has("layer1.0.downsample.0.weight"));
  EXPECT_EQ(model->state_dict()["layer2.0.conv1.weight"].shape(), (Shape{16, 8, 3, 3}));
  EXPECT_EQ(model->state_dict()["layer3.0.downsample.0.weight"].shape(), (Shape{32, 16, 1, 1}));
  EXPECT_EQ(model->state_dict()["fc.weight"].shape(), (Shape{10, 32}));
  const Tensor out = (*model)(randn({2, 1, 28, 28}));
  EXPECT_EQ(out.shape(), (Shape{2, 10}));

  cfg.dropout = 0.2;
  auto with_dropout = models::build_model(cfg, {3, 9, 9}, 4);
  EXPECT_TRUE(with_dropout->named_children().contains("dropout"));
  EXPECT_EQ((*with_dropout)(randn({2, 3, 9, 9})).shape(), (Shape{2, 4}));
}

TEST(ModelsVision, BasicBlockMatchesTheFormula) {
  manual_seed(1);
  // A block that changes the shape: 1x1 strided downsample.
  models::BasicBlock block(4, 8, 2);
  ASSERT_NE(block.downsample, nullptr);
  randomize_norms(block);
  block.eval();
  const Tensor x = randn({2, 4, 7, 7});
  auto down = std::dynamic_pointer_cast<nn::Sequential>(block.downsample);
  ASSERT_NE(down, nullptr);
  Tensor y = relu(eval_norm(block.bn1, conv2d(x, conv_weight(block.conv1), {}, {2}, {1})));
  y = eval_norm(block.bn2, conv2d(y, conv_weight(block.conv2), {}, {1}, {1}));
  const Tensor shortcut = eval_norm((*down)[1], conv2d(x, conv_weight((*down)[0]), {}, {2}, {0}));
  const Tensor want = relu(y + shortcut);
  const Tensor got = block.forward(x);
  ASSERT_EQ(got.shape(), (Shape{2, 8, 4, 4}));
  EXPECT_TRUE(allclose(got, want, 1e-5, 1e-5));

  // Same shape: the identity shortcut, no downsample module.
  models::BasicBlock same(3, 3, 1);
  EXPECT_EQ(same.downsample, nullptr);
  randomize_norms(same);
  same.eval();
  const Tensor x2 = randn({2, 3, 5, 5});
  Tensor y2 = relu(eval_norm(same.bn1, conv2d(x2, conv_weight(same.conv1), {}, {1}, {1})));
  y2 = eval_norm(same.bn2, conv2d(y2, conv_weight(same.conv2), {}, {1}, {1}));
  EXPECT_TRUE(allclose(same.forward(x2), relu(y2 + x2), 1e-5, 1e-5));
  EXPECT_EQ(same.extra_repr(), "3, 3, stride=1");
}

TEST(ModelsVision, TabularModelsFlattenImages) {
  manual_seed(0);
  train::ModelConfig cfg;
  cfg.type = "mlp";
  cfg.hidden = {16};
  auto model = models::build_model(cfg, {2, 4, 4}, 3);
  EXPECT_EQ((*model)[0]->type_name(), "Flatten");
  auto first = std::dynamic_pointer_cast<nn::Linear>((*model)[1]);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->in_features, 32);
  EXPECT_EQ((*model)(randn({5, 2, 4, 4})).shape(), (Shape{5, 3}));
  // The same flattened MLP on (F) inputs has no Flatten.
  auto flat = models::build_model(cfg, {32}, 3);
  EXPECT_NE((*flat)[0]->type_name(), "Flatten");
  EXPECT_EQ(flat->num_parameters(), model->num_parameters());
}

TEST(ModelsVision, SequentialInfersBatchNormAndPools) {
  manual_seed(0);
  auto model = models::build_model(
      sequential({conv(6, 3, 1), layer("batch_norm"), layer("relu"), pool("avg_pool2d", 2),
                  layer("dropout2d"), layer("adaptive_avg_pool2d"), layer("flatten"),
                  layer("batch_norm"), linear(5)}),
      {3, 8, 8}, 5);
  EXPECT_EQ((*model)[1]->type_name(), "BatchNorm2d");
  EXPECT_EQ((*model)[7]->type_name(), "BatchNorm1d");
  EXPECT_EQ(std::dynamic_pointer_cast<nn::Linear>((*model)[8])->in_features, 6);
  EXPECT_EQ((*model)(randn({4, 3, 8, 8})).shape(), (Shape{4, 5}));
}

TEST(ModelsVision, ShapesThatDoNotFitAreConfigErrors) {
  // A linear layer right after a convolution needs a flatten in between.
  expect_error<ConfigError>(
      [] {
        models::build_model(sequential({conv(4), linear(10)}), {1, 28, 28}, 10);
      },
      {"model.layers[1]", "linear", "flatten", "(4, 26, 26)"});
  // A convolution after flatten has no image to work on.
  expect_error<ConfigError>(
      [] {
        models::build_model(sequential({layer("flatten"), conv(4)}), {1, 8, 8}, 10);
      },
      {"model.layers[1]", "(64)"});
  // Pools (and convolutions) larger than their input, with the default stride and a larger one.
  expect_error<ConfigError>(
      [] {
        models::build_model(sequential({pool("max_pool2d", 5), layer("flatten"), linear(2)}),
                            {1, 4, 4}, 2);
      },
      {"model.layers[0]", "max_pool2d", "(1, 4, 4)"});
  expect_error<ConfigError>(
      [] {
        models::build_model(sequential({conv(2, 3), conv(2, 3), pool("avg_pool2d", 3),
                                        layer("flatten"), linear(2)}),
                            {1, 6, 6}, 2);
      },
      {"model.layers[2]", "avg_pool2d", "(2, 2, 2)"});
  expect_error<ConfigError>(
      [] {
        train::LayerConfig c = conv(2, 5);
        c.stride = 2;
        models::build_model(sequential({c, layer("flatten"), linear(2)}), {1, 4, 4}, 2);
      },
      {"model.layers[0]", "conv2d", "(1, 4, 4)"});
  // The last layer must give the data's output size, and the message names it.
  expect_error<ConfigError>(
      [] {
        models::build_model(sequential({layer("flatten"), linear(7)}), {1, 4, 4}, 10);
      },
      {"(7)", "out_features = 10"});
  expect_error<ConfigError>(
      [] {
        models::build_model(sequential({conv(10)}), {1, 4, 4}, 10);
      },
      {"(10, 2, 2)", "(10)"});
  // A ResNet needs images.
  expect_error<ConfigError>(
      [] {
        train::ModelConfig cfg;
        cfg.type = "resnet";
        models::build_model(cfg, {20}, 3);
      },
      {"resnet", "image", "(20)"});
}
