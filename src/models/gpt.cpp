// GPT-2: causal self-attention blocks, the language-model head, and KV-cached generation.
#include "ember/models/gpt.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ember/autograd/functional.h"
#include "ember/autograd/grad_mode.h"
#include "ember/core/generator.h"
#include "ember/nn/init.h"
#include "ember/ops/attention.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/shape.h"

namespace ember::models {

namespace {

void check_config(const GPTConfig& c) {
  EMBER_CHECK_T(ValueError, c.vocab_size >= 1 && c.block_size >= 1 && c.n_layer >= 1,
                "GPT: vocab_size, block_size and n_layer must be >= 1, got ", c.vocab_size, ", ",
                c.block_size, ", ", c.n_layer);
  EMBER_CHECK_T(ValueError, c.n_head >= 1 && c.n_embd >= 1 && c.n_embd % c.n_head == 0,
                "GPT: n_embd = ", c.n_embd, " must be a positive multiple of n_head = ", c.n_head);
  EMBER_CHECK_T(ValueError, c.dropout >= 0 && c.dropout < 1, "GPT: dropout = ", c.dropout,
                " must be in [0, 1)");
}

}  // namespace

// ---- attention ----

CausalSelfAttention::CausalSelfAttention(const GPTConfig& cfg)
    : Module("CausalSelfAttention"), n_head(cfg.n_head), n_embd(cfg.n_embd), dropout(cfg.dropout) {
  c_attn = register_module("c_attn", std::make_shared<nn::Linear>(n_embd, 3 * n_embd, cfg.bias));
  c_proj = register_module("c_proj", std::make_shared<nn::Linear>(n_embd, n_embd, cfg.bias));
  resid_dropout = register_module("resid_dropout", std::make_shared<nn::Dropout>(cfg.dropout));
}

Tensor CausalSelfAttention::forward(const Tensor& x) {
  return forward(x, nullptr, 0);
}

Tensor CausalSelfAttention::forward(const Tensor& x, KVCache* cache, int64_t layer) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2), D = C / n_head;
  // q, k, v: (B, T, C) each -> (B, H, T, D)
  std::vector<Tensor> qkv = split(c_attn->forward(x), n_embd, 2);
  auto heads = [&](const Tensor& t) { return t.view({B, T, n_head, D}).transpose(1, 2); };
  Tensor q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
  const double p = is_training() ? dropout : 0.0;
  Tensor y;
  if (cache == nullptr) {
    y = scaled_dot_product_attention(q, k, v, Tensor(), p, /*is_causal=*/true);
  } else {
    // Append this step's keys and values; attend over every cached position.
    const int64_t past = cache->length, total = past + T;
    Tensor& kc = cache->k[static_cast<size_t>(layer)];
    Tensor& vc = cache->v[static_cast<size_t>(layer)];
    kc.narrow(2, past, T).copy_(k);
    vc.narrow(2, past, T).copy_(v);
    k = kc.narrow(2, 0, total);
    v = vc.narrow(2, 0, total);
    Tensor mask;  // query i (position past + i) sees keys j <= past + i
    if (T > 1) mask = tril(ones({T, total}, kBool), past);
    y = scaled_dot_product_attention(q, k, v, mask, 0.0, /*is_causal=*/false);
  }
  // y: (B, H, T, D) -> (B, T, C)
  y = y.transpose(1, 2).reshape({B, T, C});
  return resid_dropout->forward(c_proj->forward(y));
}

// ---- MLP and block ----

GPTMLP::GPTMLP(const GPTConfig& cfg) : Module("GPTMLP") {
  c_fc =
      register_module("c_fc", std::make_shared<nn::Linear>(cfg.n_embd, 4 * cfg.n_embd, cfg.bias));
  c_proj =
      register_module("c_proj", std::make_shared<nn::Linear>(4 * cfg.n_embd, cfg.n_embd, cfg.bias));
  dropout = register_module("dropout", std::make_shared<nn::Dropout>(cfg.dropout));
}

Tensor GPTMLP::forward(const Tensor& x) {
  return dropout->forward(c_proj->forward(gelu(c_fc->forward(x), "tanh")));
}

GPTBlock::GPTBlock(const GPTConfig& cfg) : Module("GPTBlock") {
  const bool b = cfg.bias;
  ln_1 = register_module(
      "ln_1", std::make_shared<nn::LayerNorm>(Shape{cfg.n_embd}, cfg.layer_norm_eps, true, b));
  attn = register_module("attn", std::make_shared<CausalSelfAttention>(cfg));
  ln_2 = register_module(
      "ln_2", std::make_shared<nn::LayerNorm>(Shape{cfg.n_embd}, cfg.layer_norm_eps, true, b));
  mlp = register_module("mlp", std::make_shared<GPTMLP>(cfg));
}

Tensor GPTBlock::forward(const Tensor& x) {
  return forward(x, nullptr, 0);
}

Tensor GPTBlock::forward(const Tensor& x, KVCache* cache, int64_t layer) {
  const Tensor h = x + attn->forward(ln_1->forward(x), cache, layer);
  return h + mlp->forward(ln_2->forward(h));
}

// ---- the model ----

namespace {

// The "transformer" child of GPT2LMHeadModel: holds wte, wpe, drop, h, ln_f under those names.
class GPTBody : public nn::Module {
 public:
  GPTBody() : Module("GPT2Model") {}
};

}  // namespace

GPT::GPT(const GPTConfig& cfg) : Module("GPT"), config(cfg) {
  check_config(cfg);
  auto body = register_module("transformer", std::make_shared<GPTBody>());
  wte = body->register_module("wte", std::make_shared<nn::Embedding>(cfg.vocab_size, cfg.n_embd));
  wpe = body->register_module("wpe", std::make_shared<nn::Embedding>(cfg.block_size, cfg.n_embd));
  drop = body->register_module("drop", std::make_shared<nn::Dropout>(cfg.dropout));
  h = body->register_module("h", std::make_shared<nn::ModuleList>());
  for (int64_t i = 0; i < cfg.n_layer; ++i) h->push_back(std::make_shared<GPTBlock>(cfg));
  ln_f = body->register_module("ln_f", std::make_shared<nn::LayerNorm>(
                                           Shape{cfg.n_embd}, cfg.layer_norm_eps, true, cfg.bias));
  lm_head =
      register_module("lm_head", std::make_shared<nn::Linear>(cfg.n_embd, cfg.vocab_size, false));

  // GPT-2's initialisation.
  const double resid_std = 0.02 / std::sqrt(2.0 * static_cast<double>(cfg.n_layer));
  for (const auto& [name, p] : named_parameters()) {
    if (p.dim() == 1) {
      if (name.ends_with(".bias")) nn::init::zeros_(p);
      continue;  // LayerNorm weights stay 1
    }
    nn::init::normal_(p, 0.0, name.ends_with("c_proj.weight") ? resid_std : 0.02);
  }
  if (cfg.tie_weights) {
    lm_head->weight = lm_head->replace_parameter("weight", wte->weight);
  }
}

Tensor GPT::hidden(const Tensor& idx, KVCache* cache) {
  EMBER_CHECK_SHAPE(idx.dim() == 2, "GPT: expected token ids of shape (B, T), got ",
                    idx.shape_str());
  EMBER_CHECK_DTYPE(idx.dtype() == kInt64, "GPT: token ids must be int64, got ", idx.dtype());
  const int64_t T = idx.size(1), past = cache ? cache->length : 0;
  EMBER_CHECK_SHAPE(T >= 1 && past + T <= config.block_size, "GPT: ", past + T,
                    " positions do not fit the context of block_size = ", config.block_size);
  const Tensor pos = arange(static_cast<double>(past), static_cast<double>(past + T));
  Tensor x = drop->forward(wte->forward(idx) + wpe->forward(pos));  // (B, T, C)
  for (int64_t l = 0; l < config.n_layer; ++l) {
    auto block = h->at<GPTBlock>(l);
    if (gradient_checkpointing && cache == nullptr)
      x = autograd::checkpoint([block](const Tensor& t) { return block->forward(t, nullptr, 0); },
                               x);
    else
      x = block->forward(x, cache, l);
  }
  if (cache) cache->length += T;
  return ln_f->forward(x);
}

Tensor GPT::forward(const Tensor& idx) {
  return lm_head->forward(hidden(idx, nullptr));
}

Tensor GPT::forward_next(const Tensor& idx, KVCache& cache) {
  const Tensor x = hidden(idx, &cache);  // (B, T, C)
  return lm_head->forward(x.select(1, x.size(1) - 1));
}

KVCache GPT::make_cache(int64_t batch) const {
  KVCache c;
  c.capacity = config.block_size;
  const int64_t D = config.n_embd / config.n_head;
  for (int64_t l = 0; l < config.n_layer; ++l) {
    c.k.push_back(zeros({batch, config.n_head, config.block_size, D}, wte->weight.dtype()));
    c.v.push_back(zeros({batch, config.n_head, config.block_size, D}, wte->weight.dtype()));
  }
  return c;
}

std::string GPT::extra_repr() const {
  return "vocab_size=" + std::to_string(config.vocab_size) +
         ", block_size=" + std::to_string(config.block_size) +
         ", n_layer=" + std::to_string(config.n_layer) +
         ", n_head=" + std::to_string(config.n_head) + ", n_embd=" + std::to_string(config.n_embd);
}

// ---- sampling ----

int64_t sample_token(const float* logits, int64_t vocab, const SamplingOptions& opts, double u) {
  if (opts.temperature <= 0) return std::max_element(logits, logits + vocab) - logits;
  // Candidates by descending logit, cut to top_k.
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  const int64_t k = opts.top_k > 0 ? std::min(opts.top_k, vocab) : vocab;
  auto by_logit = [&](int64_t a, int64_t b) { return logits[a] > logits[b]; };
  std::partial_sort(order.begin(), order.begin() + k, order.end(), by_logit);
  order.resize(static_cast<size_t>(k));
  // Softmax at the temperature over the candidates.
  std::vector<double> prob(order.size());
  const double top = logits[order[0]];
  double total = 0;
  for (size_t i = 0; i < order.size(); ++i)
    total += prob[i] = std::exp((logits[order[i]] - top) / opts.temperature);
  // Nucleus: the smallest prefix whose mass reaches top_p.
  size_t keep = order.size();
  if (opts.top_p < 1.0) {
    double mass = 0;
    for (size_t i = 0; i < order.size(); ++i) {
      mass += prob[i] / total;
      if (mass >= opts.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept = 0;
  for (size_t i = 0; i < keep; ++i) kept += prob[i];
  double target = u * kept;
  for (size_t i = 0; i < keep; ++i) {
    target -= prob[i];
    if (target < 0) return order[i];
  }
  return order[keep - 1];
}

std::vector<std::vector<int64_t>> generate(
    GPT& model, const std::vector<std::vector<int64_t>>& prompts, const SamplingOptions& opts,
    const std::function<void(int64_t, const std::vector<int64_t>&)>& on_token) {
  EMBER_CHECK_T(ValueError, !prompts.empty(), "generate: no prompt given");
  const int64_t B = static_cast<int64_t>(prompts.size());
  const int64_t P = static_cast<int64_t>(prompts[0].size()), block = model.config.block_size;
  for (const auto& p : prompts)
    EMBER_CHECK_T(ValueError, static_cast<int64_t>(p.size()) == P, "generate: the prompts of a ",
                  "batch must have the same length in tokens, got ", P, " and ", p.size());
  EMBER_CHECK_T(ValueError, P >= 1, "generate: the prompt is empty (give at least one token)");
  EMBER_CHECK_T(ValueError, P <= block, "generate: the prompt has ", P,
                " tokens, longer than the model's context of block_size = ", block, " tokens");
  for (const auto& p : prompts)
    for (int64_t t : p)
      EMBER_CHECK_T(IndexError, t >= 0 && t < model.config.vocab_size, "generate: token id ", t,
                    " is outside the vocabulary of ", model.config.vocab_size);

  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  Generator gen(opts.seed);
  std::vector<std::vector<int64_t>> seqs = prompts, out(static_cast<size_t>(B));
  std::vector<bool> stopped(static_cast<size_t>(B), false);
  KVCache cache = model.make_cache(B);
  // The tokens to feed next: the whole prompt first, then one token per step.
  auto window = [&](int64_t from) {
    std::vector<int64_t> ids;
    for (const auto& s : seqs) ids.insert(ids.end(), s.begin() + from, s.end());
    const int64_t T = static_cast<int64_t>(seqs[0].size()) - from;
    return from_vector(ids).view({B, T});
  };
  Tensor feed = window(0);
  for (int64_t step = 0; step < opts.max_new_tokens; ++step) {
    if (cache.length + feed.size(1) > block) {  // context full: restart from the last half block
      cache.length = 0;
      feed = window(static_cast<int64_t>(seqs[0].size()) - std::max<int64_t>(1, block / 2));
    }
    const Tensor logits = model.forward_next(feed, cache).to(kFloat32).contiguous();  // (B, V)
    const float* lp = logits.data_ptr<float>();
    std::vector<int64_t> next(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) {
      const int64_t V = model.config.vocab_size;
      next[static_cast<size_t>(b)] = sample_token(lp + b * V, V, opts, gen.next_double());
      seqs[static_cast<size_t>(b)].push_back(next[static_cast<size_t>(b)]);
      if (!stopped[static_cast<size_t>(b)])
        out[static_cast<size_t>(b)].push_back(next[static_cast<size_t>(b)]);
      if (next[static_cast<size_t>(b)] == opts.stop_token) stopped[static_cast<size_t>(b)] = true;
    }
    if (on_token) on_token(step, next);
    if (std::all_of(stopped.begin(), stopped.end(), [](bool s) { return s; })) break;
    feed = from_vector(next).view({B, 1});
  }
  if (was_training) model.train();
  return out;
}

}  // namespace ember::models
