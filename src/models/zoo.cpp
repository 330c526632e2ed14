// create_model: one entry point from a [model] config to any model of the zoo.
#include "ember/models/models.h"

#include "ember/core/error.h"
#include "ember/models/bert.h"
#include "ember/models/bow.h"
#include "ember/models/ctr.h"

namespace ember::models {

GPTConfig gpt_config(const train::ModelConfig& cfg, int64_t vocab_size) {
  GPTConfig g;
  g.vocab_size = vocab_size;
  g.block_size = cfg.block_size;
  g.n_layer = cfg.n_layer;
  g.n_head = cfg.n_head;
  g.n_embd = cfg.n_embd;
  g.dropout = cfg.dropout;
  g.bias = cfg.bias;
  return g;
}

BertConfig bert_config(const train::ModelConfig& cfg, int64_t vocab_size, int64_t num_labels) {
  BertConfig b;
  b.vocab_size = vocab_size;
  b.hidden_size = cfg.n_embd;
  b.num_hidden_layers = cfg.n_layer;
  b.num_attention_heads = cfg.n_head;
  b.intermediate_size = 4 * cfg.n_embd;
  b.max_position_embeddings = cfg.block_size;
  b.hidden_dropout_prob = cfg.dropout;
  b.attention_probs_dropout_prob = cfg.dropout;
  b.pad_token_id =
      vocab_size - 2;  // [PAD]; [CLS] is vocab_size - 1 (see prepare_text_classes_data)
  b.num_labels = num_labels;
  return b;
}

std::shared_ptr<nn::Module> create_model(const train::ModelConfig& cfg,
                                         const std::vector<int64_t>& input_shape,
                                         int64_t out_features, int64_t vocab_size) {
  if (cfg.type == "gpt") {
    auto gpt = std::make_shared<GPT>(gpt_config(cfg, out_features));
    gpt->gradient_checkpointing = cfg.gradient_checkpointing;
    return gpt;
  }
  if (cfg.type == "bert" || cfg.type == "bert_mlm" || cfg.type == "bow") {
    EMBER_CHECK_T(
        ConfigError, vocab_size >= 3, "model.type = \"", cfg.type,
        "\" needs a vocabulary of tokens plus [PAD] and [CLS], got vocab_size = ", vocab_size);
    if (cfg.type == "bow")
      return std::make_shared<BagOfWords>(vocab_size, out_features, vocab_size - 3);
    if (cfg.type == "bert_mlm")
      return std::make_shared<BertForMaskedLM>(bert_config(cfg, vocab_size, out_features));
    return std::make_shared<BertForSequenceClassification>(
        bert_config(cfg, vocab_size, out_features));
  }
  return build_model(cfg, input_shape, out_features);
}

std::shared_ptr<nn::Module> create_model(const train::ModelConfig& cfg,
                                         const data::Preprocessor& pre, int64_t out_features) {
  if (!pre.is_fields()) return create_model(cfg, pre.input_shape(), out_features, pre.vocab_size());
  EMBER_CHECK_T(ConfigError, out_features == 1, "model.type = \"", cfg.type,
                "\": a CTR model gives one logit per sample (training.loss = \"bce\"), not ",
                out_features, " outputs");
  const data::FieldEncoder& f = pre.fields();
  return std::make_shared<CTRModel>(CTRConfig{.type = cfg.type,
                                              .slots = f.slots(),
                                              .num_ids = f.num_ids(),
                                              .embed_dim = cfg.embed_dim,
                                              .hidden = cfg.hidden,
                                              .activation = cfg.activation,
                                              .dropout = cfg.dropout,
                                              .norm = cfg.norm,
                                              .sparse = cfg.sparse,
                                              .embed_fields = cfg.embed_fields});
}

}  // namespace ember::models
