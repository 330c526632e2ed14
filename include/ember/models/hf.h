// Hugging Face GPT-2 directories (config.json + model.safetensors + tokenizer files): import into
// models::GPT and export back, so Ember runs HF checkpoints and HF runs Ember-trained models.
#pragma once

#include <memory>
#include <string>

#include "ember/data/tokenizer.h"
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

}  // namespace ember::models
