// Transformer encoder/decoder layers (pre- and post-norm) and their stacks, as torch.nn's.
#include <limits>

#include "ember/nn/transformer.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/shape.h"

namespace ember::nn {

namespace {

TransformerLayerOptions make_options(int64_t d_model, int64_t nhead, int64_t dim_feedforward,
                                     double dropout, const std::string& activation, double eps,
                                     bool norm_first) {
  TransformerLayerOptions o;
  o.d_model = d_model;
  o.nhead = nhead;
  o.dim_feedforward = dim_feedforward;
  o.dropout = dropout;
  o.activation = activation;
  o.layer_norm_eps = eps;
  o.norm_first = norm_first;
  return o;
}

void check_options(const TransformerLayerOptions& o, const char* what) {
  EMBER_CHECK(o.activation == "relu" || o.activation == "gelu", what,
              ": activation must be \"relu\" or \"gelu\", got \"", o.activation, "\"");
  EMBER_CHECK(o.dim_feedforward > 0, what, ": dim_feedforward must be positive, got ",
              o.dim_feedforward);
}

Tensor activate(const Tensor& x, const std::string& activation) {
  return activation == "gelu" ? gelu(x) : relu(x);
}

std::shared_ptr<LayerNorm> make_norm(const TransformerLayerOptions& o) {
  return std::make_shared<LayerNorm>(Shape{o.d_model}, o.layer_norm_eps, true, o.bias);
}

// The `layers` list of a TransformerEncoder or Decoder: num_layers layers from make_layer.
template <class Layer>
std::shared_ptr<ModuleList> make_layers(const std::function<std::shared_ptr<Layer>()>& make_layer,
                                        int64_t num_layers, const char* what) {
  EMBER_CHECK(num_layers >= 0, what, ": num_layers must be >= 0, got ", num_layers);
  auto layers = std::make_shared<ModuleList>();
  for (int64_t i = 0; i < num_layers; ++i) {
    auto l = make_layer();
    EMBER_CHECK(l != nullptr, what, ": make_layer returned null for layer ", i);
    layers->push_back(l);
  }
  return layers;
}

}  // namespace

// ---- TransformerEncoderLayer ----

TransformerEncoderLayer::TransformerEncoderLayer(int64_t d_model, int64_t nhead,
                                                 int64_t dim_feedforward, double p,
                                                 const std::string& activation, double eps,
                                                 bool norm_first)
    : TransformerEncoderLayer(
          make_options(d_model, nhead, dim_feedforward, p, activation, eps, norm_first)) {}

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerLayerOptions& o)
    : Module("TransformerEncoderLayer"), options(o) {
  check_options(o, "TransformerEncoderLayer");
  self_attn = register_module(
      "self_attn", std::make_shared<MultiheadAttention>(o.d_model, o.nhead, o.dropout, o.bias));
  linear1 =
      register_module("linear1", std::make_shared<Linear>(o.d_model, o.dim_feedforward, o.bias));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 =
      register_module("linear2", std::make_shared<Linear>(o.dim_feedforward, o.d_model, o.bias));
  norm1 = register_module("norm1", make_norm(o));
  norm2 = register_module("norm2", make_norm(o));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask,
                                        const Tensor& src_key_padding_mask, bool is_causal) {
  auto sa = [&](const Tensor& x) {
    Tensor y = std::get<0>(
        self_attn->forward(x, x, x, src_key_padding_mask, false, src_mask, true, is_causal));
    return dropout1->forward(y);
  };
  auto ff = [&](const Tensor& x) {
    Tensor h = dropout->forward(activate(linear1->forward(x), options.activation));
    return dropout2->forward(linear2->forward(h));
  };
  Tensor x = src;
  if (options.norm_first) {
    x = x + sa(norm1->forward(x));
    return x + ff(norm2->forward(x));
  }
  x = norm1->forward(x + sa(x));
  return norm2->forward(x + ff(x));
}

// ---- TransformerDecoderLayer ----

TransformerDecoderLayer::TransformerDecoderLayer(int64_t d_model, int64_t nhead,
                                                 int64_t dim_feedforward, double p,
                                                 const std::string& activation, double eps,
                                                 bool norm_first)
    : TransformerDecoderLayer(
          make_options(d_model, nhead, dim_feedforward, p, activation, eps, norm_first)) {}

TransformerDecoderLayer::TransformerDecoderLayer(const TransformerLayerOptions& o)
    : Module("TransformerDecoderLayer"), options(o) {
  check_options(o, "TransformerDecoderLayer");
  self_attn = register_module(
      "self_attn", std::make_shared<MultiheadAttention>(o.d_model, o.nhead, o.dropout, o.bias));
  multihead_attn = register_module("multihead_attn", std::make_shared<MultiheadAttention>(
                                                         o.d_model, o.nhead, o.dropout, o.bias));
  linear1 =
      register_module("linear1", std::make_shared<Linear>(o.d_model, o.dim_feedforward, o.bias));
  dropout = register_module("dropout", std::make_shared<Dropout>(o.dropout));
  linear2 =
      register_module("linear2", std::make_shared<Linear>(o.dim_feedforward, o.d_model, o.bias));
  norm1 = register_module("norm1", make_norm(o));
  norm2 = register_module("norm2", make_norm(o));
  norm3 = register_module("norm3", make_norm(o));
  dropout1 = register_module("dropout1", std::make_shared<Dropout>(o.dropout));
  dropout2 = register_module("dropout2", std::make_shared<Dropout>(o.dropout));
  dropout3 = register_module("dropout3", std::make_shared<Dropout>(o.dropout));
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory,
                                        const Tensor& tgt_mask, const Tensor& memory_mask,
                                        const Tensor& tgt_key_padding_mask,
                                        const Tensor& memory_key_padding_mask, bool tgt_is_causal) {
  EMBER_CHECK(memory.defined(), "TransformerDecoderLayer: memory must be defined");
  auto sa = [&](const Tensor& x) {
    Tensor y = std::get<0>(
        self_attn->forward(x, x, x, tgt_key_padding_mask, false, tgt_mask, true, tgt_is_causal));
    return dropout1->forward(y);
  };
  auto mha = [&](const Tensor& x) {
    Tensor y = std::get<0>(
        multihead_attn->forward(x, memory, memory, memory_key_padding_mask, false, memory_mask));
    return dropout2->forward(y);
  };
  auto ff = [&](const Tensor& x) {
    Tensor h = dropout->forward(activate(linear1->forward(x), options.activation));
    return dropout3->forward(linear2->forward(h));
  };
  Tensor x = tgt;
  if (options.norm_first) {
    x = x + sa(norm1->forward(x));
    x = x + mha(norm2->forward(x));
    return x + ff(norm3->forward(x));
  }
  x = norm1->forward(x + sa(x));
  x = norm2->forward(x + mha(x));
  return norm3->forward(x + ff(x));
}

// ---- TransformerEncoder ----

TransformerEncoder::TransformerEncoder(const TransformerLayerOptions& o, int64_t num_layers,
                                       bool final_norm)
    : TransformerEncoder([&] { return std::make_shared<TransformerEncoderLayer>(o); }, num_layers,
                         final_norm ? make_norm(o) : nullptr) {}

TransformerEncoder::TransformerEncoder(
    const std::function<std::shared_ptr<TransformerEncoderLayer>()>& make_layer, int64_t num_layers,
    std::shared_ptr<LayerNorm> final_norm)
    : Module("TransformerEncoder") {
  layers = register_module("layers", make_layers(make_layer, num_layers, "TransformerEncoder"));
  if (final_norm) norm = register_module("norm", std::move(final_norm));
}

std::shared_ptr<TransformerEncoderLayer> TransformerEncoder::layer(int64_t i) const {
  return detail::module_as<TransformerEncoderLayer>((*layers)[i], "TransformerEncoder.layers");
}

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask,
                                   const Tensor& src_key_padding_mask, bool is_causal) {
  Tensor x = src;
  for (size_t i = 0; i < layers->size(); ++i)
    x = layer(static_cast<int64_t>(i))->forward(x, mask, src_key_padding_mask, is_causal);
  return norm ? norm->forward(x) : x;
}

// ---- TransformerDecoder ----

TransformerDecoder::TransformerDecoder(const TransformerLayerOptions& o, int64_t num_layers,
                                       bool final_norm)
    : TransformerDecoder([&] { return std::make_shared<TransformerDecoderLayer>(o); }, num_layers,
                         final_norm ? make_norm(o) : nullptr) {}

TransformerDecoder::TransformerDecoder(
    const std::function<std::shared_ptr<TransformerDecoderLayer>()>& make_layer, int64_t num_layers,
    std::shared_ptr<LayerNorm> final_norm)
    : Module("TransformerDecoder") {
  layers = register_module("layers", make_layers(make_layer, num_layers, "TransformerDecoder"));
  if (final_norm) norm = register_module("norm", std::move(final_norm));
}

std::shared_ptr<TransformerDecoderLayer> TransformerDecoder::layer(int64_t i) const {
  return detail::module_as<TransformerDecoderLayer>((*layers)[i], "TransformerDecoder.layers");
}

Tensor TransformerDecoder::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                   const Tensor& memory_mask, const Tensor& tgt_key_padding_mask,
                                   const Tensor& memory_key_padding_mask, bool tgt_is_causal) {
  Tensor x = tgt;
  for (size_t i = 0; i < layers->size(); ++i)
    x = layer(static_cast<int64_t>(i))
            ->forward(x, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                      memory_key_padding_mask, tgt_is_causal);
  return norm ? norm->forward(x) : x;
}

Tensor generate_square_subsequent_mask(int64_t size, DType dtype) {
  EMBER_CHECK(size >= 0, "generate_square_subsequent_mask: size must be >= 0, got ", size);
  Tensor upper = gt(arange(size).reshape({1, size}), arange(size).reshape({size, 1}));
  return masked_fill(zeros({size, size}, dtype), upper, -std::numeric_limits<double>::infinity());
}

}  // namespace ember::nn
