// models/gpt: shapes, weight tying, the KV cache against the full forward, sampling, and the text
// pipeline of `ember train` on a small corpus.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "ember/ember.h"
#include "ember/models/models.h"
#include "support/expect.h"
#include "support/model_checks.h"
#include "support/tmpdir.h"

using namespace ember;
using ember::testing::expect_error;

using namespace ember::testing;

namespace {

models::GPTConfig tiny() {
  models::GPTConfig c;
  c.vocab_size = 11;
  c.block_size = 16;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 8;
  return c;
}

}  // namespace

TEST(ModelsGpt, ShapesNamesAndTying) {
  manual_seed(0);
  models::GPT gpt(tiny());
  const Tensor logits = gpt(ids({1, 2, 3, 4, 5, 6}, 2));
  EXPECT_EQ(logits.shape(), (Shape{2, 3, 11}));
  const nn::StateDict sd = gpt.state_dict();
  for (const char* k :
       {"transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
        "transformer.h.0.attn.c_attn.weight", "transformer.h.1.mlp.c_proj.bias",
        "transformer.ln_f.bias", "lm_head.weight"})
    EXPECT_TRUE(sd.contains(k)) << k;
  // lm_head.weight is wte's tensor: counted once in parameters(), shared storage.
  EXPECT_EQ(gpt.lm_head->weight.data_ptr<float>(), gpt.wte->weight.data_ptr<float>());
  int64_t n = 0;
  for (const auto& [name, p] : gpt.named_parameters()) n += p.numel();
  EXPECT_EQ(gpt.num_parameters(), n);
  // 2 layers of (12 C^2 + 13 C) + (V + T) C + 2 C, C = 8.
  EXPECT_EQ(gpt.num_parameters(), 2 * (12 * 64 + 13 * 8) + (11 + 16) * 8 + 2 * 8);
}

TEST(ModelsGpt, IsCausal) {
  manual_seed(1);
  models::GPT gpt(tiny());
  gpt.eval();
  const Tensor a = gpt(ids({1, 2, 3, 4, 5}, 1));
  const Tensor b = gpt(ids({1, 2, 3, 9, 0}, 1));
  // Positions before the first change see the same context.
  EXPECT_LT(max_abs_diff(a.narrow(1, 0, 3), b.narrow(1, 0, 3)), 1e-6);
  EXPECT_GT(max_abs_diff(a.narrow(1, 3, 1), b.narrow(1, 3, 1)), 1e-4);
}

TEST(ModelsGpt, KvCacheMatchesFullForward) {
  manual_seed(2);
  models::GPT gpt(tiny());
  gpt.eval();
  NoGradGuard no_grad;
  const std::vector<int64_t> seq = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7};
  const Tensor full = gpt(ids(seq, 1));  // (1, 14, V)
  models::KVCache cache = gpt.make_cache(1);
  // A 5-token prefill, then one token at a time, then a 3-token chunk on top of the cache.
  Tensor step = gpt.forward_next(ids({3, 1, 4, 1, 5}, 1), cache);
  EXPECT_LT(max_abs_diff(step, full.select(1, 4)), 1e-5);
  for (size_t t = 5; t < 11; ++t) {
    step = gpt.forward_next(ids({seq[t]}, 1), cache);
    EXPECT_LT(max_abs_diff(step, full.select(1, static_cast<int64_t>(t))), 1e-5) << t;
  }
  step = gpt.forward_next(ids({seq[11], seq[12], seq[13]}, 1), cache);
  EXPECT_LT(max_abs_diff(step, full.select(1, 13)), 1e-5);
  EXPECT_EQ(cache.length, 14);
}

TEST(ModelsGpt, SamplingRules) {
  const std::vector<float> logits = {0.0f, 3.0f, 1.0f, 2.9f, -1.0f};
  models::SamplingOptions o;
  o.temperature = 0;
  EXPECT_EQ(models::sample_token(logits.data(), 5, o, 0.99), 1);  // greedy
  o.temperature = 1;
  o.top_k = 1;
  EXPECT_EQ(models::sample_token(logits.data(), 5, o, 0.99), 1);
  o.top_k = 2;  // only tokens 1 and 3, whatever u
  for (double u : {0.0, 0.3, 0.6, 0.999}) {
    const int64_t t = models::sample_token(logits.data(), 5, o, u);
    EXPECT_TRUE(t == 1 || t == 3) << u;
  }
  o.top_k = 0;
  o.top_p = 0.5;  // token 1 alone has p = 0.46 < 0.5, so the nucleus is {1, 3}
  for (double u : {0.0, 0.5, 0.999}) {
    const int64_t t = models::sample_token(logits.data(), 5, o, u);
    EXPECT_TRUE(t == 1 || t == 3) << u;
  }
  o.top_p = 1.0;  // u near 1 reaches the least likely token
  EXPECT_EQ(models::sample_token(logits.data(), 5, o, 0.99999), 4);
}

TEST(ModelsGpt, GenerateIsSeededBatchedAndRestartsAFullContext) {
  manual_seed(3);
  models::GPT gpt(tiny());
  models::SamplingOptions o;
  o.max_new_tokens = 40;  // > block_size: the cache restarts from the last half block
  o.seed = 7;
  const auto a = models::generate(gpt, {{1, 2, 3}, {1, 2, 3}}, o);
  const auto b = models::generate(gpt, {{1, 2, 3}}, o);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].size(), 40u);
  EXPECT_NE(a[0], a[1]);  // two samples of one batch differ
  EXPECT_EQ(models::generate(gpt, {{1, 2, 3}, {1, 2, 3}}, o), a);  // same seed, same text
  EXPECT_EQ(b[0].size(), 40u);
  o.temperature = 0;  // greedy: the batch rows agree
  const auto g = models::generate(gpt, {{4, 5}, {4, 5}}, o);
  EXPECT_EQ(g[0], g[1]);
  for (int64_t t : a[0]) EXPECT_TRUE(t >= 0 && t < 11);
}

TEST(ModelsGpt, Errors) {
  models::GPTConfig c = tiny();
  c.n_embd = 9;
  expect_error<ValueError>([&] { models::GPT g(c); }, {"n_embd = 9", "n_head = 2"});
  manual_seed(0);
  models::GPT gpt(tiny());
  expect_error<ShapeError>([&] { gpt(ids(std::vector<int64_t>(17, 1), 1)); },
                           {"17 positions", "block_size = 16"});
  expect_error<ValueError>([&] { models::generate(gpt, {std::vector<int64_t>(17, 1)}, {}); },
                           {"17 tokens", "block_size = 16"});
  expect_error<IndexError>(
      [&] {
        models::generate(gpt, {{1, 11}}, {});
      },
      {"token id 11", "vocabulary of 11"});
  expect_error<ValueError>([&] { models::generate(gpt, {{1, 2}, {1}}, {}); }, {"same length"});
}

// `ember train` on a small text: a char vocabulary saved with the run, windows, val metrics, and
// a model that learns a periodic text well.
TEST(ModelsGpt, TrainsOnTextAndReloads) {
  const auto dir = ember::testing::fresh_dir("models_gpt", "train");
  std::string text;
  for (int i = 0; i < 400; ++i) text += "the cat sat on the mat. ";
  std::ofstream((dir / "corpus.txt").string()) << text;
  std::ofstream((dir / "gpt.toml").string()) << R"(
[data]
format = "text"
path = "corpus.txt"
val_fraction = 0.1
[model]
type = "gpt"
n_layer = 1
n_head = 2
n_embd = 32
block_size = 32
[optimizer]
name = "adamw"
lr = 3e-3
[training]
steps = 150
batch_size = 16
[output]
plots = false
)";
  train::TrainConfig cfg = train::load_train_config((dir / "gpt.toml").string());
  train::TrainOptions opts;
  opts.run_dir = (dir / "run").string();
  opts.progress = train::ProgressMode::Quiet;
  const train::TrainResult r = train::fit(cfg, opts);
  double val_loss = NAN, val_acc = NAN;
  for (const auto& [k, v] : r.final_metrics) {
    if (k == "val_loss") val_loss = v;
    if (k == "val_accuracy") val_acc = v;
  }
  EXPECT_LT(val_loss, 0.5);  // the text is periodic: the next character is nearly certain
  EXPECT_GT(val_acc, 0.85);
  train::LoadedRun run = train::load_run(opts.run_dir);
  ASSERT_NE(run.tokenizer, nullptr);
  EXPECT_EQ(run.tokenizer->vocab_size(), 11);  // " .acehmnost"
  auto* gpt = dynamic_cast<models::GPT*>(run.model.get());
  ASSERT_NE(gpt, nullptr);
  models::SamplingOptions o;
  o.temperature = 0;
  o.max_new_tokens = 12;
  const auto out = models::generate(*gpt, {run.tokenizer->encode("the cat sat ")}, o);
  EXPECT_EQ(run.tokenizer->decode(out[0]), "on the mat. ");
}

TEST(ModelsGpt, TextConfigErrors) {
  const auto dir = ember::testing::fresh_dir("models_gpt", "errors");
  std::ofstream((dir / "t.txt").string()) << "short text";
  auto load = [&](const std::string& toml) {
    std::ofstream((dir / "c.toml").string()) << toml;
    return train::load_train_config((dir / "c.toml").string());
  };
  expect_error<ConfigError>(
      [&] { load("[data]\nformat = \"text\"\npath = \"t.txt\"\n[model]\ntype = \"mlp\"\n"); },
      {"model.type", "\"gpt\""});
  expect_error<ConfigError>(
      [&] {
        load(
            "[data]\nformat = \"csv\"\npath = \"t.txt\"\ntarget = \"y\"\n[model]\ntype = "
            "\"gpt\"\n");
      },
      {"model.type = \"gpt\"", "data.format = \"text\""});
  expect_error<ConfigError>(
      [&] {
        load(
            "[data]\nformat = \"text\"\npath = \"t.txt\"\n[model]\ntype = \"gpt\"\nn_embd = 30\n"
            "n_head = 4\n");
      },
      {"n_embd", "multiple of model.n_head = 4"});
  expect_error<ConfigError>(
      [&] {
        load(
            "[data]\nformat = \"text\"\npath = \"t.txt\"\ntokenizer = \"nowhere\"\n[model]\n"
            "type = \"gpt\"\n");
      },
      {"tokenizer", "not found"});
  // Too little text for one window.
  const train::TrainConfig cfg =
      load("[data]\nformat = \"text\"\npath = \"t.txt\"\n[model]\ntype = \"gpt\"\n");
  expect_error<ConfigError>([&] { train::prepare_text_data(cfg); },
                            {"training tokens", "block_size = 128"});
  // Not UTF-8.
  std::ofstream((dir / "bad.txt").string()) << "caf\xC3(";
  const train::TrainConfig bad =
      load("[data]\nformat = \"text\"\npath = \"bad.txt\"\n[model]\ntype = \"gpt\"\n");
  expect_error<IOError>([&] { train::prepare_text_data(bad); },
                        {"bad.txt", "not UTF-8", "byte offset 3"});
}
