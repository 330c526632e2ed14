// Tabular models from a [model] config: one Linear, or an MLP with optional norm and dropout.
#include "ember/models/tabular.h"

#include "ember/nn/activation.h"
#include "ember/nn/batch_norm.h"
#include "ember/nn/layers.h"

namespace ember::models {

std::shared_ptr<nn::Module> make_activation(const std::string& name) {
  if (name == "relu") return std::make_shared<nn::ReLU>();
  if (name == "tanh") return std::make_shared<nn::Tanh>();
  if (name == "sigmoid") return std::make_shared<nn::Sigmoid>();
  if (name == "gelu") return std::make_shared<nn::GELU>();
  if (name == "leaky_relu") return std::make_shared<nn::LeakyReLU>();
  if (name == "silu") return std::make_shared<nn::SiLU>();
  if (name == "elu") return std::make_shared<nn::ELU>();
  EMBER_THROW(ConfigError, "model.activation = \"", name,
              "\": must be one of relu, tanh, sigmoid, gelu, leaky_relu, silu, elu");
}

std::shared_ptr<nn::Sequential> build_tabular_model(const train::ModelConfig& cfg,
                                                    int64_t in_features, int64_t out_features) {
  EMBER_CHECK(in_features >= 1 && out_features >= 1,
              "build_tabular_model: in_features and out_features must be >= 1, got ", in_features,
              " and ", out_features);
  auto model = std::make_shared<nn::Sequential>();
  if (cfg.type == "linear" || cfg.type == "logistic") {
    model->push_back(std::make_shared<nn::Linear>(in_features, out_features));
    return model;
  }
  EMBER_CHECK_T(ConfigError, cfg.type == "mlp", "model.type = \"", cfg.type,
                "\": must be one of linear, logistic, mlp");
  EMBER_CHECK_T(ConfigError, cfg.norm == "none" || cfg.norm == "batch" || cfg.norm == "layer",
                "model.norm = \"", cfg.norm, "\": must be one of none, batch, layer");
  EMBER_CHECK_T(ConfigError, cfg.dropout >= 0 && cfg.dropout < 1, "model.dropout = ", cfg.dropout,
                ": must be in [0, 1)");
  int64_t prev = in_features;
  for (size_t i = 0; i < cfg.hidden.size(); ++i) {
    const int64_t h = cfg.hidden[i];
    EMBER_CHECK_T(ConfigError, h >= 1, "model.hidden[", i, "] = ", h, ": must be >= 1");
    model->push_back(std::make_shared<nn::Linear>(prev, h));
    if (cfg.norm == "batch") model->push_back(std::make_shared<nn::BatchNorm1d>(h));
    if (cfg.norm == "layer") model->push_back(std::make_shared<nn::LayerNorm>(Shape{h}));
    model->push_back(make_activation(cfg.activation));
    if (cfg.dropout > 0) model->push_back(std::make_shared<nn::Dropout>(cfg.dropout));
    prev = h;
  }
  model->push_back(std::make_shared<nn::Linear>(prev, out_features));
  return model;
}

}  // namespace ember::models
