// Basic layers: Linear, Embedding, LayerNorm, Dropout, Dropout2d, Flatten.
#include "ember/nn/layers.h"

#include <cmath>
#include <sstream>

#include "ember/autograd/grad_mode.h"
#include "ember/nn/functional.h"
#include "ember/nn/init.h"
#include "ember/ops/creation.h"
#include "ember/ops/index.h"
#include "ember/ops/linalg.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/shape.h"

namespace ember::nn {

namespace {
const char* py_bool(bool b) {
  return b ? "True" : "False";
}
}  // namespace

// ---- Linear ----

Linear::Linear(int64_t in, int64_t out, bool with_bias)
    : Module("Linear"), in_features(in), out_features(out) {
  EMBER_CHECK(in >= 0 && out >= 0, "Linear: in_features and out_features must be >= 0, got ", in,
              " and ", out);
  weight = register_parameter("weight", empty({out, in}));
  if (with_bias) bias = register_parameter("bias", empty({out}));
  reset_parameters();
}

void Linear::reset_parameters(Generator* gen) {
  init::kaiming_uniform_(weight, std::sqrt(5.0), "fan_in", "leaky_relu", gen);
  if (bias.defined()) {
    const double bound = in_features > 0 ? 1.0 / std::sqrt(static_cast<double>(in_features)) : 0;
    init::uniform_(bias, -bound, bound, gen);
  }
}

Tensor Linear::forward(const Tensor& x) {
  return linear(x, weight, bias);
}

std::string Linear::extra_repr() const {
  std::ostringstream os;
  os << "in_features=" << in_features << ", out_features=" << out_features
     << ", bias=" << py_bool(bias.defined());
  return os.str();
}

// ---- Embedding ----

Embedding::Embedding(int64_t num, int64_t dim, std::optional<int64_t> pad)
    : Module("Embedding"), num_embeddings(num), embedding_dim(dim) {
  EMBER_CHECK(num >= 0 && dim >= 0,
              "Embedding: num_embeddings and embedding_dim must be >= 0, got ", num, " and ", dim);
  if (pad) {
    EMBER_CHECK_INDEX(*pad >= -num && *pad < num, "Embedding: padding_idx ", *pad,
                      " must be within num_embeddings (", num, ")");
    padding_idx = *pad < 0 ? *pad + num : *pad;
  }
  weight = register_parameter("weight", empty({num, dim}));
  reset_parameters();
}

void Embedding::reset_parameters(Generator* gen) {
  init::normal_(weight, 0.0, 1.0, gen);
  if (padding_idx) {
    NoGradGuard no_grad;
    weight.select(0, *padding_idx).fill_(0);
  }
}

Tensor Embedding::forward(const Tensor& indices) {
  return embedding(weight, indices, padding_idx.value_or(-1));
}

std::string Embedding::extra_repr() const {
  std::string s = std::to_string(num_embeddings) + ", " + std::to_string(embedding_dim);
  if (padding_idx) s += ", padding_idx=" + std::to_string(*padding_idx);
  return s;
}

// ---- LayerNorm ----

LayerNorm::LayerNorm(Shape shape, double epsilon, bool affine, bool with_bias)
    : Module("LayerNorm"),
      normalized_shape(std::move(shape)),
      eps(epsilon),
      elementwise_affine(affine) {
  EMBER_CHECK(!normalized_shape.empty(), "LayerNorm: normalized_shape must not be empty");
  if (affine) {
    weight = register_parameter("weight", empty(normalized_shape));
    if (with_bias) bias = register_parameter("bias", empty(normalized_shape));
  }
  reset_parameters();
}

void LayerNorm::reset_parameters() {
  if (weight.defined()) init::ones_(weight);
  if (bias.defined()) init::zeros_(bias);
}

Tensor LayerNorm::forward(const Tensor& x) {
  return functional::layer_norm(x, normalized_shape, weight, bias, eps);
}

std::string LayerNorm::extra_repr() const {
  std::ostringstream os;
  os << ember::detail::shape_to_string(normalized_shape) << ", eps=" << eps
     << ", elementwise_affine=" << py_bool(elementwise_affine);
  return os.str();
}

RMSNorm::RMSNorm(Shape shape, std::optional<double> epsilon, bool affine)
    : Module("RMSNorm"),
      normalized_shape(std::move(shape)),
      eps(epsilon),
      elementwise_affine(affine) {
  EMBER_CHECK(!normalized_shape.empty(), "RMSNorm: normalized_shape must not be empty");
  if (affine) weight = register_parameter("weight", empty(normalized_shape));
  reset_parameters();
}

void RMSNorm::reset_parameters() {
  if (weight.defined()) init::ones_(weight);
}

Tensor RMSNorm::forward(const Tensor& x) {
  return functional::rms_norm(x, normalized_shape, weight, eps);
}

std::string RMSNorm::extra_repr() const {
  std::ostringstream os;
  os << ember::detail::shape_to_string(normalized_shape) << ", eps=";
  if (eps)
    os << *eps;
  else
    os << "None";
  os << ", elementwise_affine=" << py_bool(elementwise_affine);
  return os.str();
}

// ---- Dropout, Flatten ----

Dropout::Dropout(double prob) : Module("Dropout"), p(prob) {
  EMBER_CHECK(p >= 0 && p <= 1, "Dropout: probability must be in [0, 1], got ", p);
}

Tensor Dropout::forward(const Tensor& x) {
  return dropout(x, p, is_training());
}

std::string Dropout::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p << ", inplace=False";
  return os.str();
}

Dropout2d::Dropout2d(double prob) : Module("Dropout2d"), p(prob) {
  EMBER_CHECK(p >= 0 && p <= 1, "Dropout2d: probability must be in [0, 1], got ", p);
}

// One mask value per (N, C) channel, from the fused dropout of ones, broadcast over H and W.
Tensor Dropout2d::forward(const Tensor& x) {
  EMBER_CHECK_SHAPE(x.dim() == 3 || x.dim() == 4,
                    "Dropout2d: expected input (N, C, H, W) or (C, H, W), got ", x.shape_str());
  if (!is_training() || p == 0) return x;
  Shape mask_shape = x.shape();
  mask_shape[mask_shape.size() - 1] = 1;
  mask_shape[mask_shape.size() - 2] = 1;
  return x * dropout(ones(mask_shape, x.dtype()), p, true);
}

std::string Dropout2d::extra_repr() const {
  std::ostringstream os;
  os << "p=" << p << ", inplace=False";
  return os.str();
}

Flatten::Flatten(int64_t start, int64_t end) : Module("Flatten"), start_dim(start), end_dim(end) {}

Tensor Flatten::forward(const Tensor& x) {
  return flatten(x, start_dim, end_dim);
}

std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(start_dim) + ", end_dim=" + std::to_string(end_dim);
}

}  // namespace ember::nn
