// BERT: embeddings, post-norm encoder layers, the pooler and the sequence classifier (as HF).
#include "ember/models/bert.h"

#include <cmath>
#include <limits>

#include "ember/autograd/grad_mode.h"
#include "ember/nn/init.h"
#include "ember/ops/attention.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/linalg.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/shape.h"

namespace ember::models {

namespace {

void check_config(const BertConfig& c) {
  EMBER_CHECK_T(ValueError,
                c.vocab_size >= 1 && c.hidden_size >= 1 && c.num_hidden_layers >= 1 &&
                    c.intermediate_size >= 1 && c.max_position_embeddings >= 1 &&
                    c.type_vocab_size >= 1 && c.num_labels >= 1,
                "BertConfig: vocab_size, hidden_size, num_hidden_layers, intermediate_size, "
                "max_position_embeddings, type_vocab_size and num_labels must be >= 1, got ",
                c.vocab_size, ", ", c.hidden_size, ", ", c.num_hidden_layers, ", ",
                c.intermediate_size, ", ", c.max_position_embeddings, ", ", c.type_vocab_size, ", ",
                c.num_labels);
  EMBER_CHECK_T(ValueError,
                c.num_attention_heads >= 1 && c.hidden_size % c.num_attention_heads == 0,
                "BertConfig: hidden_size = ", c.hidden_size,
                " must be a multiple of num_attention_heads = ", c.num_attention_heads);
  EMBER_CHECK_T(ValueError,
                c.hidden_act == "gelu" || c.hidden_act == "gelu_new" || c.hidden_act == "relu",
                "BertConfig: hidden_act = \"", c.hidden_act,
                "\"; expected \"gelu\", \"gelu_new\" or \"relu\"");
  const double cd = c.classifier_dropout.value_or(c.hidden_dropout_prob);
  EMBER_CHECK_T(ValueError,
                c.hidden_dropout_prob >= 0 && c.hidden_dropout_prob < 1 &&
                    c.attention_probs_dropout_prob >= 0 && c.attention_probs_dropout_prob < 1 &&
                    cd >= 0 && cd < 1,
                "BertConfig: dropout probabilities must be in [0, 1), got hidden_dropout_prob = ",
                c.hidden_dropout_prob,
                ", attention_probs_dropout_prob = ", c.attention_probs_dropout_prob,
                ", classifier_dropout = ", cd);
  EMBER_CHECK_T(ValueError, c.layer_norm_eps > 0, "BertConfig: layer_norm_eps must be > 0, got ",
                c.layer_norm_eps);
  EMBER_CHECK_T(ValueError, c.pad_token_id >= 0 && c.pad_token_id < c.vocab_size,
                "BertConfig: pad_token_id = ", c.pad_token_id,
                " is not in [0, vocab_size = ", c.vocab_size, ")");
}

// A named container (encoder, pooler) holding children under HF's names.
class Holder : public nn::Module {
 public:
  explicit Holder(std::string type) : Module(std::move(type)) {}
};

// HF's _init_weights over every parameter of m: N(0, std) for Linear and Embedding weights
// (2-d), zeros for biases, LayerNorm weights 1; padding rows zeroed by the caller.
void init_weights(nn::Module& m, double std) {
  for (const auto& [name, p] : m.named_parameters()) {
    if (p.dim() >= 2)
      nn::init::normal_(p, 0.0, std);
    else if (name == "bias" || name.ends_with(".bias"))
      nn::init::zeros_(p);
    else
      nn::init::ones_(p);
  }
}

std::shared_ptr<nn::LayerNorm> layer_norm(const BertConfig& c) {
  return std::make_shared<nn::LayerNorm>(Shape{c.hidden_size}, c.layer_norm_eps);
}

}  // namespace

// ---- embeddings ----

BertEmbeddings::BertEmbeddings(const BertConfig& c) : Module("BertEmbeddings") {
  word_embeddings =
      register_module("word_embeddings",
                      std::make_shared<nn::Embedding>(c.vocab_size, c.hidden_size, c.pad_token_id));
  position_embeddings =
      register_module("position_embeddings",
                      std::make_shared<nn::Embedding>(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings = register_module(
      "token_type_embeddings", std::make_shared<nn::Embedding>(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.hidden_dropout_prob));
}

Tensor BertEmbeddings::forward(const Tensor& input_ids) {
  return forward_embeds(word_embeddings->forward(input_ids), Tensor());
}

Tensor BertEmbeddings::forward_embeds(const Tensor& inputs_embeds, const Tensor& token_type_ids) {
  EMBER_CHECK_SHAPE(
      inputs_embeds.dim() == 3 && inputs_embeds.size(2) == word_embeddings->embedding_dim,
      "BertEmbeddings: expected inputs_embeds of shape (B, T, ", word_embeddings->embedding_dim,
      "), got ", inputs_embeds.shape_str());
  const int64_t B = inputs_embeds.size(0), T = inputs_embeds.size(1);
  const int64_t P = position_embeddings->num_embeddings;
  EMBER_CHECK_SHAPE(T >= 1 && T <= P, "BertModel: sequence length T = ", T,
                    " must be in [1, max_position_embeddings = ", P, "] (input shape ",
                    inputs_embeds.shape_str(), ")");
  Tensor types = token_type_ids;
  if (types.defined()) {
    EMBER_CHECK_SHAPE(types.dim() == 2 && types.size(0) == B && types.size(1) == T,
                      "BertModel: token_type_ids must have shape (B, T) = (", B, ", ", T, "), got ",
                      types.shape_str());
    EMBER_CHECK_DTYPE(types.dtype() == kInt64, "BertModel: token_type_ids must be int64, got ",
                      types.dtype());
  } else {
    types = zeros({B, T}, Options(kInt64, inputs_embeds.device()));
  }
  // x: (B, T, H) = words + positions (broadcast over B) + token types
  const Tensor pos = position_embeddings->forward(
      arange(static_cast<double>(T), Options(kInt64, inputs_embeds.device())));
  const Tensor x = inputs_embeds + pos + token_type_embeddings->forward(types);
  return dropout->forward(LayerNorm->forward(x));
}

// ---- attention ----

BertSelfAttention::BertSelfAttention(const BertConfig& c)
    : Module("BertSelfAttention"),
      num_heads(c.num_attention_heads),
      dropout_p(c.attention_probs_dropout_prob) {
  const int64_t H = c.hidden_size;
  query = register_module("query", std::make_shared<nn::Linear>(H, H));
  key = register_module("key", std::make_shared<nn::Linear>(H, H));
  value = register_module("value", std::make_shared<nn::Linear>(H, H));
}

Tensor BertSelfAttention::forward(const Tensor& x) {
  return forward(x, Tensor(), nullptr);
}

Tensor BertSelfAttention::forward(const Tensor& x, const Tensor& key_mask, Tensor* probs) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2), D = C / num_heads;
  // q, k, v: (B, T, C) -> (B, heads, T, D)
  auto heads = [&](const Tensor& t) { return t.view({B, T, num_heads, D}).transpose(1, 2); };
  const Tensor q = heads(query->forward(x)), k = heads(key->forward(x)),
               v = heads(value->forward(x));
  const double p = is_training() ? dropout_p : 0.0;
  Tensor y;  // (B, heads, T, D)
  if (probs == nullptr) {
    y = scaled_dot_product_attention(q, k, v, key_mask, p);
  } else {
    // Unfused: scores (B, heads, T, T); masked keys get the lowest float, as HF's additive mask,
    // and rows with every key masked get zeros (as the fused op).
    Tensor scores = matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(D)));
    if (key_mask.defined()) {
      const Tensor masked = logical_not(key_mask);
      scores = masked_fill(scores, masked, -std::numeric_limits<float>::max());
      *probs = softmax(scores, -1) * key_mask.to(scores.dtype());
    } else {
      *probs = softmax(scores, -1);
    }
    y = matmul(p > 0 ? dropout(*probs, p, true) : *probs, v);
  }
  return y.transpose(1, 2).reshape({B, T, C});  // (B, T, C)
}

BertResidualOutput::BertResidualOutput(int64_t in, const BertConfig& c) : Module("BertOutput") {
  dense = register_module("dense", std::make_shared<nn::Linear>(in, c.hidden_size));
  LayerNorm = register_module("LayerNorm", layer_norm(c));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(c.hidden_dropout_prob));
}

Tensor BertResidualOutput::forward(const Tensor& x, const Tensor& residual) {
  return LayerNorm->forward(dropout->forward(dense->forward(x)) + residual);
}

Tensor BertResidualOutput::forward(const Tensor&) {
  EMBER_THROW(ValueError, "BertOutput: forward needs the residual: call forward(x, residual)");
}

BertAttention::BertAttention(const BertConfig& c) : Module("BertAttention") {
  self = register_module("self", std::make_shared<BertSelfAttention>(c));
  output = register_module("output", std::make_shared<BertResidualOutput>(c.hidden_size, c));
}

Tensor BertAttention::forward(const Tensor& x) {
  return forward(x, Tensor(), nullptr);
}

Tensor BertAttention::forward(const Tensor& x, const Tensor& key_mask, Tensor* probs) {
  return output->forward(self->forward(x, key_mask, probs), x);
}

// ---- feed-forward and layer ----

BertIntermediate::BertIntermediate(const BertConfig& c)
    : Module("BertIntermediate"), hidden_act(c.hidden_act) {
  dense =
      register_module("dense", std::make_shared<nn::Linear>(c.hidden_size, c.intermediate_size));
}

Tensor BertIntermediate::forward(const Tensor& x) {
  const Tensor h = dense->forward(x);
  if (hidden_act == "relu") return relu(h);
  return gelu(h, hidden_act == "gelu_new" ? "tanh" : "none");
}

BertLayer::BertLayer(const BertConfig& c) : Module("BertLayer") {
  attention = register_module("attention", std::make_shared<BertAttention>(c));
  intermediate = register_module("intermediate", std::make_shared<BertIntermediate>(c));
  output = register_module("output", std::make_shared<BertResidualOutput>(c.intermediate_size, c));
}

Tensor BertLayer::forward(const Tensor& x) {
  return forward(x, Tensor(), nullptr);
}

Tensor BertLayer::forward(const Tensor& x, const Tensor& key_mask, Tensor* probs) {
  const Tensor a = attention->forward(x, key_mask, probs);
  return output->forward(intermediate->forward(a), a);
}

// ---- the model ----

BertModel::BertModel(const BertConfig& cfg, bool add_pooling_layer)
    : Module("BertModel"), config(cfg) {
  check_config(cfg);
  embeddings = register_module("embeddings", std::make_shared<BertEmbeddings>(cfg));
  auto encoder = register_module("encoder", std::make_shared<Holder>("BertEncoder"));
  layer = encoder->register_module("layer", std::make_shared<nn::ModuleList>());
  for (int64_t i = 0; i < cfg.num_hidden_layers; ++i)
    layer->push_back(std::make_shared<BertLayer>(cfg));
  if (add_pooling_layer) {
    auto holder = register_module("pooler", std::make_shared<Holder>("BertPooler"));
    pooler = holder->register_module(
        "dense", std::make_shared<nn::Linear>(cfg.hidden_size, cfg.hidden_size));
  }
  init_weights(*this, cfg.initializer_range);
  NoGradGuard no_grad;
  embeddings->word_embeddings->weight.select(0, cfg.pad_token_id).zero_();
}

Tensor BertModel::forward(const Tensor& input_ids, const Tensor& attention_mask,
                          const Tensor& token_type_ids, std::vector<Tensor>* attentions) {
  EMBER_CHECK_SHAPE(input_ids.dim() == 2, "BertModel: expected input_ids of shape (B, T), got ",
                    input_ids.shape_str());
  EMBER_CHECK_DTYPE(input_ids.dtype() == kInt64, "BertModel: input_ids must be int64, got ",
                    input_ids.dtype());
  EMBER_CHECK_SHAPE(
      input_ids.size(1) <= config.max_position_embeddings, "BertModel: input_ids of shape ",
      input_ids.shape_str(), " has T = ", input_ids.size(1),
      " positions, more than max_position_embeddings = ", config.max_position_embeddings);
  const Tensor words = embeddings->word_embeddings->forward(input_ids);
  return encode(embeddings->forward_embeds(words, token_type_ids), attention_mask, attentions);
}

Tensor BertModel::forward(const Tensor& input_ids) {
  EMBER_CHECK_SHAPE(input_ids.dim() == 2, "BertModel: expected input_ids of shape (B, T), got ",
                    input_ids.shape_str());
  return forward(input_ids, input_ids != static_cast<double>(config.pad_token_id));
}

Tensor BertModel::forward_embeds(const Tensor& inputs_embeds, const Tensor& attention_mask,
                                 const Tensor& token_type_ids, std::vector<Tensor>* attentions) {
  return encode(embeddings->forward_embeds(inputs_embeds, token_type_ids), attention_mask,
                attentions);
}

Tensor BertModel::encode(const Tensor& x, const Tensor& attention_mask,
                         std::vector<Tensor>* attentions) {
  const int64_t B = x.size(0), T = x.size(1);
  Tensor key_mask;  // (B, 1, 1, T) bool, true = attend
  if (attention_mask.defined()) {
    EMBER_CHECK_SHAPE(
        attention_mask.dim() == 2 && attention_mask.size(0) == B && attention_mask.size(1) == T,
        "BertModel: attention_mask must have the shape (B, T) = (", B, ", ", T,
        ") of the input, got ", attention_mask.shape_str());
    const Tensor m = attention_mask.dtype() == kBool ? attention_mask : attention_mask != 0.0;
    key_mask = m.view({B, 1, 1, T});
  }
  if (attentions != nullptr) attentions->clear();
  Tensor h = x;  // (B, T, H)
  for (int64_t l = 0; l < config.num_hidden_layers; ++l) {
    Tensor probs;
    h = layer->at<BertLayer>(l)->forward(h, key_mask, attentions ? &probs : nullptr);
    if (attentions != nullptr) attentions->push_back(probs);
  }
  return h;
}

Tensor BertModel::pool(const Tensor& hidden) {
  EMBER_CHECK(pooler != nullptr, "BertModel::pool: this model was built without a pooling layer");
  EMBER_CHECK_SHAPE(hidden.dim() == 3 && hidden.size(2) == config.hidden_size,
                    "BertModel::pool: expected hidden states (B, T, ", config.hidden_size,
                    "), got ", hidden.shape_str());
  return tanh(pooler->forward(hidden.select(1, 0)));  // (B, H)
}

std::string BertModel::extra_repr() const {
  return "vocab_size=" + std::to_string(config.vocab_size) +
         ", hidden_size=" + std::to_string(config.hidden_size) +
         ", num_hidden_layers=" + std::to_string(config.num_hidden_layers) +
         ", num_attention_heads=" + std::to_string(config.num_attention_heads);
}

// ---- sequence classification ----

BertForSequenceClassification::BertForSequenceClassification(const BertConfig& cfg)
    : Module("BertForSequenceClassification"), config(cfg) {
  bert = register_module("bert", std::make_shared<BertModel>(cfg, true));
  dropout = register_module(
      "dropout",
      std::make_shared<nn::Dropout>(cfg.classifier_dropout.value_or(cfg.hidden_dropout_prob)));
  classifier =
      register_module("classifier", std::make_shared<nn::Linear>(cfg.hidden_size, cfg.num_labels));
  init_weights(*classifier, cfg.initializer_range);
}

Tensor BertForSequenceClassification::forward(const Tensor& input_ids, const Tensor& attention_mask,
                                              const Tensor& token_type_ids,
                                              std::vector<Tensor>* attentions) {
  return classify(bert->forward(input_ids, attention_mask, token_type_ids, attentions));
}

Tensor BertForSequenceClassification::forward(const Tensor& input_ids) {
  return classify(bert->forward(input_ids));
}

Tensor BertForSequenceClassification::forward_embeds(const Tensor& inputs_embeds,
                                                     const Tensor& attention_mask,
                                                     const Tensor& token_type_ids,
                                                     std::vector<Tensor>* attentions) {
  return classify(bert->forward_embeds(inputs_embeds, attention_mask, token_type_ids, attentions));
}

Tensor BertForSequenceClassification::classify(const Tensor& hidden) {
  return classifier->forward(dropout->forward(bert->pool(hidden)));
}

// ---- masked language model ----

BertForMaskedLM::BertForMaskedLM(const BertConfig& cfg) : Module("BertForMaskedLM"), config(cfg) {
  bert = register_module("bert", std::make_shared<BertModel>(cfg, /*add_pooling_layer=*/false));
  auto cls = register_module("cls", std::make_shared<Holder>("BertOnlyMLMHead"));
  auto predictions =
      cls->register_module("predictions", std::make_shared<Holder>("BertLMPredictionHead"));
  auto head = predictions->register_module("transform",
                                           std::make_shared<Holder>("BertPredictionHeadTransform"));
  transform = head->register_module("dense",
                                    std::make_shared<nn::Linear>(cfg.hidden_size, cfg.hidden_size));
  transform_norm = head->register_module("LayerNorm", layer_norm(cfg));
  decoder = predictions->register_module(
      "decoder", std::make_shared<nn::Linear>(cfg.hidden_size, cfg.vocab_size));
  init_weights(*cls, cfg.initializer_range);
  decoder->weight = decoder->replace_parameter("weight", bert->embeddings->word_embeddings->weight);
}

Tensor BertForMaskedLM::forward(const Tensor& input_ids) {
  const Tensor h = bert->forward(input_ids);  // (B, T, H)
  const Tensor t = transform->forward(h);
  const Tensor a = config.hidden_act == "relu"
                       ? relu(t)
                       : gelu(t, config.hidden_act == "gelu_new" ? "tanh" : "none");
  return decoder->forward(transform_norm->forward(a));
}

}  // namespace ember::models
