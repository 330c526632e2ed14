// GPT benchmark: training steps of the austen_char model and KV-cached greedy generation
// (austen-shaped and GPT-2-small-shaped), Ember (models::GPT) and libtorch (a GPT written here
// with torch::nn) interleaved in one process; peak RSS of each framework in a child process.
// Usage: gpt_bench [all | train [ember|libtorch] | gen austen|gpt2 [ember|libtorch|libtorch-mv] |
// rss ember|libtorch train|gen] Prints tab-separated rows: "TRAIN<TAB>impl<TAB>median
// s/step<TAB>min<TAB>max<TAB>tokens/s", "GEN<TAB>model<TAB>impl<TAB>median
// s<TAB>min<TAB>max<TAB>tokens/s" and "RSS<TAB>task<TAB>impl<TAB>baseline MB<TAB>model built
// MB<TAB>peak MB".
#include <ATen/autocast_mode.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "ember/models/gpt.h"
#include "interleaved.h"

namespace {

// ---- the shapes ----

struct ModelShape {
  int64_t vocab, block, n_layer, n_head, n_embd;
};
constexpr ModelShape kAusten{81, 128, 4, 4, 256};
constexpr ModelShape kGpt2{50257, 1024, 12, 12, 768};
constexpr int64_t kBatch = 32;       // training batch (sequences of kAusten.block tokens)
constexpr int64_t kPrompt = 16;      // generation prompt length
constexpr int64_t kNewTokens = 128;  // generated tokens (greedy)

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Stats {
  double median, min, max;
};
Stats stats_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// ---- the libtorch GPT (nanoGPT's, tanh GELU, tied lm_head) ----

// Note [libtorch single-row matmul]: libtorch 1.13's linear / mm with one input row runs a GEMM
// that reaches about half of torch::mv's memory bandwidth (measured here: (1, 768) x (50257, 768)^T
// 24 ms against 11 ms for mv), which dominates batch-1 generation. `use_mv` routes single rows
// through addmv, the fastest libtorch formulation we found; gpt_bench reports both.
bool g_use_mv = false;

// y = x W^T + b for x: (..., in), W: (out, in); b may be undefined.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  if (!g_use_mv || x.numel() != x.size(-1)) return torch::nn::functional::linear(x, w, b);
  std::vector<int64_t> shape = x.sizes().vec();
  shape.back() = w.size(0);
  const torch::Tensor row = x.reshape({-1});
  return (b.defined() ? torch::addmv(b, w, row) : torch::mv(w, row)).view(shape);
}
torch::Tensor linear(torch::nn::Linear& l, const torch::Tensor& x) {
  return linear(x, l->weight, l->bias);
}

struct TorchBlock : torch::nn::Module {
  TorchBlock(int64_t C, int64_t H)
      : n_head(H),
        ln_1(register_module("ln_1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({C})))),
        c_attn(register_module("c_attn", torch::nn::Linear(C, 3 * C))),
        attn_proj(register_module("attn_proj", torch::nn::Linear(C, C))),
        ln_2(register_module("ln_2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({C})))),
        c_fc(register_module("c_fc", torch::nn::Linear(C, 4 * C))),
        mlp_proj(register_module("mlp_proj", torch::nn::Linear(4 * C, C))) {}

  // x: (B, T, C) holding positions [past, past + T); k_cache, v_cache: (B, H, past, D) or
  // undefined (no cache; training). The new keys and values are concatenated onto the cache.
  torch::Tensor forward(const torch::Tensor& x, torch::Tensor* k_cache = nullptr,
                        torch::Tensor* v_cache = nullptr) {
    const int64_t B = x.size(0), T = x.size(1), C = x.size(2), D = C / n_head;
    std::vector<torch::Tensor> qkv = linear(c_attn, ln_1->forward(x)).split(C, 2);
    auto heads = [&](const torch::Tensor& t) { return t.view({B, T, n_head, D}).transpose(1, 2); };
    torch::Tensor q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
    if (k_cache != nullptr) {
      if (k_cache->defined()) {
        k = torch::cat({*k_cache, k}, 2);
        v = torch::cat({*v_cache, v}, 2);
      }
      *k_cache = k;
      *v_cache = v;
    }
    const int64_t S = k.size(2), past = S - T;
    torch::Tensor att = q.matmul(k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(D)));
    if (T > 1) {  // query i (position past + i) sees keys j <= past + i
      const torch::Tensor masked = torch::ones({T, S}, torch::kBool).tril(past).logical_not();
      att = att.masked_fill(masked, -std::numeric_limits<float>::infinity());
    }
    const torch::Tensor y = att.softmax(-1).matmul(v).transpose(1, 2).reshape({B, T, C});
    const torch::Tensor h = x + linear(attn_proj, y);
    return h + linear(mlp_proj, torch::gelu(linear(c_fc, ln_2->forward(h)), "tanh"));
  }

  int64_t n_head;
  torch::nn::LayerNorm ln_1;
  torch::nn::Linear c_attn, attn_proj;
  torch::nn::LayerNorm ln_2;
  torch::nn::Linear c_fc, mlp_proj;
};

struct TorchGPT : torch::nn::Module {
  explicit TorchGPT(const ModelShape& s)
      : wte(register_module("wte", torch::nn::Embedding(s.vocab, s.n_embd))),
        wpe(register_module("wpe", torch::nn::Embedding(s.block, s.n_embd))),
        ln_f(register_module("ln_f",
                             torch::nn::LayerNorm(torch::nn::LayerNormOptions({s.n_embd})))) {
    for (int64_t l = 0; l < s.n_layer; ++l)
      blocks.push_back(register_module("h" + std::to_string(l),
                                       std::make_shared<TorchBlock>(s.n_embd, s.n_head)));
    torch::NoGradGuard ng;  // GPT-2 init, as models::GPT
    const double resid_std = 0.02 / std::sqrt(2.0 * static_cast<double>(s.n_layer));
    for (auto& p : named_parameters()) {
      if (p.value().dim() == 1) {
        if (p.key().ends_with(".bias")) p.value().zero_();
      } else {
        p.value().normal_(0.0, p.key().ends_with("proj.weight") ? resid_std : 0.02);
      }
    }
  }

  // idx: (B, T) -> logits (B, T, V); with caches, positions start at the cached length and
  // only the last position's logits are returned: (B, V).
  torch::Tensor forward(const torch::Tensor& idx, std::vector<torch::Tensor>* k = nullptr,
                        std::vector<torch::Tensor>* v = nullptr) {
    const int64_t past = (k != nullptr && (*k)[0].defined()) ? (*k)[0].size(2) : 0;
    torch::Tensor x = wte->forward(idx) + wpe->forward(torch::arange(past, past + idx.size(1)));
    for (size_t l = 0; l < blocks.size(); ++l)
      x = blocks[l]->forward(x, k ? &(*k)[l] : nullptr, v ? &(*v)[l] : nullptr);
    x = ln_f->forward(x);
    if (k != nullptr) x = x.select(1, x.size(1) - 1);
    return linear(x, wte->weight, torch::Tensor());  // tied lm_head
  }

  torch::nn::Embedding wte, wpe;
  std::vector<std::shared_ptr<TorchBlock>> blocks;
  torch::nn::LayerNorm ln_f;
};

ember::models::GPTConfig ember_config(const ModelShape& s) {
  ember::models::GPTConfig c;
  c.vocab_size = s.vocab;
  c.block_size = s.block;
  c.n_layer = s.n_layer;
  c.n_head = s.n_head;
  c.n_embd = s.n_embd;
  c.dropout = 0.0;
  return c;
}

// ---- training ----

// Random token batches, the same for both frameworks: x, y: (kBatch, block).
struct Batches {
  std::vector<ember::Tensor> ex, ey;
  std::vector<torch::Tensor> tx, ty;
};
Batches make_batches(int n) {
  Batches b;
  ember::Generator gen(1234);
  for (int i = 0; i < n; ++i) {
    b.ex.push_back(ember::randint(0, kAusten.vocab, {kBatch, kAusten.block}, ember::kInt64, &gen));
    b.ey.push_back(ember::randint(0, kAusten.vocab, {kBatch, kAusten.block}, ember::kInt64, &gen));
    b.tx.push_back(bench::to_torch(b.ex.back()));
    b.ty.push_back(bench::to_torch(b.ey.back()));
  }
  return b;
}

struct EmberTrainer {
  std::shared_ptr<ember::models::GPT> model;
  std::unique_ptr<ember::optim::AdamW> opt;
  EmberTrainer() {
    ember::manual_seed(0);
    model = std::make_shared<ember::models::GPT>(ember_config(kAusten));
    opt = std::make_unique<ember::optim::AdamW>(
        model->parameters(),
        ember::optim::AdamWOptions{.lr = 1e-3, .betas = {0.9, 0.99}, .weight_decay = 0.1});
  }
  double step(const ember::Tensor& x, const ember::Tensor& y) {
    const auto t0 = std::chrono::steady_clock::now();
    ember::Tensor logits = model->forward(x);  // (B, T, V)
    ember::Tensor loss =
        ember::nn::functional::cross_entropy(logits.view({-1, kAusten.vocab}), y.view({-1}));
    opt->zero_grad();
    loss.backward();
    opt->step();
    return seconds_since(t0);
  }
};

struct TorchTrainer {
  std::shared_ptr<TorchGPT> model;
  std::unique_ptr<torch::optim::AdamW> opt;
  TorchTrainer() {
    torch::manual_seed(0);
    model = std::make_shared<TorchGPT>(kAusten);
    opt = std::make_unique<torch::optim::AdamW>(
        model->parameters(), torch::optim::AdamWOptions(1e-3).betas({0.9, 0.99}).weight_decay(0.1));
  }
  bool bf16 = false;  // forward and loss under CPU autocast to bfloat16, as torch.autocast("cpu")
  double step(const torch::Tensor& x, const torch::Tensor& y) {
    const auto t0 = std::chrono::steady_clock::now();
    at::autocast::set_cpu_enabled(bf16);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    torch::Tensor logits = model->forward(x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(
        logits.view({-1, kAusten.vocab}).to(torch::kFloat32), y.view({-1}));
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
    opt->zero_grad();
    loss.backward();
    opt->step();
    return seconds_since(t0);
  }
};

void print_train(const char* impl, const std::vector<double>& times) {
  const Stats s = stats_of(times);
  std::printf("TRAIN\t%s\t%.4f\t%.4f\t%.4f\t%.0f\n", impl, s.median, s.min, s.max,
              static_cast<double>(kBatch * kAusten.block) / s.median);
  std::fflush(stdout);
}

// Alternating blocks of `per_block` steps, after `warmup` steps of each (not counted). bf16:
// Ember at set_float32_matmul_precision("medium"), libtorch under bfloat16 autocast. only:
// "ember" or "libtorch" times one framework alone (for profiling); empty: both.
void bench_train(const std::string& only = "", bool bf16 = false, int warmup = 1, int blocks = 4,
                 int per_block = 2) {
  if (!only.empty() && only != "ember" && only != "libtorch")
    throw std::invalid_argument("unknown implementation " + only);
  const Batches b = make_batches(4);
  const bool run_e = only != "libtorch", run_t = only != "ember";
  EmberTrainer e;
  TorchTrainer t;
  t.bf16 = bf16;
  ember::set_float32_matmul_precision(bf16 ? "medium" : "highest");
  size_t i = 0;
  for (int w = 0; w < warmup; ++w, ++i) {
    if (run_e) e.step(b.ex[i % 4], b.ey[i % 4]);
    if (run_t) t.step(b.tx[i % 4], b.ty[i % 4]);
  }
  std::vector<double> te, tt;
  for (int r = 0; r < blocks; ++r) {
    for (int s = 0; s < per_block && run_e; ++s, ++i)
      te.push_back(e.step(b.ex[i % 4], b.ey[i % 4]));
    for (int s = 0; s < per_block && run_t; ++s, ++i)
      tt.push_back(t.step(b.tx[i % 4], b.ty[i % 4]));
  }
  ember::set_float32_matmul_precision("highest");
  if (run_e) print_train(bf16 ? "ember-bf16" : "ember", te);
  if (run_t) print_train(bf16 ? "libtorch-bf16" : "libtorch", tt);
}

// ---- generation (batch 1, greedy, kNewTokens after a kPrompt-token prompt) ----

std::vector<int64_t> prompt_of(const ModelShape& s) {
  std::vector<int64_t> p;
  for (int64_t i = 0; i < kPrompt; ++i) p.push_back((i * 7 + 3) % s.vocab);
  return p;
}

std::vector<int64_t> ember_generate(ember::models::GPT& m, const std::vector<int64_t>& prompt,
                                    int64_t n_new = kNewTokens) {
  ember::models::SamplingOptions o;
  o.max_new_tokens = n_new;
  o.temperature = 0;
  return ember::models::generate(m, {prompt}, o)[0];
}

// As models::generate: when the context is full, the cache restarts from the last block / 2 tokens.
std::vector<int64_t> torch_generate(TorchGPT& m, const std::vector<int64_t>& prompt,
                                    int64_t n_new = kNewTokens) {
  torch::NoGradGuard ng;
  const int64_t block = m.wpe->weight.size(0);
  std::vector<torch::Tensor> k(m.blocks.size()), v(m.blocks.size());
  std::vector<int64_t> seq = prompt, out;
  torch::Tensor feed = torch::tensor(prompt, torch::kInt64).view({1, -1});
  for (int64_t i = 0; i < n_new; ++i) {
    const int64_t past = k[0].defined() ? k[0].size(2) : 0;
    if (past + feed.size(1) > block) {
      std::fill(k.begin(), k.end(), torch::Tensor());
      std::fill(v.begin(), v.end(), torch::Tensor());
      const std::vector<int64_t> tail(seq.end() - block / 2, seq.end());
      feed = torch::tensor(tail, torch::kInt64).view({1, -1});
    }
    const int64_t next = m.forward(feed, &k, &v).argmax(-1).item<int64_t>();
    out.push_back(next);
    seq.push_back(next);
    feed = torch::full({1, 1}, next, torch::kInt64);
  }
  return out;
}

void print_gen(const char* model, const char* impl, const std::vector<double>& times) {
  const Stats s = stats_of(times);
  std::printf("GEN\t%s\t%s\t%.4f\t%.4f\t%.4f\t%.1f\n", model, impl, s.median, s.min, s.max,
              static_cast<double>(kNewTokens) / s.median);
  std::fflush(stdout);
}

// Copies Ember's weights into the libtorch model (names mapped), so that both generate the same
// greedy tokens up to rounding: a check that the two sides compute the same thing.
void copy_weights(const ember::models::GPT& from, TorchGPT& to) {
  torch::NoGradGuard ng;
  auto params = to.named_parameters();
  for (const auto& [name, p] : from.named_parameters()) {
    std::string n = name;
    for (const auto& [a, b] :
         std::vector<std::pair<std::string, std::string>>{{"transformer.", ""},
                                                          {"h.", "h"},
                                                          {"attn.c_proj", "attn_proj"},
                                                          {"mlp.c_proj", "mlp_proj"},
                                                          {"attn.", ""},
                                                          {"mlp.", ""}})
      if (const size_t at = n.find(a); at != std::string::npos) n.replace(at, a.size(), b);
    if (n == "lm_head.weight") continue;  // tied to wte
    params[n].copy_(bench::to_torch(p));
  }
}

size_t agreement(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

void bench_generate(const char* name, const ModelShape& s, int reps, int64_t warm_tokens) {
  ember::manual_seed(0);
  ember::models::GPT em(ember_config(s));
  em.eval();
  TorchGPT tm(s);
  copy_weights(em, tm);
  tm.eval();
  const std::vector<int64_t> prompt = prompt_of(s);
  ember_generate(em, prompt, warm_tokens);  // warm up
  torch_generate(tm, prompt, warm_tokens);
  std::vector<double> te, tt, tm_mv;
  std::vector<int64_t> a, b, c;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    a = ember_generate(em, prompt);
    te.push_back(seconds_since(t0));
    t0 = std::chrono::steady_clock::now();
    b = torch_generate(tm, prompt);
    tt.push_back(seconds_since(t0));
    g_use_mv = true;  // Note [libtorch single-row matmul]
    t0 = std::chrono::steady_clock::now();
    c = torch_generate(tm, prompt);
    tm_mv.push_back(seconds_since(t0));
    g_use_mv = false;
  }
  print_gen(name, "ember", te);
  print_gen(name, "libtorch", tt);
  print_gen(name, "libtorch-mv", tm_mv);
  // Same weights, greedy: the token streams agree until a near-tie rounds differently.
  std::printf("AGREE\t%s\t%zu\t%zu\t%lld\n", name, agreement(a, b), agreement(b, c),
              static_cast<long long>(kNewTokens));
  std::fflush(stdout);
}

// One framework alone, 20 (austen) or 3 (gpt2) generations after one warm-up: for profiling.
void bench_generate_one(const std::string& model, const std::string& impl) {
  if (model != "austen" && model != "gpt2") throw std::invalid_argument("unknown model " + model);
  if (impl != "ember" && impl != "libtorch" && impl != "libtorch-mv")
    throw std::invalid_argument("unknown implementation " + impl);
  const ModelShape& s = model == "austen" ? kAusten : kGpt2;
  const std::vector<int64_t> prompt = prompt_of(s);
  ember::manual_seed(0);
  ember::models::GPT em(ember_config(s));
  TorchGPT tm(s);
  tm.eval();
  g_use_mv = impl == "libtorch-mv";
  const auto run = [&] {
    if (impl == "ember")
      ember_generate(em, prompt);
    else
      torch_generate(tm, prompt);
  };
  run();
  std::vector<double> t;
  for (int r = 0; r < (model == "austen" ? 20 : 3); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    t.push_back(seconds_since(t0));
  }
  print_gen(model.c_str(), impl.c_str(), t);
}

// ---- memory: one framework per process ----

// Peak RSS of one framework in this (fresh) process: "train" runs 3 austen training steps, "gen"
// an 8-token GPT-2-small generation. The baseline is the peak before any model exists (the
// process with both libraries loaded); the difference is the framework's working memory.
void bench_rss(const std::string& impl, const std::string& task) {
  if ((impl != "ember" && impl != "libtorch") || (task != "train" && task != "gen"))
    throw std::invalid_argument("rss: expected ember|libtorch train|gen, got " + impl + " " + task);
  const double base = peak_rss_mb();
  const std::vector<int64_t> prompt = prompt_of(kGpt2);
  double built = 0;  // peak once the model (and optimizer) exist
  if (task == "train") {
    const Batches b = make_batches(1);
    if (impl == "ember") {
      EmberTrainer e;
      built = peak_rss_mb();
      for (int i = 0; i < 3; ++i) e.step(b.ex[0], b.ey[0]);
    } else {
      TorchTrainer t;
      built = peak_rss_mb();
      for (int i = 0; i < 3; ++i) t.step(b.tx[0], b.ty[0]);
    }
  } else if (impl == "ember") {
    ember::manual_seed(0);
    ember::models::GPT m(ember_config(kGpt2));
    built = peak_rss_mb();
    ember_generate(m, prompt, 8);
  } else {
    torch::manual_seed(0);
    TorchGPT m(kGpt2);
    m.eval();
    built = peak_rss_mb();
    torch_generate(m, prompt, 8);
  }
  std::printf("RSS\t%s\t%s\t%.0f\t%.0f\t%.0f\n", task.c_str(), impl.c_str(), base, built,
              peak_rss_mb());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(2);
  const std::string what = argc > 1 ? argv[1] : "all";
  try {
    if (what == "train") {
      bench_train(argc > 2 ? argv[2] : "");
    } else if (what == "train-bf16") {
      bench_train(argc > 2 ? argv[2] : "", true);
    } else if (what == "gen" && argc > 2) {
      const std::string m = argv[2];
      if (argc > 3) {
        bench_generate_one(m, argv[3]);
      } else if (m == "austen")
        bench_generate("austen", kAusten, 5, kNewTokens);
      else if (m == "gpt2")
        bench_generate("gpt2", kGpt2, 2, 8);
      else
        throw std::invalid_argument("unknown model " + m);
    } else if (what == "rss" && argc > 3) {
      bench_rss(argv[2], argv[3]);
    } else if (what == "all") {
      bench_train();
      bench_train("", true);
      bench_generate("austen", kAusten, 5, kNewTokens);
      bench_generate("gpt2", kGpt2, 2, 8);
      for (const char* task : {"train", "gen"})
        for (const char* impl : {"ember", "libtorch"}) {  // a fresh process each
          const std::string cmd = std::string("\"") + argv[0] + "\" rss " + impl + " " + task;
          if (std::system(cmd.c_str()) != 0) return 1;
        }
    } else {
      std::fprintf(stderr,
                   "usage: gpt_bench [all | train|train-bf16 [ember|libtorch] | gen austen|gpt2 "
                   "[ember|libtorch|libtorch-mv] | rss ember|libtorch train|gen]\n");
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpt_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
