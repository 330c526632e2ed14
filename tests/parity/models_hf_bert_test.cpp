// Hugging Face BERT import/export: logits, hidden states and attentions against a plain-PyTorch
// BertForSequenceClassification written in HF's exact format by tests/support/hf_bert_reference.py,
// exact export -> import round trips, older and BertModel-only checkpoints, and bad directories.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>

#include "ember/autograd/grad_mode.h"
#include "ember/io/json.h"
#include "ember/io/safetensors.h"
#include "ember/models/hf.h"
#include "ember/ops/creation.h"
#include "support/model_checks.h"
#include "support/tmpdir.h"

namespace fs = std::filesystem;
using namespace ember;
using ember::testing::fresh_dir;

using namespace ember::testing;

namespace {

// The reference directory (config.json, model.safetensors, reference.safetensors), made once.
const fs::path& reference_dir() {
  static const fs::path dir = run_reference_script("hf_bert_reference.py", "hf_bert");
  return dir;
}

fs::path copy_reference(const std::string& name) {
  const fs::path d = fresh_dir("hf_bert", name);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(reference_dir() / f, d / f);
  return d;
}

template <class E>
std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong error type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no error thrown";
  return "";
}

void edit_config(const fs::path& dir, const std::function<void(json::Value&)>& edit) {
  json::Value cfg = json::parse_file((dir / "config.json").string());
  edit(cfg);
  json::write_file((dir / "config.json").string(), cfg);
}

void edit_tensors(const fs::path& dir, const std::function<void(io::NamedTensors&)>& edit) {
  io::NamedTensors t = io::load_safetensors((dir / "model.safetensors").string(), false);
  edit(t);
  io::save_safetensors((dir / "model.safetensors").string(), t, {{"format", "pt"}});
}

class HfBert : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_torch())
      GTEST_SKIP() << "/usr/bin/python3 with torch is needed to write the reference model";
    ref_ = io::load_safetensors_map((reference_dir() / "reference.safetensors").string());
  }
  const Tensor& ids() { return ref_.at("input_ids"); }  // (3, 16) int64
  const Tensor& mask() { return ref_.at("attention_mask"); }
  const Tensor& types() { return ref_.at("token_type_ids"); }
  Tensor logits(models::BertForSequenceClassification& m) {
    NoGradGuard no_grad;
    return m.forward(ids(), mask(), types());
  }
  Tensor hidden(models::BertForSequenceClassification& m) {
    NoGradGuard no_grad;
    return m.bert->forward(ids(), mask(), types());
  }
  // Rows of (B, T, ...) at the real (unpadded) positions, concatenated: (N, ...)
  std::vector<Tensor> real_rows(const Tensor& x) {
    std::vector<Tensor> rows;
    for (int64_t b = 0; b < x.size(0); ++b)
      for (int64_t t = 0; t < x.size(1); ++t)
        if (mask().at<int64_t>({b, t}) != 0) rows.push_back(x.select(0, b).select(0, t));
    return rows;
  }
  std::map<std::string, Tensor> ref_;
};

TEST_F(HfBert, ImportMatchesPyTorch) {
  const models::HFBert hf = models::load_hf_bert(reference_dir().string());
  const models::BertConfig& c = hf.config;
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.intermediate_size, 128);
  EXPECT_EQ(c.vocab_size, 100);
  EXPECT_EQ(c.max_position_embeddings, 32);
  EXPECT_EQ(c.num_labels, 3);  // from id2label
  EXPECT_EQ(c.id2label, (std::vector<std::string>{"negative", "neutral", "positive"}));
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_FALSE(c.classifier_dropout.has_value());
  EXPECT_FALSE(hf.model->is_training());
  EXPECT_EQ(hf.tokenizer, nullptr);  // no vocab.txt

  const Tensor out = logits(*hf.model);
  ASSERT_EQ(out.shape(), ref_.at("logits").shape());
  EXPECT_LT(rel_diff(out, ref_.at("logits")), 1e-4);

  const Tensor h = hidden(*hf.model);
  ASSERT_EQ(h.shape(), ref_.at("hidden").shape());
  const std::vector<Tensor> mine = real_rows(h), theirs = real_rows(ref_.at("hidden"));
  ASSERT_EQ(mine.size(), 16u + 11u + 5u);
  double worst = 0;
  for (size_t i = 0; i < mine.size(); ++i) worst = std::max(worst, rel_diff(mine[i], theirs[i]));
  EXPECT_LT(worst, 1e-4);

  // The tolerance tells the activations apart: the tanh GELU ("gelu_new") misses it.
  const fs::path d = copy_reference("gelu_new");
  edit_config(d, [](json::Value& cfg) { cfg["hidden_act"] = "gelu_new"; });
  const models::HFBert tanh_gelu = models::load_hf_bert(d.string());
  EXPECT_GT(rel_diff(logits(*tanh_gelu.model), ref_.at("logits")), 1e-4);
}

TEST_F(HfBert, UnfusedAttentionsMatchPyTorch) {
  const models::HFBert hf = models::load_hf_bert(reference_dir().string());
  NoGradGuard no_grad;
  std::vector<Tensor> attentions;
  const Tensor out = hf.model->forward(ids(), mask(), types(), &attentions);
  EXPECT_LT(rel_diff(out, ref_.at("logits")), 1e-4);
  EXPECT_LT(rel_diff(out, logits(*hf.model)), 1e-5);  // fused and unfused agree
  ASSERT_EQ(attentions.size(), 2u);
  EXPECT_EQ(attentions[0].shape(), (Shape{3, 4, 16, 16}));
  EXPECT_LT(rel_diff(attentions[0], ref_.at("attn0")), 1e-4);
  EXPECT_LT(rel_diff(attentions[1], ref_.at("attn1")), 1e-4);
}

TEST_F(HfBert, ExportWritesHuggingFaceLayoutAndRoundTripsExactly) {
  const models::HFBert a = models::load_hf_bert(reference_dir().string());
  const fs::path out = fresh_dir("hf_bert", "export");
  models::save_hf_bert(*a.model, out.string());

  const json::Value cfg = json::parse_file((out / "config.json").string());
  EXPECT_EQ(cfg["model_type"].as_string(), "bert");
  EXPECT_EQ(cfg["architectures"][0].as_string(), "BertForSequenceClassification");
  EXPECT_EQ(cfg["hidden_size"].as_int(), 64);
  EXPECT_EQ(cfg["id2label"].size(), 3u);
  EXPECT_EQ(cfg["id2label"]["2"].as_string(), "positive");
  EXPECT_EQ(cfg["label2id"]["neutral"].as_int(), 1);
  EXPECT_EQ(cfg["position_embedding_type"].as_string(), "absolute");

  // The exported tensors are the reference file's, name for name and bit for bit (less the
  // position_ids buffer).
  const io::SafeTensorsFile mine((out / "model.safetensors").string());
  const io::SafeTensorsFile theirs((reference_dir() / "model.safetensors").string());
  EXPECT_EQ(mine.metadata().at("format"), "pt");
  size_t weights = 0;
  for (const std::string& k : theirs.keys()) {
    if (k == "bert.embeddings.position_ids") continue;
    ++weights;
    ASSERT_TRUE(mine.contains(k)) << k;
    EXPECT_TRUE(bit_identical(mine.get(k), theirs.get(k))) << k;
  }
  EXPECT_EQ(mine.size(), weights);

  const models::HFBert b = models::load_hf_bert(out.string());
  EXPECT_EQ(b.config, a.config);
  const nn::StateDict sa = a.model->state_dict(), sb = b.model->state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, t] : sa) {
    ASSERT_NE(sb.find(name), nullptr) << name;
    EXPECT_TRUE(bit_identical(t, *sb.find(name))) << name;
  }
  EXPECT_TRUE(bit_identical(logits(*a.model), logits(*b.model)));
}

TEST_F(HfBert, FreshModelsRoundTripWithDefaultLabels) {
  models::BertConfig c;
  c.vocab_size = 30;
  c.hidden_size = 8;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 16;
  c.max_position_embeddings = 10;
  c.num_labels = 4;
  c.hidden_act = "relu";
  c.classifier_dropout = 0.25;
  models::BertForSequenceClassification m(c);
  const fs::path d = fresh_dir("hf_bert", "fresh");
  const data::WordPieceTokenizer tok({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello"},
                                     false);
  models::save_hf_bert(m, d.string(), &tok);
  const json::Value cfg = json::parse_file((d / "config.json").string());
  EXPECT_EQ(cfg["id2label"]["3"].as_string(), "LABEL_3");
  const models::HFBert back = models::load_hf_bert(d.string());
  EXPECT_EQ(back.config, c);
  ASSERT_NE(back.tokenizer, nullptr);
  EXPECT_EQ(back.tokenizer->kind(), "wordpiece");
  EXPECT_FALSE(dynamic_cast<const data::WordPieceTokenizer&>(*back.tokenizer).do_lower_case());
  EXPECT_EQ(back.tokenizer->encode("hello [SEP] Hello"), (std::vector<int64_t>{5, 3, 1}));
  const json::Value tc = json::parse_file((d / "tokenizer_config.json").string());
  EXPECT_EQ(tc["mask_token"].as_string(), "[MASK]");
  const nn::StateDict sa = m.state_dict(), sb = back.model->state_dict();
  for (const auto& [name, t] : sa) EXPECT_TRUE(bit_identical(t, *sb.find(name))) << name;
}

TEST_F(HfBert, ReadsBertModelCheckpointsWithAFreshClassifier) {
  const fs::path d = copy_reference("bert_model");
  edit_tensors(d, [](io::NamedTensors& t) {
    std::erase_if(t, [](const auto& kv) { return kv.first.starts_with("classifier."); });
    for (auto& [name, v] : t) name = name.substr(std::strlen("bert."));
  });
  const models::HFBert a = models::load_hf_bert(reference_dir().string());
  const models::HFBert b = models::load_hf_bert(d.string());
  EXPECT_TRUE(bit_identical(hidden(*a.model), hidden(*b.model)));
  EXPECT_FALSE(bit_identical(b.model->classifier->weight, a.model->classifier->weight));
  EXPECT_EQ(b.model->classifier->weight.shape(), (Shape{3, 64}));
  EXPECT_EQ(values(b.model->classifier->bias), std::vector<float>(3, 0.0f));  // HF's init
}

TEST_F(HfBert, ReadsOlderGammaBetaNamesAndPreTrainingHeads) {
  const fs::path d = copy_reference("gamma_beta");
  edit_tensors(d, [](io::NamedTensors& t) {
    for (auto& [name, v] : t) {
      if (name.ends_with("LayerNorm.weight")) name = name.substr(0, name.size() - 6) + "gamma";
      if (name.ends_with("LayerNorm.bias")) name = name.substr(0, name.size() - 4) + "beta";
    }
    t.emplace_back("cls.seq_relationship.bias", zeros({2}));
  });
  const models::HFBert a = models::load_hf_bert(reference_dir().string());
  const models::HFBert b = models::load_hf_bert(d.string());
  EXPECT_TRUE(bit_identical(logits(*a.model), logits(*b.model)));
}

TEST_F(HfBert, ConfigThatDisagreesWithTheTensors) {
  const fs::path d = copy_reference("bad_hidden");
  edit_config(d, [](json::Value& c) { c["hidden_size"] = 32; });
  const std::string msg = error_of<ShapeError>([&] { models::load_hf_bert(d.string()); });
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  EXPECT_NE(
      msg.find(
          "\"bert.embeddings.word_embeddings.weight\" has shape (100, 64), expected (100, 32)"),
      std::string::npos)
      << msg;
  EXPECT_NE(msg.find("hidden_size = 32"), std::string::npos) << msg;
}

TEST_F(HfBert, MissingAndUnexpectedTensorsAreListed) {
  const fs::path d = copy_reference("missing");
  edit_tensors(d, [](io::NamedTensors& t) {
    std::erase_if(
        t, [](const auto& kv) { return kv.first == "bert.encoder.layer.1.output.dense.bias"; });
    t.emplace_back("bert.encoder.layer.0.crossattention.self.query.weight", t[1].second);
  });
  const std::string msg = error_of<IOError>([&] { models::load_hf_bert(d.string()); });
  EXPECT_NE(msg.find("missing tensors: bert.encoder.layer.1.output.dense.bias"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("unexpected tensors: bert.encoder.layer.0.crossattention.self.query.weight"),
            std::string::npos)
      << msg;

  // Half a classifier is not a BertModel checkpoint: the missing half is an error.
  const fs::path e = copy_reference("half_classifier");
  edit_tensors(e, [](io::NamedTensors& t) {
    std::erase_if(t, [](const auto& kv) { return kv.first == "classifier.bias"; });
  });
  const std::string half = error_of<IOError>([&] { models::load_hf_bert(e.string()); });
  EXPECT_NE(half.find("missing tensors: classifier.bias"), std::string::npos) << half;
}

TEST_F(HfBert, UnsupportedConfigsAreRefused) {
  const fs::path d = copy_reference("relative");
  edit_config(d, [](json::Value& c) { c["position_embedding_type"] = "relative_key"; });
  const std::string msg = error_of<ConfigError>([&] { models::load_hf_bert(d.string()); });
  EXPECT_NE(msg.find("position_embedding_type is \"relative_key\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;

  const fs::path e = copy_reference("silu");
  edit_config(e, [](json::Value& c) { c["hidden_act"] = "silu"; });
  EXPECT_NE(error_of<ConfigError>([&] { models::load_hf_bert(e.string()); }).find("hidden_act"),
            std::string::npos);

  const fs::path f = copy_reference("roberta");
  edit_config(f, [](json::Value& c) { c["model_type"] = "roberta"; });
  EXPECT_NE(error_of<ConfigError>([&] { models::load_hf_bert(f.string()); }).find("model_type"),
            std::string::npos);

  const fs::path g = copy_reference("no_weights");
  fs::remove(g / "model.safetensors");
  EXPECT_NE(error_of<IOError>([&] { models::load_hf_bert(g.string()); }).find("not found"),
            std::string::npos);
}

}  // namespace
