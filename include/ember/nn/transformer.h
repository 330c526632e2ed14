// Transformer modules: MultiheadAttention, encoder/decoder layers and their stacks (batch first).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <tuple>

#include "ember/nn/containers.h"
#include "ember/nn/layers.h"
#include "ember/nn/module.h"

namespace ember::nn {

/// Multi-head attention as torch.nn.MultiheadAttention(embed_dim, num_heads, dropout, bias,
/// batch_first=True), with torch's parameter names and layouts so state dicts load directly:
/// in_proj_weight (3E, E) = [W_q; W_k; W_v], in_proj_bias (3E), out_proj.weight (E, E),
/// out_proj.bias (E). kdim = vdim = embed_dim.
///
/// Masks follow torch.nn.MultiheadAttention (not scaled_dot_product_attention):
///  - key_padding_mask (B, S): bool, true = this key is padding and is ignored; or float, added.
///  - attn_mask (T, S) or (B * num_heads, T, S): bool, true = this pair is masked; or float, added.
///  - is_causal masks key j > query i (combined with attn_mask when both are given).
/// A query whose keys are all masked gives a zero output and zero weights (torch gives NaN).
class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t num_heads, double dropout = 0.0, bool bias = true);

  /// query: (B, T, E), key: (B, S, E), value: (B, S, E) -> (out (B, T, E), weights).
  /// weights is undefined unless need_weights; then it is (B, T, S) averaged over heads
  /// (average_attn_weights) or (B, H, T, S) per head, after dropout (as torch). Without
  /// need_weights the fused ember::scaled_dot_product_attention runs and no (T, S) probability
  /// matrix is kept.
  std::tuple<Tensor, Tensor> forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                     const Tensor& key_padding_mask = Tensor(),
                                     bool need_weights = true, const Tensor& attn_mask = Tensor(),
                                     bool average_attn_weights = true, bool is_causal = false);
  /// Self-attention without masks or weights: x (B, T, E) -> (B, T, E).
  Tensor forward(const Tensor& x) override;
  /// xavier_uniform_ on in_proj_weight, zero biases (as torch); out_proj.weight keeps Linear's.
  void reset_parameters();
  std::string extra_repr() const override;

  int64_t embed_dim, num_heads, head_dim;
  double dropout;
  Tensor in_proj_weight;  ///< (3E, E)
  Tensor in_proj_bias;    ///< (3E); undefined without bias
  std::shared_ptr<Linear> out_proj;
};

/// The arguments shared by TransformerEncoderLayer and TransformerDecoderLayer (torch's names and
/// defaults). activation is "relu" or "gelu" (exact erf GELU, as torch's "gelu").
struct TransformerLayerOptions {
  int64_t d_model = 512;
  int64_t nhead = 8;
  int64_t dim_feedforward = 2048;
  double dropout = 0.1;
  std::string activation = "relu";
  double layer_norm_eps = 1e-5;
  bool norm_first = false;  ///< pre-norm (GPT-2 style) when true, post-norm (original) when false
  bool bias = true;         ///< biases in the attention, feed-forward and LayerNorm layers
};

/// torch.nn.TransformerEncoderLayer(batch_first=True): self-attention and a feed-forward block,
/// each with a residual connection and LayerNorm. Children: self_attn, linear1, dropout, linear2,
/// norm1, norm2, dropout1, dropout2.
///   post-norm: x = norm1(x + sa(x)); x = norm2(x + ff(x))
///   pre-norm:  x = x + sa(norm1(x)); x = x + ff(norm2(x))
class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(int64_t d_model, int64_t nhead, int64_t dim_feedforward = 2048,
                          double dropout = 0.1, const std::string& activation = "relu",
                          double layer_norm_eps = 1e-5, bool norm_first = false);
  explicit TransformerEncoderLayer(const TransformerLayerOptions& options);

  /// src: (B, T, E); src_mask (T, T) and src_key_padding_mask (B, T) as in MultiheadAttention.
  Tensor forward(const Tensor& src, const Tensor& src_mask,
                 const Tensor& src_key_padding_mask = Tensor(), bool is_causal = false);
  Tensor forward(const Tensor& src) override { return forward(src, Tensor()); }

  TransformerLayerOptions options;
  std::shared_ptr<MultiheadAttention> self_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2;
  std::shared_ptr<LayerNorm> norm1, norm2;
};

/// torch.nn.TransformerDecoderLayer(batch_first=True): self-attention over the target, attention
/// over the encoder's memory, and a feed-forward block. Children: self_attn, multihead_attn,
/// linear1, dropout, linear2, norm1, norm2, norm3, dropout1, dropout2, dropout3.
class TransformerDecoderLayer : public Module {
 public:
  TransformerDecoderLayer(int64_t d_model, int64_t nhead, int64_t dim_feedforward = 2048,
                          double dropout = 0.1, const std::string& activation = "relu",
                          double layer_norm_eps = 1e-5, bool norm_first = false);
  explicit TransformerDecoderLayer(const TransformerLayerOptions& options);
  using Module::forward;

  /// tgt: (B, T, E), memory: (B, S, E). tgt_mask (T, T), memory_mask (T, S),
  /// tgt_key_padding_mask (B, T), memory_key_padding_mask (B, S) as in MultiheadAttention;
  /// tgt_is_causal applies the causal mask to the self-attention.
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                 const Tensor& memory_mask = Tensor(),
                 const Tensor& tgt_key_padding_mask = Tensor(),
                 const Tensor& memory_key_padding_mask = Tensor(), bool tgt_is_causal = false);

  TransformerLayerOptions options;
  std::shared_ptr<MultiheadAttention> self_attn, multihead_attn;
  std::shared_ptr<Linear> linear1, linear2;
  std::shared_ptr<Dropout> dropout, dropout1, dropout2, dropout3;
  std::shared_ptr<LayerNorm> norm1, norm2, norm3;
};

/// num_layers encoder layers (children "layers.0", "layers.1", ...) and an optional final "norm".
/// Each layer is a fresh module (torch deep-copies one layer, so its layers start equal; here they
/// are initialised independently).
class TransformerEncoder : public Module {
 public:
  /// Layers built from options; final_norm adds LayerNorm(d_model) (needed after pre-norm layers).
  TransformerEncoder(const TransformerLayerOptions& options, int64_t num_layers,
                     bool final_norm = false);
  /// Layers built by make_layer() (called num_layers times); norm may be null.
  TransformerEncoder(const std::function<std::shared_ptr<TransformerEncoderLayer>()>& make_layer,
                     int64_t num_layers, std::shared_ptr<LayerNorm> norm = nullptr);

  /// src: (B, T, E) -> (B, T, E); the masks are passed to every layer.
  Tensor forward(const Tensor& src, const Tensor& mask,
                 const Tensor& src_key_padding_mask = Tensor(), bool is_causal = false);
  Tensor forward(const Tensor& src) override { return forward(src, Tensor()); }
  std::shared_ptr<TransformerEncoderLayer> layer(int64_t i) const;

  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;  ///< null without a final norm
};

/// num_layers decoder layers ("layers.0", ...) and an optional final "norm".
class TransformerDecoder : public Module {
 public:
  TransformerDecoder(const TransformerLayerOptions& options, int64_t num_layers,
                     bool final_norm = false);
  TransformerDecoder(const std::function<std::shared_ptr<TransformerDecoderLayer>()>& make_layer,
                     int64_t num_layers, std::shared_ptr<LayerNorm> norm = nullptr);
  using Module::forward;

  /// tgt: (B, T, E), memory: (B, S, E) -> (B, T, E); masks as in TransformerDecoderLayer.
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = Tensor(),
                 const Tensor& memory_mask = Tensor(),
                 const Tensor& tgt_key_padding_mask = Tensor(),
                 const Tensor& memory_key_padding_mask = Tensor(), bool tgt_is_causal = false);
  std::shared_ptr<TransformerDecoderLayer> layer(int64_t i) const;

  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;
};

/// A (T, T) float mask with -inf above the diagonal and 0 elsewhere, as
/// torch.nn.Transformer.generate_square_subsequent_mask.
Tensor generate_square_subsequent_mask(int64_t size, DType dtype = kFloat32);

}  // namespace ember::nn
