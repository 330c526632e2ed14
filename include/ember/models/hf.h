// Hugging Face GPT-2 and BERT directories (config.json + model.safetensors + tokenizer files):
// import into models::GPT / models::BertForSequenceClassification and export back, so Ember runs
// HF checkpoints and HF runs Ember-trained models.
#pragma once

#include <memory>
#include <string>

#include "ember/data/tokenizer.h"
#include "ember/data/wordpiece.h"
#include "ember/models/bert.h"
#include "ember/models/gpt.h"

namespace ember::models {

/// What load_hf_gpt2 returns.
struct HFGPT2 {
  std::shared_ptr<GPT> model;                  ///< in eval mode
  std::unique_ptr<data::Tokenizer> tokenizer;  ///< null when the directory has none
  GPTConfig config;
};

// Note [Hugging Face GPT-2 layout]: GPT2LMHeadModel names its tensors as Ember's GPT does
// ("transformer.h.0.attn.c_attn.weight", ...), but its attention and MLP projections are Conv1D
// layers whose weights are (in, out), the transpose of nn::Linear's (out, in): c_attn, attn.c_proj,
// c_fc and mlp.c_proj are transposed on import and export. GPT2Model checkpoints have no
// "transformer." prefix; lm_head.weight is absent when tied to wte (tie_word_embeddings, the
// default). The causal-mask buffers "h.N.attn.bias" and "h.N.attn.masked_bias" are not weights and
// are skipped. GPT-2's activation "gelu_new" is GELU with the tanh approximation, as in GPT.

/// Reads a Hugging Face GPT-2 directory:
///  - config.json: n_layer, n_head, n_embd, vocab_size, n_positions (-> block_size),
///    layer_norm_epsilon (default 1e-5), resid_pdrop (-> dropout, default 0.1),
///    tie_word_embeddings (default true); activation_function must be "gelu_new" (the default) and
///    the options Ember's GPT does not implement (n_inner other than 4 n_embd,
///    add_cross_attention, scale_attn_by_inverse_layer_idx, scale_attn_weights = false) throw
///    ember::ConfigError naming the key. Other keys are ignored.
///  - model.safetensors (F32, F64 or BF16; converted to float32), names with or without
///    "transformer."; every tensor's shape is checked against config.json. Missing tensors are
///    listed, and so are unexpected ones; errors name the file, the tensor, the expected and the
///    actual shape.
///  - the tokenizer, when present: encoder.json + vocab.bpe (OpenAI's names) or vocab.json +
///    merges.txt (Hugging Face's) -> BpeTokenizer; Ember's character tokenizer.json ->
///    CharTokenizer.
/// A missing directory or file throws ember::IOError; a bad config ember::ConfigError; tensors
/// that disagree with the config ember::ShapeError.
HFGPT2 load_hf_gpt2(const std::string& dir);

/// Writes model (and tok, when not null) as a Hugging Face GPT2LMHeadModel directory, created if
/// missing: config.json (model_type "gpt2", architectures ["GPT2LMHeadModel"], the architecture
/// keys, activation_function "gelu_new"), model.safetensors (HF layout: "transformer." names,
/// Conv1D weights (in, out), no lm_head.weight when tied; float32) and, for a BPE tokenizer,
/// encoder.json + vocab.bpe and their Hugging Face names vocab.json + merges.txt. A character
/// tokenizer is saved as Ember's tokenizer.json, which transformers cannot read; config.json then
/// says so under "ember_tokenizer". Every file is written atomically. Hugging Face GPT-2 always has
/// biases: model.config.bias = false throws ember::ConfigError.
void save_hf_gpt2(const GPT& model, const data::Tokenizer* tok, const std::string& dir);

/// True when dir looks like a Hugging Face model directory (config.json and model.safetensors,
/// no Ember run.json).
bool is_hf_model_dir(const std::string& dir);

// ---- BERT ----

/// What load_hf_bert returns.
struct HFBert {
  std::shared_ptr<BertForSequenceClassification> model;  ///< in eval mode
  BertConfig config;
  /// A data::WordPieceTokenizer when the directory has a vocab.txt, else null.
  std::unique_ptr<data::Tokenizer> tokenizer;
};

// Note [Hugging Face BERT layout]: BertForSequenceClassification names its tensors as Ember's
// ("bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.attention.self.query.weight",
// ..., "classifier.weight"), Linear weights (out, in) as nn::Linear: nothing is transposed.
// BertModel checkpoints have no "bert." prefix and no classifier; older ones name LayerNorm
// parameters gamma/beta. "embeddings.position_ids" / "embeddings.token_type_ids" are buffers,
// not weights, and are skipped; BertForPreTraining's heads (cls.*) are ignored with a warning.

/// Reads a Hugging Face BERT directory as a BertForSequenceClassification:
///  - config.json: the BertConfig keys (HF's defaults when absent); num_labels is the size of
///    id2label (else "num_labels", else 2); hidden_act "gelu" | "gelu_new" | "gelu_pytorch_tanh"
///    (read as "gelu_new") | "relu". position_embedding_type other than "absolute", is_decoder and
///    add_cross_attention throw ember::ConfigError naming the key. Other keys are ignored.
///  - model.safetensors (F32, F64 or BF16; converted to float32), names with or without "bert.";
///    every tensor's shape is checked against config.json (ember::ShapeError naming the file, the
///    tensor, the expected and the actual shape); missing and unexpected tensors are listed
///    (ember::IOError). A checkpoint without classifier.* (or pooler.*) loads with those freshly
///    initialised, and a warning on stderr says so.
///  - vocab.txt, when present -> data::WordPieceTokenizer (do_lower_case from
///    tokenizer_config.json, default true).
BertConfig read_hf_bert_config(const std::string& config_json);
HFBert load_hf_bert(const std::string& dir);

/// Writes model as a Hugging Face BertForSequenceClassification directory, created if missing:
/// config.json (model_type "bert", architectures ["BertForSequenceClassification"], the BertConfig
/// keys, id2label) and model.safetensors (float32, "bert." names); with tok, also vocab.txt and
/// tokenizer_config.json (BertTokenizer, do_lower_case). Atomic writes.
void save_hf_bert(const BertForSequenceClassification& model, const std::string& dir,
                  const data::WordPieceTokenizer* tok = nullptr);

}  // namespace ember::models
