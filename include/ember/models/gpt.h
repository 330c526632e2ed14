// GPT: the GPT-2 decoder-only Transformer (as nanoGPT and Hugging Face's GPT2LMHeadModel), with a
// KV cache for generation.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ember/nn/containers.h"
#include "ember/nn/layers.h"

namespace ember::models {

/// The architecture. Parameter names follow Hugging Face's GPT2LMHeadModel ("transformer.h.0.
/// attn.c_attn.weight", ...) with nn::Linear's (out, in) weight layout.
struct GPTConfig {
  int64_t vocab_size = 50257;
  int64_t block_size = 1024;  ///< longest context (positions of wpe)
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t n_embd = 768;     ///< divisible by n_head
  double dropout = 0.0;     ///< embeddings, attention probabilities, residual branches
  bool bias = true;         ///< biases in the Linear layers and LayerNorms
  bool tie_weights = true;  ///< lm_head.weight is transformer.wte.weight
  double layer_norm_eps = 1e-5;
  bool operator==(const GPTConfig&) const = default;
};

/// Keys and values of every layer for the positions seen so far: k[l], v[l]: (B, H, capacity, D).
struct KVCache {
  std::vector<Tensor> k, v;
  int64_t length = 0;    ///< positions filled
  int64_t capacity = 0;  ///< block_size
};

/// Causal multi-head self-attention: c_attn projects to q, k, v at once; c_proj mixes the heads.
class CausalSelfAttention : public nn::Module {
 public:
  explicit CausalSelfAttention(const GPTConfig& cfg);
  /// x: (B, T, C) -> (B, T, C)
  Tensor forward(const Tensor& x) override;
  /// With a cache: x holds positions [cache.length, cache.length + T); their keys and values are
  /// stored in layer `layer` of the cache (the caller advances cache.length).
  Tensor forward(const Tensor& x, KVCache* cache, int64_t layer);

  int64_t n_head, n_embd;
  double dropout;
  std::shared_ptr<nn::Linear> c_attn, c_proj;
  std::shared_ptr<nn::Dropout> resid_dropout;
};

/// The feed-forward part: c_proj(gelu_tanh(c_fc(x))), 4 * n_embd wide.
class GPTMLP : public nn::Module {
 public:
  explicit GPTMLP(const GPTConfig& cfg);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<nn::Linear> c_fc, c_proj;
  std::shared_ptr<nn::Dropout> dropout;
};

/// A pre-norm block: x + attn(ln_1(x)), then + mlp(ln_2(x)).
class GPTBlock : public nn::Module {
 public:
  explicit GPTBlock(const GPTConfig& cfg);
  Tensor forward(const Tensor& x) override;
  Tensor forward(const Tensor& x, KVCache* cache, int64_t layer);
  std::shared_ptr<nn::LayerNorm> ln_1, ln_2;
  std::shared_ptr<CausalSelfAttention> attn;
  std::shared_ptr<GPTMLP> mlp;
};

/// GPT-2: token + position embeddings, n_layer blocks, a final LayerNorm and the output
/// projection to vocabulary logits. Initialised as GPT-2: N(0, 0.02) weights, zero biases, and
/// the residual projections (c_proj) scaled by 1 / sqrt(2 n_layer).
class GPT : public nn::Module {
 public:
  explicit GPT(const GPTConfig& cfg);
  /// idx: (B, T) int64 token ids, T <= block_size -> logits (B, T, vocab_size).
  Tensor forward(const Tensor& idx) override;
  /// Generation step: idx holds positions [cache.length, cache.length + T) and the cache grows by
  /// T. Returns the logits of the last position only: (B, vocab_size).
  Tensor forward_next(const Tensor& idx, KVCache& cache);
  /// An empty cache for batch size B.
  KVCache make_cache(int64_t batch) const;
  std::string extra_repr() const override;

  GPTConfig config;
  /// Recompute each block's activations in backward instead of keeping them (autograd::checkpoint;
  /// Hugging Face's gradient_checkpointing): less memory, about one more forward per step.
  bool gradient_checkpointing = false;
  std::shared_ptr<nn::Embedding> wte, wpe;  ///< transformer.wte, transformer.wpe
  std::shared_ptr<nn::Dropout> drop;
  std::shared_ptr<nn::ModuleList> h;  ///< GPTBlocks
  std::shared_ptr<nn::LayerNorm> ln_f;
  std::shared_ptr<nn::Linear> lm_head;  ///< no bias

 private:
  Tensor hidden(const Tensor& idx, KVCache* cache);
};

/// How generate() picks each next token.
struct SamplingOptions {
  int64_t max_new_tokens = 100;
  double temperature = 1.0;  ///< 0: greedy (argmax)
  int64_t top_k = 0;         ///< keep the k most likely tokens; 0: all
  double top_p = 1.0;        ///< nucleus: the smallest set with probability >= top_p
  uint64_t seed = 0;
  int64_t stop_token = -1;  ///< stop a sequence after this token (e.g. <|endoftext|>); -1: none
};

/// Continues every prompt (all of the same length, 1 <= length <= block_size) by sampling, with a
/// KV cache: each new token costs one forward of one position over the cached context. When the
/// context fills the block, the cache restarts from the last block_size / 2 tokens.
/// on_token(step, tokens) sees each step's new token of every sequence (for streaming).
/// Returns the new tokens of each sequence (shorter when it hit stop_token).
std::vector<std::vector<int64_t>> generate(
    GPT& model, const std::vector<std::vector<int64_t>>& prompts, const SamplingOptions& opts,
    const std::function<void(int64_t, const std::vector<int64_t>&)>& on_token = nullptr);

/// Index of the next token drawn from logits: (V) float32 contiguous, with temperature, top-k
/// and top-p as in opts; u is a uniform draw in [0, 1).
int64_t sample_token(const float* logits, int64_t vocab, const SamplingOptions& opts, double u);

}  // namespace ember::models
