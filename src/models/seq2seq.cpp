// Seq2SeqTransformer: embeddings, torch-style encoder/decoder stacks, and greedy / beam decoding.
#include "ember/models/seq2seq.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>

#include "ember/autograd/grad_mode.h"
#include "ember/nn/init.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/nn_ops.h"

namespace ember::models {

namespace {

void check_config(const Seq2SeqConfig& c) {
  EMBER_CHECK_T(ValueError, c.src_vocab_size >= 1 && c.tgt_vocab_size >= 1,
                "Seq2SeqTransformer: vocabulary sizes must be >= 1, got ", c.src_vocab_size,
                " and ", c.tgt_vocab_size);
  EMBER_CHECK_T(ValueError, c.nhead >= 1 && c.d_model >= 1 && c.d_model % c.nhead == 0,
                "Seq2SeqTransformer: d_model = ", c.d_model,
                " must be a positive multiple of nhead = ", c.nhead);
  EMBER_CHECK_T(ValueError,
                c.num_encoder_layers >= 1 && c.num_decoder_layers >= 1 && c.dim_feedforward >= 1,
                "Seq2SeqTransformer: layer counts and dim_feedforward must be >= 1, got ",
                c.num_encoder_layers, ", ", c.num_decoder_layers, ", ", c.dim_feedforward);
  EMBER_CHECK_T(ValueError, c.dropout >= 0 && c.dropout < 1,
                "Seq2SeqTransformer: dropout = ", c.dropout, " must be in [0, 1)");
  EMBER_CHECK_T(ValueError, c.max_len >= 1, "Seq2SeqTransformer: max_len = ", c.max_len,
                " must be >= 1");
  const int64_t v = std::min(c.src_vocab_size, c.tgt_vocab_size);
  for (int64_t id : {c.pad_id, c.bos_id, c.eos_id})
    EMBER_CHECK_T(ValueError, id >= 0 && id < v, "Seq2SeqTransformer: special token id ", id,
                  " is outside the vocabularies (", c.src_vocab_size, ", ", c.tgt_vocab_size, ")");
}

void check_ids(const Tensor& ids, const char* what, int64_t vocab) {
  EMBER_CHECK_SHAPE(ids.dim() == 2 && ids.size(0) >= 1 && ids.size(1) >= 1,
                    "Seq2SeqTransformer: ", what, " must be (B, L) token ids with B, L >= 1, got ",
                    ids.shape_str());
  EMBER_CHECK_DTYPE(ids.dtype() == kInt64, "Seq2SeqTransformer: ", what, " must be int64, got ",
                    ids.dtype());
  EMBER_CHECK_INDEX(ids.min().item() >= 0 && ids.max().item() < static_cast<double>(vocab),
                    "Seq2SeqTransformer: ", what, " holds ids outside [0, ", vocab, ")");
}

}  // namespace

Seq2SeqTransformer::Seq2SeqTransformer(const Seq2SeqConfig& cfg)
    : Module("Seq2SeqTransformer"), config(cfg) {
  check_config(cfg);
  const int64_t d = cfg.d_model;
  src_embed = register_module("src_embed", std::make_shared<nn::Embedding>(cfg.src_vocab_size, d));
  tgt_embed = register_module("tgt_embed", std::make_shared<nn::Embedding>(cfg.tgt_vocab_size, d));
  pos = register_module("pos", std::make_shared<nn::SinusoidalPositionalEncoding>(d, cfg.max_len));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(cfg.dropout));
  nn::TransformerLayerOptions opt;
  opt.d_model = d;
  opt.nhead = cfg.nhead;
  opt.dim_feedforward = cfg.dim_feedforward;
  opt.dropout = cfg.dropout;
  opt.norm_first = cfg.norm_first;
  encoder = register_module("encoder", std::make_shared<nn::TransformerEncoder>(
                                           opt, cfg.num_encoder_layers, cfg.norm_first));
  decoder = register_module("decoder", std::make_shared<nn::TransformerDecoder>(
                                           opt, cfg.num_decoder_layers, cfg.norm_first));
  out_proj = register_module("out_proj", std::make_shared<nn::Linear>(d, cfg.tgt_vocab_size));

  // As torch.nn.Transformer: xavier_uniform_ on every matrix of the encoder and decoder.
  for (nn::Module* stack : std::initializer_list<nn::Module*>{encoder.get(), decoder.get()})
    for (const auto& [name, p] : stack->named_parameters())
      if (p.dim() > 1) nn::init::xavier_uniform_(p);
  for (auto* e : {src_embed.get(), tgt_embed.get()})
    nn::init::normal_(e->weight, 0.0, 1.0 / std::sqrt(static_cast<double>(d)));
}

Tensor Seq2SeqTransformer::embed(nn::Embedding& table, const Tensor& ids) {
  // ids: (B, L) -> (B, L, d_model)
  EMBER_CHECK_SHAPE(ids.size(1) <= config.max_len, "Seq2SeqTransformer: a sequence of ",
                    ids.size(1), " tokens is longer than max_len = ", config.max_len);
  const Tensor x = table.forward(ids) * std::sqrt(static_cast<double>(config.d_model));
  return dropout->forward(pos->forward(x, 0));
}

Tensor Seq2SeqTransformer::encode(const Tensor& src) {
  check_ids(src, "src", config.src_vocab_size);
  const Tensor src_pad = src == static_cast<double>(config.pad_id);  // (B, S) bool
  return encoder->forward(embed(*src_embed, src), Tensor(), src_pad);
}

Tensor Seq2SeqTransformer::decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src) {
  check_ids(tgt_in, "tgt_in", config.tgt_vocab_size);
  EMBER_CHECK_SHAPE(memory.dim() == 3 && src.dim() == 2 && memory.size(0) == tgt_in.size(0) &&
                        src.size(0) == tgt_in.size(0) && memory.size(1) == src.size(1),
                    "Seq2SeqTransformer::decode: expected tgt_in (B, T), memory (B, S, E) and ",
                    "src (B, S), got ", tgt_in.shape_str(), ", ", memory.shape_str(), " and ",
                    src.shape_str());
  const Tensor src_pad = src == static_cast<double>(config.pad_id);
  const Tensor tgt_pad = tgt_in == static_cast<double>(config.pad_id);
  const Tensor h = decoder->forward(embed(*tgt_embed, tgt_in), memory, Tensor(), Tensor(), tgt_pad,
                                    src_pad, /*tgt_is_causal=*/true);
  return out_proj->forward(h);  // (B, T, V)
}

Tensor Seq2SeqTransformer::forward(const Tensor& src, const Tensor& tgt_in) {
  EMBER_CHECK_SHAPE(src.dim() == 2 && tgt_in.dim() == 2 && src.size(0) == tgt_in.size(0),
                    "Seq2SeqTransformer: expected src (B, S) and tgt_in (B, T) with the same B, ",
                    "got ", src.shape_str(), " and ", tgt_in.shape_str());
  return decode(tgt_in, encode(src), src);
}

std::string Seq2SeqTransformer::extra_repr() const {
  const Seq2SeqConfig& c = config;
  return "src_vocab_size=" + std::to_string(c.src_vocab_size) +
         ", tgt_vocab_size=" + std::to_string(c.tgt_vocab_size) +
         ", d_model=" + std::to_string(c.d_model) + ", nhead=" + std::to_string(c.nhead) +
         ", layers=" + std::to_string(c.num_encoder_layers) + "+" +
         std::to_string(c.num_decoder_layers) + (c.norm_first ? ", pre-norm" : ", post-norm");
}

// ---- decoding ----

namespace {

// Puts the model in eval mode and turns off gradients for the lifetime of the guard.
class InferenceScope {
 public:
  explicit InferenceScope(nn::Module& m) : module_(m), was_training_(m.is_training()) { m.eval(); }
  ~InferenceScope() { module_.train(was_training_); }
  InferenceScope(const InferenceScope&) = delete;
  InferenceScope& operator=(const InferenceScope&) = delete;

 private:
  NoGradGuard no_grad_;
  nn::Module& module_;
  bool was_training_;
};

// Log-probabilities of the next token after each prefix: rows of prefixes (each [bos, tokens...],
// all of the same length) decoding the sources rows[i] of memory/src -> (R, V) float32.
std::vector<float> next_log_probs(Seq2SeqTransformer& model, const Tensor& memory,
                                  const Tensor& src, const std::vector<int64_t>& rows,
                                  const std::vector<std::vector<int64_t>>& prefixes) {
  const auto R = static_cast<int64_t>(rows.size());
  const auto T = static_cast<int64_t>(prefixes[0].size());
  std::vector<int64_t> flat;
  flat.reserve(static_cast<size_t>(R * T));
  for (const auto& p : prefixes) flat.insert(flat.end(), p.begin(), p.end());
  const Tensor idx = from_vector(rows);
  const Tensor logits = model.decode(from_vector(flat).view({R, T}), index_select(memory, 0, idx),
                                     index_select(src, 0, idx));  // (R, T, V)
  return log_softmax(logits.select(1, T - 1), -1).to(kFloat32).contiguous().to_vector<float>();
}

void check_decode_args(Seq2SeqTransformer& model, const Tensor& src, int64_t max_len) {
  EMBER_CHECK_SHAPE(src.dim() == 2 && src.size(0) >= 1,
                    "seq2seq decoding: expected src (B, S) with B >= 1, got ", src.shape_str());
  EMBER_CHECK(max_len >= 1 && max_len + 1 <= model.config.max_len,
              "seq2seq decoding: max_len = ", max_len, " must be in [1, ", model.config.max_len - 1,
              "] (the model's max_len minus the <bos>)");
}

}  // namespace

std::vector<std::vector<int64_t>> greedy_decode(Seq2SeqTransformer& model, const Tensor& src,
                                                int64_t max_len) {
  check_decode_args(model, src, max_len);
  InferenceScope scope(model);
  const Seq2SeqConfig& c = model.config;
  const int64_t B = src.size(0), V = c.tgt_vocab_size;
  const Tensor memory = model.encode(src);
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(B));
  std::vector<int64_t> live;  // sources still decoding
  for (int64_t b = 0; b < B; ++b) live.push_back(b);
  for (int64_t t = 0; t < max_len && !live.empty(); ++t) {
    std::vector<std::vector<int64_t>> prefixes;
    for (int64_t b : live) {
      prefixes.push_back({c.bos_id});
      const auto& o = out[static_cast<size_t>(b)];
      prefixes.back().insert(prefixes.back().end(), o.begin(), o.end());
    }
    const std::vector<float> lp = next_log_probs(model, memory, src, live, prefixes);
    std::vector<int64_t> still;
    for (size_t r = 0; r < live.size(); ++r) {
      const float* row = lp.data() + static_cast<int64_t>(r) * V;
      int64_t best = -1;
      for (int64_t v = 0; v < V; ++v)
        if (v != c.pad_id && v != c.bos_id && (best < 0 || row[v] > row[best])) best = v;
      if (best == c.eos_id) continue;
      out[static_cast<size_t>(live[r])].push_back(best);
      still.push_back(live[r]);
    }
    live = std::move(still);
  }
  return out;
}

std::vector<BeamHypothesis> beam_search(Seq2SeqTransformer& model, const Tensor& src,
                                        int64_t beam_size, int64_t max_len, double length_penalty) {
  check_decode_args(model, src, max_len);
  EMBER_CHECK(beam_size >= 1, "beam_search: beam_size = ", beam_size, " must be >= 1");
  InferenceScope scope(model);
  const Seq2SeqConfig& c = model.config;
  const int64_t B = src.size(0), V = c.tgt_vocab_size;
  const auto K = static_cast<size_t>(beam_size);
  const Tensor memory = model.encode(src);
  auto score_of = [&](double log_prob, int64_t length) {
    return log_prob / std::pow(static_cast<double>(length), length_penalty);
  };

  struct Beam {
    std::vector<int64_t> tokens;
    double log_prob = 0;
  };
  struct Candidate {
    double log_prob;
    size_t beam;
    int64_t token;
  };
  std::vector<std::vector<Beam>> live(static_cast<size_t>(B), std::vector<Beam>(1));
  std::vector<std::vector<BeamHypothesis>> finished(static_cast<size_t>(B));
  for (int64_t t = 0; t < max_len; ++t) {
    std::vector<int64_t> rows;
    std::vector<std::vector<int64_t>> prefixes;
    for (int64_t b = 0; b < B; ++b)
      for (const Beam& beam : live[static_cast<size_t>(b)]) {
        rows.push_back(b);
        prefixes.push_back({c.bos_id});
        prefixes.back().insert(prefixes.back().end(), beam.tokens.begin(), beam.tokens.end());
      }
    if (rows.empty()) break;
    const std::vector<float> lp = next_log_probs(model, memory, src, rows, prefixes);
    size_t row = 0;
    for (int64_t b = 0; b < B; ++b) {
      std::vector<Beam>& beams = live[static_cast<size_t>(b)];
      std::vector<BeamHypothesis>& done = finished[static_cast<size_t>(b)];
      if (beams.empty()) continue;
      std::vector<Candidate> cand;
      for (size_t i = 0; i < beams.size(); ++i, ++row) {
        const float* r = lp.data() + static_cast<int64_t>(row) * V;
        for (int64_t v = 0; v < V; ++v)
          if (v != c.pad_id && v != c.bos_id) cand.push_back({beams[i].log_prob + r[v], i, v});
      }
      std::stable_sort(cand.begin(), cand.end(), [](const Candidate& x, const Candidate& y) {
        return x.log_prob > y.log_prob;
      });
      std::vector<Beam> next;
      for (size_t rank = 0; rank < cand.size() && (next.size() < K || rank < K); ++rank) {
        const Candidate& x = cand[rank];
        const std::vector<int64_t>& prefix = beams[x.beam].tokens;
        if (x.token == c.eos_id) {
          // Only an <eos> among the beam_size best extensions finishes (beam 1 = greedy).
          if (rank < K)
            done.push_back({prefix, x.log_prob,
                            score_of(x.log_prob, static_cast<int64_t>(prefix.size()) + 1)});
        } else if (next.size() < K) {
          Beam nb{prefix, x.log_prob};
          nb.tokens.push_back(x.token);
          next.push_back(std::move(nb));
        }
      }
      if (t + 1 == max_len) {  // out of room: the live beams finish without <eos>
        for (Beam& nb : next)
          done.push_back({nb.tokens, nb.log_prob,
                          score_of(nb.log_prob, static_cast<int64_t>(nb.tokens.size()))});
        next.clear();
      }
      // Stop this source once no live beam can beat its best finished hypothesis.
      if (!done.empty()) {
        double best = -std::numeric_limits<double>::infinity();
        for (const auto& h : done) best = std::max(best, h.score);
        const bool hopeless = std::all_of(next.begin(), next.end(), [&](const Beam& nb) {
          const auto shortest = static_cast<int64_t>(nb.tokens.size()) + 1;
          return std::max(score_of(nb.log_prob, shortest), score_of(nb.log_prob, max_len)) <= best;
        });
        if (hopeless) next.clear();
      }
      beams = std::move(next);
    }
  }
  std::vector<BeamHypothesis> out;
  for (auto& done : finished) {
    EMBER_ASSERT(!done.empty());
    out.push_back(*std::max_element(
        done.begin(), done.end(),
        [](const BeamHypothesis& x, const BeamHypothesis& y) { return x.score < y.score; }));
  }
  return out;
}

}  // namespace ember::models
