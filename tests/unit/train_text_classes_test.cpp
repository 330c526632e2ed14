// Text classification: passages, the text_classes split, its config rules, the bag-of-words
// baseline and the BERT explanations (attention maps, integrated gradients).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "ember/data/text.h"
#include "ember/data/tokenizer.h"
#include "ember/ember.h"
#include "ember/models/bert.h"
#include "ember/models/bow.h"
#include "ember/models/hf.h"
#include "ember/models/models.h"
#include "ember/train/explain_text.h"
#include "ember/train/figures.h"
#include "ember/train/pipeline.h"
#include "ember/train/run_files.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using ember::testing::expect_error;
using ember::testing::write_file;
namespace fs = std::filesystem;

namespace {

// A directory of two classes: "alpha.txt" is "a0 a1 a2 ..." and "beta.txt" is "b0 b1 ...".
fs::path two_classes(const std::string& name) {
  const fs::path dir = ember::testing::fresh_dir("text_classes", name);
  std::string a, b;
  for (int i = 0; i < 400; ++i) {
    a += "a" + std::to_string(i % 10) + (i % 7 == 0 ? "\n\n" : " ");
    b += "b" + std::to_string(i % 10) + (i % 5 == 0 ? "\t" : " ");
  }
  write_file(dir / "data" / "alpha.txt", a);
  write_file(dir / "data" / "beta.txt", b);
  return dir;
}

train::TrainConfig classes_config(const fs::path& dir) {
  train::TrainConfig cfg;
  cfg.data.format = "text_classes";
  cfg.data.path = (dir / "data").string();
  cfg.data.split = {0.6, 0.2, 0.2};
  cfg.data.passage_chars = 30;
  cfg.data.tokenizer = "char";
  cfg.model.type = "bow";
  cfg.model.block_size = 40;
  return cfg;
}

}  // namespace

TEST(TextClasses, CollapseWhitespaceAndPassages) {
  EXPECT_EQ(data::collapse_whitespace("  a\n\nb\t c  "), "a b c");
  EXPECT_EQ(data::collapse_whitespace("\n\n"), "");
  const std::string t = "abcdefghij";
  EXPECT_EQ(data::passages(t, 0, 10, 4, 4), (std::vector<std::string>{"abcd", "efgh"}));
  EXPECT_EQ(data::passages(t, 2, 10, 4, 2), (std::vector<std::string>{"cdef", "efgh", "ghij"}));
  EXPECT_TRUE(data::passages(t, 0, 3, 4, 4).empty());
  // Cuts inside a two-byte character move back to its first byte: no broken UTF-8.
  const std::string u =
      "ab\xC3\xA9"
      "cd";  // a b é c d: bytes 0-1, 2-3, 4, 5
  EXPECT_EQ(data::passages(u, 0, u.size(), 3, 3), (std::vector<std::string>{"ab",
                                                                            "\xC3\xA9"
                                                                            "cd"}));
  expect_error<ValueError>([&] { data::passages(t, 0, 10, 0, 1); }, {"chars = 0", ">= 1"});
}

TEST(TextClasses, SplitsFollowEachFileInOrder) {
  const fs::path dir = two_classes("splits");
  const train::TrainConfig cfg = classes_config(dir);
  const train::PreparedData d = train::prepare_text_classes_data(cfg);
  ASSERT_TRUE(d.pre.is_text_classes());
  EXPECT_EQ(d.pre.class_names(), (std::vector<std::string>{"alpha", "beta"}));
  const int64_t V = d.tokenizer->vocab_size();
  EXPECT_EQ(d.pre.vocab_size(), V + 3);
  EXPECT_EQ(d.pre.input_shape(), (std::vector<int64_t>{40}));
  // Per file: 60% / 20% / 20% of the collapsed text, in 30-character passages.
  const std::string alpha =
      data::collapse_whitespace(data::read_text((dir / "data/alpha.txt").string()));
  const auto n = static_cast<double>(alpha.size());
  const auto count = [](double chars) { return static_cast<int64_t>(chars) / 30; };
  int64_t alpha_train = 0, alpha_test = 0;
  for (int64_t y : d.train.y.to_vector<int64_t>()) alpha_train += y == 0;
  for (int64_t y : d.test.y.to_vector<int64_t>()) alpha_test += y == 0;
  EXPECT_EQ(alpha_train, count(std::round(0.6 * n)));
  EXPECT_NEAR(static_cast<double>(alpha_test), static_cast<double>(count(0.2 * n)), 1);
  // Each row: [CLS], the passage's 30 characters, then [PAD]s.
  const std::vector<int64_t> row = d.test.x.select(0, 0).to_vector<int64_t>();
  EXPECT_EQ(row[0], V + 1);
  EXPECT_EQ(row[31], V);
  EXPECT_EQ(row[39], V);
  const std::vector<int64_t> text(row.begin() + 1, row.begin() + 31);
  // The first test passage starts where the validation part ends: at 80% of the file.
  const auto start = static_cast<size_t>(std::llround(0.8 * n));
  EXPECT_EQ(d.tokenizer->decode(text), alpha.substr(start, 30));
  // Overlapping training passages with a stride.
  train::TrainConfig strided = cfg;
  strided.data.passage_stride = 10;
  EXPECT_GT(train::prepare_text_classes_data(strided).train.size(), 2 * d.train.size());
  // The saved tokenizer gives the same rows (as `ember eval` uses it).
  EXPECT_EQ(train::prepare_text_classes_data(cfg, d.tokenizer).test.x.to_vector<int64_t>(),
            d.test.x.to_vector<int64_t>());
}

TEST(TextClasses, BadDataGetsClearErrors) {
  const fs::path dir = two_classes("errors");
  train::TrainConfig cfg = classes_config(dir);
  fs::remove(dir / "data/beta.txt");
  expect_error<ConfigError>([&] { train::prepare_text_classes_data(cfg); },
                            {"at least two classes", "found 1"});
  cfg.data.path = (dir / "missing").string();
  expect_error<IOError>([&] { train::prepare_text_classes_data(cfg); },
                        {"missing", "not a directory"});
  write_file(dir / "data/beta.txt", "b\xFF");
  cfg.data.path = (dir / "data").string();
  expect_error<IOError>([&] { train::prepare_text_classes_data(cfg); },
                        {"beta.txt", "not UTF-8", "0xFF", "byte offset 1"});
}

TEST(TextClasses, ConfigRules) {
  const fs::path dir = two_classes("config");
  const auto load = [&](const std::string& text) {
    write_file(dir / "c.toml", text);
    return train::load_train_config((dir / "c.toml").string());
  };
  const train::TrainConfig c = load(
      "[data]\nformat = \"text_classes\"\npath = \"data\"\npassage_chars = 50\n"
      "passage_stride = 25\ntokenizer = \"bpe\"\nvocab_size = 300\n"
      "[model]\ntype = \"bert\"\nn_layer = 1\nn_head = 2\nn_embd = 16\nblock_size = 64\n");
  EXPECT_EQ(c.data.split, (std::vector<double>{0.8, 0.05, 0.15}));
  EXPECT_EQ(c.data.passage_chars, 50);
  EXPECT_EQ(c.data.passage_stride, 25);
  EXPECT_EQ(c.data.vocab_size, 300);
  EXPECT_EQ(load(train::to_toml(c)).data, c.data);  // to_toml round-trips the new keys
  expect_error<ConfigError>(
      [&] { load("[data]\nformat = \"text\"\npath = \"data\"\n[model]\ntype = \"bert\"\n"); },
      {"model.type = \"bert\" needs data.format = \"text_classes\""});
  expect_error<ConfigError>(
      [&] {
        load("[data]\nformat = \"text_classes\"\npath = \"data\"\n[model]\ntype = \"gpt\"\n");
      },
      {"model.type = \"gpt\" needs data.format = \"text\""});
  expect_error<ConfigError>(
      [&] {
        load("[data]\nformat = \"text_classes\"\npath = \"data\"\n[model]\ntype = \"mlp\"\n");
      },
      {"does not fit text data", "\"bert\" or \"bow\""});
  expect_error<ConfigError>(
      [&] {
        load(
            "[data]\nformat = \"text_classes\"\npath = \"data\"\ntokenizer = \"bpe\"\n"
            "vocab_size = 100\n[model]\ntype = \"bow\"\n");
      },
      {"data.vocab_size", "100"});
  expect_error<ConfigError>(
      [&] {
        load(
            "[data]\nformat = \"text_classes\"\npath = \"data\"\nval_fraction = 0.1\n"
            "[model]\ntype = \"bow\"\n");
      },
      {"val_fraction"});
}

// The bag of words is a Linear layer on token counts: same logits, same gradients.
TEST(TextClasses, BagOfWordsIsLogisticRegressionOnCounts) {
  manual_seed(3);
  models::BagOfWords bow(6, 3, /*pad_id=*/5);
  bow.weight.detach().copy_(randn({6, 3}));
  bow.weight.detach().select(0, 5).fill_(0.0);
  bow.bias.detach().copy_(randn({3}));
  const Tensor ids =
      from_vector(std::vector<int64_t>{0, 2, 2, 4, 5, 5, 1, 1, 1, 3, 0, 5}).view({2, 6});
  const Tensor counts =
      from_vector(std::vector<float>{1, 0, 2, 0, 1, 0, 1, 3, 0, 1, 0, 0}).view({2, 6});
  Tensor w = bow.weight.detach().clone().requires_grad_(true);
  Tensor b = bow.bias.detach().clone().requires_grad_(true);
  const Tensor want = matmul(counts, w) + b;
  const Tensor got = bow.forward(ids);
  EXPECT_TRUE(allclose(got, want, 1e-5, 1e-6));
  const Tensor g = randn({2, 3});
  sum(got * g).backward();
  sum(want * g).backward();
  EXPECT_TRUE(allclose(bow.weight.grad(), w.grad(), 1e-5, 1e-6));
  EXPECT_TRUE(allclose(bow.bias.grad(), b.grad(), 1e-5, 1e-6));
  EXPECT_EQ(bow.weight.grad().select(0, 5).abs().sum().item(), 0.0);  // [PAD] is never counted
  expect_error<IndexError>([&] { bow.forward(full({1, 2}, 6.0, kInt64)); }, {"6"});
  expect_error<ShapeError>([&] { bow.forward(zeros({3}, kInt64)); }, {"BagOfWords", "(B, T)"});
}

// Integrated gradients of a small random BERT add up to the logit gap (completeness), the
// attention rows are distributions, and the figures are written.
TEST(TextClasses, BertExplanation) {
  const fs::path dir = two_classes("explain");
  const train::TrainConfig cfg = classes_config(dir);
  const train::PreparedData d = train::prepare_text_classes_data(cfg);
  train::ModelConfig mc;
  mc.type = "bert";
  mc.n_layer = 2;
  mc.n_head = 2;
  mc.n_embd = 16;
  mc.block_size = 40;
  manual_seed(0);
  auto model = std::dynamic_pointer_cast<models::BertForSequenceClassification>(
      models::create_model(mc, {40}, 2, d.pre.vocab_size()));
  ASSERT_NE(model, nullptr);
  model->train();
  const train::TextExplanation e =
      train::explain_text(*model, *d.tokenizer, d.test.x.select(0, 0), 1, 128);
  EXPECT_TRUE(model->is_training());  // mode restored
  ASSERT_EQ(e.tokens.size(), 31u);    // [CLS] + 30 characters
  EXPECT_EQ(e.tokens[0], "[CLS]");
  EXPECT_EQ(e.attributions.size(), 31u);
  EXPECT_EQ(e.attributions[0], 0.0);  // [CLS] is the same in the baseline
  EXPECT_EQ(e.target, 1);
  EXPECT_NEAR(e.attribution_sum, e.logit_gap, 0.02 * std::abs(e.logit_gap) + 1e-4);
  ASSERT_EQ(e.attentions.size(), 2u);
  EXPECT_EQ(e.attentions[0].shape(), (Shape{2, 31, 31}));
  EXPECT_TRUE(allclose(sum(e.attentions[1], {2}), ones({2, 31}), 1e-5, 1e-5));
  const auto figures = train::write_text_explanation(e, d.pre.class_names(), 0,
                                                     (dir / "figs").string(), "p0", -1, 20);
  ASSERT_EQ(figures.size(), 3u);  // two heads, one attribution strip
  for (const auto& [caption, png] : figures) {
    EXPECT_TRUE(fs::file_size(png) > 1000) << png;
    EXPECT_NE(caption.find("true 'alpha'"), std::string::npos) << caption;
  }
  expect_error<ValueError>(
      [&] {
        train::write_text_explanation(e, d.pre.class_names(), 0, (dir / "f").string(), "p", 2);
      },
      {"layer 2", "2 layers"});
}

// model.init from a Hugging Face BERT directory: every tensor of the same name and shape is
// copied; a directory that is neither a run nor a Hugging Face model is a clear error.
TEST(TextClasses, InitFromHuggingFaceBert) {
  const fs::path dir = ember::testing::fresh_dir("text_classes", "init_hf");
  train::ModelConfig mc;
  mc.type = "bert";
  mc.n_layer = 1;
  mc.n_head = 2;
  mc.n_embd = 8;
  mc.block_size = 16;
  manual_seed(1);
  auto source = std::dynamic_pointer_cast<models::BertForSequenceClassification>(
      models::create_model(mc, {16}, 3, 20));
  models::save_hf_bert(*source, (dir / "hf").string());
  manual_seed(2);
  auto target = models::create_model(mc, {16}, 3, 20);
  const auto loaded = train::init_from(*target, (dir / "hf").string());
  EXPECT_EQ(loaded.size(), target->state_dict().size());  // same architecture: everything
  const nn::StateDict a = source->state_dict(), b = target->state_dict();
  for (const std::string& k : a.keys()) EXPECT_TRUE(allclose(a[k], b[k], 0, 0)) << k;
  fs::create_directories(dir / "empty");
  expect_error<ConfigError>([&] { train::init_from(*target, (dir / "empty").string()); },
                            {"model.init", "neither a run directory", "Hugging Face"});
}
