// Basic layers: Linear, Embedding, LayerNorm, RMSNorm, Dropout, Identity, Flatten.
#pragma once

#include <optional>
#include <string>

#include "ember/core/generator.h"
#include "ember/nn/module.h"

namespace ember::nn {

/// y = x W^T + b (fused through ember::linear).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  /// x: (*, in_features) -> (*, out_features)
  Tensor forward(const Tensor& x) override;
  /// PyTorch's default init: kaiming_uniform_(a = sqrt(5)) for the weight, i.e.
  /// U(-1/sqrt(in), 1/sqrt(in)), and the same bound for the bias.
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;

  int64_t in_features, out_features;
  Tensor weight;  ///< (out_features, in_features)
  Tensor bias;    ///< (out_features); undefined when built with bias = false
};

/// A lookup table of embedding vectors; rows at padding_idx are zero and get no gradient.
class Embedding : public Module {
 public:
  /// A negative padding_idx counts from the end, as in PyTorch.
  Embedding(int64_t num_embeddings, int64_t embedding_dim,
            std::optional<int64_t> padding_idx = std::nullopt);
  /// indices: (*) int64 -> (*, embedding_dim)
  Tensor forward(const Tensor& indices) override;
  /// N(0, 1), then the padding row zeroed.
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;

  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx;  ///< in [0, num_embeddings) once constructed
  Tensor weight;                       ///< (num_embeddings, embedding_dim)
};

/// Normalises over the trailing dims given by normalized_shape:
/// y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance.
class LayerNorm : public Module {
 public:
  /// nn::LayerNorm ln({C}) normalises the last dim; ({H, W}) the last two.
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true,
                     bool bias = true);
  /// x: (*, normalized_shape) -> same shape
  Tensor forward(const Tensor& x) override;
  /// weight = 1, bias = 0.
  void reset_parameters();
  std::string extra_repr() const override;

  Shape normalized_shape;
  double eps;
  bool elementwise_affine;
  Tensor weight;  ///< normalized_shape; undefined without elementwise_affine
  Tensor bias;    ///< normalized_shape; undefined without elementwise_affine or bias
};

/// RMS normalisation over the trailing dims (torch.nn.RMSNorm): y = x / sqrt(mean(x^2) + eps)
/// * weight. eps defaults to the machine epsilon of the input's dtype.
class RMSNorm : public Module {
 public:
  explicit RMSNorm(Shape normalized_shape, std::optional<double> eps = std::nullopt,
                   bool elementwise_affine = true);
  /// x: (*, normalized_shape) -> same shape
  Tensor forward(const Tensor& x) override;
  /// weight = 1.
  void reset_parameters();
  std::string extra_repr() const override;

  Shape normalized_shape;
  std::optional<double> eps;
  bool elementwise_affine;
  Tensor weight;  ///< normalized_shape; undefined without elementwise_affine
};

/// Zeroes elements with probability p and scales the rest by 1 / (1 - p), in training mode only.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double p;
};

/// Zeroes whole channels of x: (N, C, H, W) or (C, H, W) with probability p in training and
/// scales the kept ones by 1/(1-p) (torch.nn.Dropout2d); the identity in eval mode.
class Dropout2d : public Module {
 public:
  explicit Dropout2d(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double p;
};

/// Returns its input.
class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

/// Flattens dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t start_dim, end_dim;
};

}  // namespace ember::nn
