// Tabular models built from a [model] config: linear/logistic regression and MLPs.
#pragma once

#include <cstdint>
#include <memory>

#include "ember/nn/containers.h"
#include "ember/train/config.h"

namespace ember::models {

/// The model a ModelConfig describes, as an nn::Sequential with children "0", "1", ...:
///   linear, logistic: [Linear(in, out)]   (logistic gives logits for softmax/cross-entropy)
///   mlp: per hidden size h: Linear(prev, h), BatchNorm1d(h) | LayerNorm(h) (norm = batch |
///        layer), activation, Dropout(dropout) (when dropout > 0); then Linear(prev, out).
/// Input (N, in_features) -> output (N, out_features). Parameters are drawn from the default
/// generator (seed it with manual_seed for reproducible runs). Throws ValueError for sizes < 1 and
/// ConfigError for an unknown type, activation or norm, or a hidden size < 1.
std::shared_ptr<nn::Sequential> build_tabular_model(const train::ModelConfig& cfg,
                                                    int64_t in_features, int64_t out_features);

/// The activation module of a [model] activation name (relu, tanh, sigmoid, gelu, leaky_relu,
/// silu, elu); ConfigError for others.
std::shared_ptr<nn::Module> make_activation(const std::string& name);

}  // namespace ember::models
