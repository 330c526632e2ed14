// BERT: the bidirectional Transformer encoder (Hugging Face's BertModel) and its sequence
// classifier (BertForSequenceClassification), with HF's parameter names.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ember/nn/containers.h"
#include "ember/nn/layers.h"

namespace ember::models {

/// The architecture, with Hugging Face BertConfig's names and defaults (bert-base-uncased).
struct BertConfig {
  int64_t vocab_size = 30522, hidden_size = 768, num_hidden_layers = 12, num_attention_heads = 12,
          intermediate_size = 3072, max_position_embeddings = 512, type_vocab_size = 2;
  std::string hidden_act = "gelu";  ///< "gelu" (erf) | "gelu_new" (tanh) | "relu"
  double hidden_dropout_prob = 0.1, attention_probs_dropout_prob = 0.1, layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;
  int64_t num_labels = 2;                    ///< classifier outputs
  double initializer_range = 0.02;           ///< std of the N(0, std) initial weights
  std::optional<double> classifier_dropout;  ///< before the classifier; unset: hidden_dropout_prob
  /// Label names (HF's id2label), num_labels of them or empty: HF's defaults LABEL_0, LABEL_1, ...
  std::vector<std::string> id2label;
  bool operator==(const BertConfig&) const = default;
};

/// Word + position + token-type embeddings, then LayerNorm and dropout.
class BertEmbeddings : public nn::Module {
 public:
  explicit BertEmbeddings(const BertConfig& cfg);
  /// input_ids: (B, T) int64 -> (B, T, H), token types 0.
  Tensor forward(const Tensor& input_ids) override;
  /// inputs_embeds: (B, T, H) word embeddings; token_type_ids: (B, T) int64 or undefined (zeros).
  Tensor forward_embeds(const Tensor& inputs_embeds, const Tensor& token_type_ids);

  std::shared_ptr<nn::Embedding> word_embeddings, position_embeddings, token_type_embeddings;
  std::shared_ptr<nn::LayerNorm> LayerNorm;  // NOLINT: HF's name
  std::shared_ptr<nn::Dropout> dropout;
};

/// Multi-head self-attention's projections (attention.self): query, key, value.
class BertSelfAttention : public nn::Module {
 public:
  explicit BertSelfAttention(const BertConfig& cfg);
  /// x: (B, T, H) -> (B, T, H)
  Tensor forward(const Tensor& x) override;
  /// key_mask: (B, 1, 1, T) bool (true = attend) or undefined. probs: when not null, receives the
  /// attention probabilities (B, heads, T, T) (before dropout), computed unfused.
  Tensor forward(const Tensor& x, const Tensor& key_mask, Tensor* probs);

  int64_t num_heads;
  double dropout_p;
  std::shared_ptr<nn::Linear> query, key, value;
};

/// dense -> dropout -> LayerNorm(. + residual): the output of attention and of the feed-forward.
class BertResidualOutput : public nn::Module {
 public:
  BertResidualOutput(int64_t in, const BertConfig& cfg);
  /// x: (B, T, in), residual: (B, T, H) -> (B, T, H)
  Tensor forward(const Tensor& x, const Tensor& residual);
  Tensor forward(const Tensor& x) override;  ///< throws: needs the residual

  std::shared_ptr<nn::Linear> dense;
  std::shared_ptr<nn::LayerNorm> LayerNorm;  // NOLINT: HF's name
  std::shared_ptr<nn::Dropout> dropout;
};

/// attention.self + attention.output.
class BertAttention : public nn::Module {
 public:
  explicit BertAttention(const BertConfig& cfg);
  Tensor forward(const Tensor& x) override;
  Tensor forward(const Tensor& x, const Tensor& key_mask, Tensor* probs);

  std::shared_ptr<BertSelfAttention> self;
  std::shared_ptr<BertResidualOutput> output;
};

/// The feed-forward's first half: act(dense(x)), (B, T, H) -> (B, T, intermediate_size).
class BertIntermediate : public nn::Module {
 public:
  explicit BertIntermediate(const BertConfig& cfg);
  Tensor forward(const Tensor& x) override;

  std::string hidden_act;
  std::shared_ptr<nn::Linear> dense;
};

/// A post-norm encoder layer: attention, then intermediate + output.
class BertLayer : public nn::Module {
 public:
  explicit BertLayer(const BertConfig& cfg);
  Tensor forward(const Tensor& x) override;
  /// x: (B, T, H) -> (B, T, H); key_mask and probs as BertSelfAttention.
  Tensor forward(const Tensor& x, const Tensor& key_mask, Tensor* probs);

  std::shared_ptr<BertAttention> attention;
  std::shared_ptr<BertIntermediate> intermediate;
  std::shared_ptr<BertResidualOutput> output;
};

/// BERT's encoder. Children are named exactly as HF's BertModel: embeddings.{word_embeddings,
/// position_embeddings,token_type_embeddings,LayerNorm}, encoder.layer.N.attention.self.{query,
/// key,value}, encoder.layer.N.attention.output.{dense,LayerNorm}, encoder.layer.N.intermediate.
/// dense, encoder.layer.N.output.{dense,LayerNorm}, pooler.dense. Initialised as HF's
/// _init_weights: N(0, initializer_range) Linear and Embedding weights, zero biases, the padding
/// row of word_embeddings zero, LayerNorm weight 1 and bias 0.
class BertModel : public nn::Module {
 public:
  explicit BertModel(const BertConfig& cfg, bool add_pooling_layer = true);
  /// input_ids: (B, T) int64, T <= max_position_embeddings -> last hidden state (B, T, H).
  /// attention_mask: (B, T), nonzero/true = attend, 0 = padding (HF's convention); undefined: all
  /// attend. token_type_ids: (B, T) int64; undefined: zeros. attentions: when not null, receives
  /// each layer's probabilities (B, heads, T, T) (the attention then runs unfused; otherwise the
  /// fused scaled_dot_product_attention). Query rows of padding positions are computed but
  /// meaningless; a sequence whose keys are all padding gets zero attention output.
  Tensor forward(const Tensor& input_ids, const Tensor& attention_mask,
                 const Tensor& token_type_ids = Tensor(),
                 std::vector<Tensor>* attentions = nullptr);
  /// The mask from input_ids != pad_token_id, token types 0.
  Tensor forward(const Tensor& input_ids) override;
  /// As forward, from word embeddings inputs_embeds (B, T, H) instead of ids (position and token
  /// type embeddings are still added, then LayerNorm and dropout): for integrated gradients.
  Tensor forward_embeds(const Tensor& inputs_embeds, const Tensor& attention_mask,
                        const Tensor& token_type_ids = Tensor(),
                        std::vector<Tensor>* attentions = nullptr);
  /// tanh(pooler.dense(hidden[:, 0])): hidden (B, T, H) -> (B, H). Needs the pooling layer.
  Tensor pool(const Tensor& hidden);
  std::string extra_repr() const override;

  BertConfig config;
  std::shared_ptr<BertEmbeddings> embeddings;
  std::shared_ptr<nn::ModuleList> layer;  ///< encoder.layer: BertLayers
  std::shared_ptr<nn::Linear> pooler;     ///< pooler.dense; null without the pooling layer

 private:
  Tensor encode(const Tensor& x, const Tensor& attention_mask, std::vector<Tensor>* attentions);
};

/// HF's BertForSequenceClassification: bert.* + dropout + classifier (Linear H -> num_labels) on
/// the pooled [CLS] state. Logits: (B, num_labels).
class BertForSequenceClassification : public nn::Module {
 public:
  explicit BertForSequenceClassification(const BertConfig& cfg);
  /// As BertModel::forward -> logits (B, num_labels).
  Tensor forward(const Tensor& input_ids, const Tensor& attention_mask,
                 const Tensor& token_type_ids = Tensor(),
                 std::vector<Tensor>* attentions = nullptr);
  /// The padding mask from input_ids != pad_token_id -> logits (B, num_labels).
  Tensor forward(const Tensor& input_ids) override;
  /// From word embeddings (B, T, H) -> logits (B, num_labels).
  Tensor forward_embeds(const Tensor& inputs_embeds, const Tensor& attention_mask,
                        const Tensor& token_type_ids = Tensor(),
                        std::vector<Tensor>* attentions = nullptr);
  /// Logits of the last hidden state (B, T, H): classifier(dropout(pool(hidden))).
  Tensor classify(const Tensor& hidden);

  BertConfig config;
  std::shared_ptr<BertModel> bert;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::Linear> classifier;
};

/// HF's BertForMaskedLM, for pre-training: bert.* (no pooler) + cls.predictions: transform.dense
/// (H -> H), the activation, transform.LayerNorm, and decoder (H -> vocab, its weight tied to
/// bert.embeddings.word_embeddings.weight, with a bias). Logits: (B, T, vocab_size).
class BertForMaskedLM : public nn::Module {
 public:
  explicit BertForMaskedLM(const BertConfig& cfg);
  /// The padding mask from input_ids != pad_token_id -> logits (B, T, vocab_size).
  Tensor forward(const Tensor& input_ids) override;

  BertConfig config;
  std::shared_ptr<BertModel> bert;
  std::shared_ptr<nn::Linear> transform;          ///< cls.predictions.transform.dense
  std::shared_ptr<nn::LayerNorm> transform_norm;  ///< cls.predictions.transform.LayerNorm
  std::shared_ptr<nn::Linear> decoder;            ///< cls.predictions.decoder (tied weight)
};

}  // namespace ember::models
