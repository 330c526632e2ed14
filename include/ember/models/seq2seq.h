// Seq2SeqTransformer: an encoder-decoder Transformer (torch.nn.Transformer with embeddings and an
// output projection) for translation, with greedy and beam-search decoding.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ember/nn/layers.h"
#include "ember/nn/positional.h"
#include "ember/nn/transformer.h"

namespace ember::models {

/// The architecture and the special tokens of a Seq2SeqTransformer.
struct Seq2SeqConfig {
  int64_t src_vocab_size = 64;
  int64_t tgt_vocab_size = 64;
  int64_t d_model = 128;
  int64_t nhead = 4;
  int64_t num_encoder_layers = 2;
  int64_t num_decoder_layers = 2;
  int64_t dim_feedforward = 512;
  double dropout = 0.1;
  int64_t max_len = 64;    ///< longest source or target (sinusoidal positions)
  bool norm_first = true;  ///< pre-norm layers (with final LayerNorms) when true, else post-norm
  int64_t pad_id = 0;      ///< padding in sources and targets (masked out)
  int64_t bos_id = 1;      ///< first decoder input
  int64_t eos_id = 2;      ///< ends a target
  bool operator==(const Seq2SeqConfig&) const = default;
};

/// Token embeddings * sqrt(d_model) + sinusoidal positions, nn::TransformerEncoder and
/// nn::TransformerDecoder (batch first, torch semantics), and a Linear to target logits.
/// Children: src_embed, tgt_embed, pos, encoder, decoder, out_proj. Embeddings are initialised
/// N(0, 1 / d_model), so that the scaled embeddings have unit variance.
/// Masks: source and target key padding masks (token == pad_id) and the causal target mask.
class Seq2SeqTransformer : public nn::Module {
 public:
  explicit Seq2SeqTransformer(const Seq2SeqConfig& cfg);
  using Module::forward;

  /// src: (B, S) int64, tgt_in: (B, T) int64 -> logits (B, T, tgt_vocab_size).
  Tensor forward(const Tensor& src, const Tensor& tgt_in);
  /// src: (B, S) int64 -> memory (B, S, d_model).
  Tensor encode(const Tensor& src);
  /// tgt_in: (B, T) int64, memory: (B, S, d_model), src (B, S) for its padding mask
  /// -> logits (B, T, tgt_vocab_size).
  Tensor decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src);
  std::string extra_repr() const override;

  Seq2SeqConfig config;
  std::shared_ptr<nn::Embedding> src_embed, tgt_embed;
  std::shared_ptr<nn::SinusoidalPositionalEncoding> pos;
  std::shared_ptr<nn::Dropout> dropout;
  std::shared_ptr<nn::TransformerEncoder> encoder;
  std::shared_ptr<nn::TransformerDecoder> decoder;
  std::shared_ptr<nn::Linear> out_proj;

 private:
  Tensor embed(nn::Embedding& table, const Tensor& ids);
};

/// Greedy decoding of every source at once: the encoder runs once, then the decoder re-runs over
/// the prefix for each new token (argmax of the last position). src: (B, S) int64.
/// Returns each sequence's tokens without <bos> and without <eos>; a sequence stops at <eos> or
/// after max_len tokens. <pad> and <bos> are never produced.
std::vector<std::vector<int64_t>> greedy_decode(Seq2SeqTransformer& model, const Tensor& src,
                                                int64_t max_len);

/// One finished hypothesis of beam_search.
struct BeamHypothesis {
  std::vector<int64_t> tokens;  ///< without <bos> and <eos>
  double log_prob = 0;          ///< summed log-probabilities, <eos> included when it ended there
  double score = 0;             ///< log_prob / length^length_penalty (length counts <eos>)
};

/// Beam search of every source at once (the encoder runs once, each step decodes all live beams
/// of all sources as one batch). Each step extends every live beam by every token but <pad> and
/// <bos> and keeps the beam_size best non-finished extensions (extensions ending in <eos> become
/// finished hypotheses); a beam that reaches max_len tokens finishes as it is. A source stops
/// once no live beam can beat its best finished score (exact bound: log-probabilities only
/// decrease). Returns the best-scoring hypothesis per source. beam_size 1 with
/// length_penalty 0 gives greedy_decode's sequences.
std::vector<BeamHypothesis> beam_search(Seq2SeqTransformer& model, const Tensor& src,
                                        int64_t beam_size, int64_t max_len,
                                        double length_penalty = 1.0);

}  // namespace ember::models
