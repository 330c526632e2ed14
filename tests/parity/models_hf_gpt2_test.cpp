// Hugging Face GPT-2 import/export: logits against a plain-PyTorch GPT-2 written in HF's exact
// format by tests/support/hf_gpt2_reference.py, exact export -> import round trips, KV-cached
// steps of the imported model, tokenizers, and the errors of bad directories.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>

#include "ember/autograd/grad_mode.h"
#include "ember/io/file.h"
#include "ember/io/json.h"
#include "ember/io/safetensors.h"
#include "ember/models/hf.h"
#include "support/model_checks.h"
#include "support/tmpdir.h"

namespace fs = std::filesystem;
using namespace ember;
using ember::testing::fresh_dir;

using namespace ember::testing;

namespace {

// The reference directory (config.json, model.safetensors, reference.safetensors), made once.
const fs::path& reference_dir() {
  static const fs::path dir = run_reference_script("hf_gpt2_reference.py", "hf_gpt2");
  return dir;
}

// A fresh copy of the reference model's config.json and model.safetensors.
fs::path copy_reference(const std::string& name) {
  const fs::path d = fresh_dir("hf_gpt2", name);
  for (const char* f : {"config.json", "model.safetensors"})
    fs::copy_file(reference_dir() / f, d / f);
  return d;
}

Tensor logits_of(models::GPT& model, const Tensor& idx) {
  NoGradGuard no_grad;
  return model.forward(idx);
}

// The message of the ember::Error fn throws (of type E); empty and a test failure otherwise.
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

class HfGpt2 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_torch())
      GTEST_SKIP() << "/usr/bin/python3 with torch is needed to write the reference model";
    ref_ = io::load_safetensors_map((reference_dir() / "reference.safetensors").string());
  }
  const Tensor& idx() { return ref_.at("idx"); }            // (3, 32) int64
  const Tensor& ref_logits() { return ref_.at("logits"); }  // (3, 32, 100)
  std::map<std::string, Tensor> ref_;
};

TEST_F(HfGpt2, ImportMatchesPyTorchLogits) {
  const models::HFGPT2 hf = models::load_hf_gpt2(reference_dir().string());
  const models::GPTConfig& c = hf.config;
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.n_embd, 64);
  EXPECT_EQ(c.block_size, 32);
  EXPECT_EQ(c.vocab_size, 100);
  EXPECT_TRUE(c.bias);
  EXPECT_TRUE(c.tie_weights);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c.dropout, 0.1);
  EXPECT_FALSE(hf.model->is_training());
  EXPECT_EQ(hf.tokenizer, nullptr);
  // Tied: one tensor under both names.
  EXPECT_EQ(hf.model->lm_head->weight.data_ptr<float>(), hf.model->wte->weight.data_ptr<float>());
  const Tensor logits = logits_of(*hf.model, idx());
  ASSERT_EQ(logits.shape(), ref_logits().shape());
  EXPECT_LT(rel_diff(logits, ref_logits()), 1e-4);
}

TEST_F(HfGpt2, ExportWritesHuggingFaceLayoutAndRoundTripsExactly) {
  const models::HFGPT2 a = models::load_hf_gpt2(reference_dir().string());
  const fs::path out = fresh_dir("hf_gpt2", "export");
  models::save_hf_gpt2(*a.model, nullptr, out.string());

  const json::Value cfg = json::parse_file((out / "config.json").string());
  EXPECT_EQ(cfg["model_type"].as_string(), "gpt2");
  EXPECT_EQ(cfg["architectures"][0].as_string(), "GPT2LMHeadModel");
  EXPECT_EQ(cfg["activation_function"].as_string(), "gelu_new");
  EXPECT_TRUE(cfg["n_inner"].is_null());
  EXPECT_EQ(cfg["n_positions"].as_int(), 32);
  EXPECT_EQ(cfg["n_embd"].as_int(), 64);
  EXPECT_FALSE(cfg.contains("ember_tokenizer"));

  // The exported tensors are the reference file's, name for name and bit for bit (less the
  // causal-mask buffers), so transformers reads them as it reads its own.
  const io::SafeTensorsFile mine((out / "model.safetensors").string());
  const io::SafeTensorsFile theirs((reference_dir() / "model.safetensors").string());
  EXPECT_EQ(mine.metadata().at("format"), "pt");
  EXPECT_FALSE(mine.contains("lm_head.weight"));
  EXPECT_EQ(mine.info("transformer.h.0.attn.c_attn.weight").shape, (Shape{64, 192}));
  EXPECT_EQ(mine.info("transformer.h.1.mlp.c_proj.weight").shape, (Shape{256, 64}));
  size_t weights = 0;
  for (const std::string& k : theirs.keys()) {
    if (k.ends_with(".attn.bias") || k.ends_with(".attn.masked_bias")) continue;
    ++weights;
    ASSERT_TRUE(mine.contains(k)) << k;
    EXPECT_TRUE(bit_identical(mine.get(k), theirs.get(k))) << k;
  }
  EXPECT_EQ(mine.size(), weights);

  const models::HFGPT2 b = models::load_hf_gpt2(out.string());
  EXPECT_EQ(b.config, a.config);
  const nn::StateDict sa = a.model->state_dict(), sb = b.model->state_dict();
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, t] : sa) {
    ASSERT_NE(sb.find(name), nullptr) << name;
    EXPECT_TRUE(bit_identical(t, *sb.find(name))) << name;
  }
  EXPECT_TRUE(bit_identical(logits_of(*a.model, idx()), logits_of(*b.model, idx())));
}

TEST_F(HfGpt2, ReadsGPT2ModelNamesWithoutPrefix) {
  const fs::path d = copy_reference("no_prefix");
  edit_tensors(d, [](io::NamedTensors& t) {
    for (auto& [name, v] : t) name = name.substr(std::strlen("transformer."));
  });
  const models::HFGPT2 a = models::load_hf_gpt2(reference_dir().string());
  const models::HFGPT2 b = models::load_hf_gpt2(d.string());
  EXPECT_TRUE(bit_identical(logits_of(*a.model, idx()), logits_of(*b.model, idx())));
}

TEST_F(HfGpt2, ReadsBFloat16AsFloat32) {
  const fs::path d = copy_reference("bf16");
  edit_tensors(d, [](io::NamedTensors& t) {
    for (auto& [name, v] : t)
      if (v.dtype() == kFloat32) v = v.to(kBFloat16);
  });
  const models::HFGPT2 b = models::load_hf_gpt2(d.string());
  EXPECT_EQ(b.model->wte->weight.dtype(), kFloat32);
  // The float32 model with every weight rounded to bfloat16 gives the same logits, bit for bit.
  const models::HFGPT2 a = models::load_hf_gpt2(reference_dir().string());
  {
    NoGradGuard no_grad;
    for (Tensor& p : a.model->parameters()) p.copy_(p.to(kBFloat16).to(kFloat32));
  }
  EXPECT_TRUE(bit_identical(logits_of(*a.model, idx()), logits_of(*b.model, idx())));
  EXPECT_GT(rel_diff(logits_of(*b.model, idx()), ref_logits()), 1e-4);  // really rounded
}

TEST_F(HfGpt2, KVCachedStepsMatchTheFullForward) {
  const models::HFGPT2 hf = models::load_hf_gpt2(reference_dir().string());
  models::GPT& m = *hf.model;
  NoGradGuard no_grad;
  const Tensor full = m.forward(idx());  // (B, T, V)
  models::KVCache cache = m.make_cache(idx().size(0));
  const int64_t prompt = 20;
  Tensor step = m.forward_next(idx().narrow(1, 0, prompt), cache);  // (B, V)
  EXPECT_LT(rel_diff(step, full.select(1, prompt - 1)), 1e-5);
  for (int64_t t = prompt; t < idx().size(1); ++t) {
    step = m.forward_next(idx().narrow(1, t, 1), cache);
    EXPECT_LT(rel_diff(step, full.select(1, t)), 1e-5) << "position " << t;
  }
  EXPECT_EQ(cache.length, idx().size(1));
}

TEST_F(HfGpt2, TokenizersTravelWithTheModel) {
  const std::string corpus = "the cat sat on the mat. the dog sat on the log. <|endoftext|>";
  const data::BpeTokenizer bpe = data::BpeTokenizer::train(corpus, 270);
  models::GPTConfig c;
  c.vocab_size = bpe.vocab_size();
  c.block_size = 16;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 8;
  models::GPT model(c);
  const fs::path d = fresh_dir("hf_gpt2", "bpe");
  models::save_hf_gpt2(model, &bpe, d.string());
  for (const char* f :
       {"encoder.json", "vocab.bpe", "vocab.json", "merges.txt", "tokenizer_config.json"})
    EXPECT_TRUE(fs::is_regular_file(d / f)) << f;
  const json::Value cfg = json::parse_file((d / "config.json").string());
  ASSERT_EQ(bpe.special_tokens().size(), 1u);
  EXPECT_EQ(cfg["eos_token_id"].as_int(), bpe.special_tokens()[0].second);
  fs::remove(d / "encoder.json");  // Hugging Face's names alone are enough
  fs::remove(d / "vocab.bpe");
  const models::HFGPT2 back = models::load_hf_gpt2(d.string());
  ASSERT_NE(back.tokenizer, nullptr);
  EXPECT_EQ(back.tokenizer->kind(), "bpe");
  EXPECT_EQ(back.tokenizer->encode("the cat sat on the log"), bpe.encode("the cat sat on the log"));

  const data::CharTokenizer chars = data::CharTokenizer::build("hello world");
  c.vocab_size = chars.vocab_size();
  models::GPT small(c);
  const fs::path e = fresh_dir("hf_gpt2", "char");
  models::save_hf_gpt2(small, &chars, e.string());
  EXPECT_TRUE(json::parse_file((e / "config.json").string()).contains("ember_tokenizer"));
  const models::HFGPT2 back2 = models::load_hf_gpt2(e.string());
  ASSERT_NE(back2.tokenizer, nullptr);
  EXPECT_EQ(back2.tokenizer->kind(), "char");
  EXPECT_EQ(back2.tokenizer->encode("old hello"), chars.encode("old hello"));
}

TEST_F(HfGpt2, ConfigThatDisagreesWithTheTensors) {
  const fs::path d = copy_reference("bad_n_embd");
  edit_config(d, [](json::Value& c) {
    c["n_embd"] = 32;
    c["n_head"] = 4;
  });
  const std::string msg = error_of<ShapeError>([&] { models::load_hf_gpt2(d.string()); });
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("\"transformer.wte.weight\" has shape (100, 64), expected (100, 32)"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("n_embd = 32"), std::string::npos) << msg;
}

TEST_F(HfGpt2, MissingAndUnexpectedTensorsAreListed) {
  const fs::path d = copy_reference("missing");
  edit_tensors(d, [](io::NamedTensors& t) {
    std::erase_if(t, [](const auto& kv) { return kv.first == "transformer.h.1.mlp.c_fc.bias"; });
    t.emplace_back("transformer.h.0.crossattention.c_attn.weight", t[0].second);
  });
  const std::string msg = error_of<IOError>([&] { models::load_hf_gpt2(d.string()); });
  EXPECT_NE(msg.find("missing tensors: transformer.h.1.mlp.c_fc.bias"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unexpected tensors: transformer.h.0.crossattention.c_attn.weight"),
            std::string::npos)
      << msg;

  const fs::path u = copy_reference("untied");
  edit_config(u, [](json::Value& c) { c["tie_word_embeddings"] = false; });
  const std::string untied = error_of<IOError>([&] { models::load_hf_gpt2(u.string()); });
  EXPECT_NE(untied.find("missing tensors: lm_head.weight"), std::string::npos) << untied;
}

TEST_F(HfGpt2, UnsupportedConfigsAreRefused) {
  const fs::path d = copy_reference("relu");
  edit_config(d, [](json::Value& c) { c["activation_function"] = "relu"; });
  const std::string msg = error_of<ConfigError>([&] { models::load_hf_gpt2(d.string()); });
  EXPECT_NE(msg.find("activation_function is \"relu\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;

  const fs::path e = copy_reference("llama");
  edit_config(e, [](json::Value& c) { c["model_type"] = "llama"; });
  EXPECT_NE(error_of<ConfigError>([&] { models::load_hf_gpt2(e.string()); }).find("model_type"),
            std::string::npos);

  const fs::path f = copy_reference("no_weights");
  fs::remove(f / "model.safetensors");
  EXPECT_NE(error_of<IOError>([&] { models::load_hf_gpt2(f.string()); }).find("not found"),
            std::string::npos);

  models::GPTConfig c;
  c.vocab_size = 10;
  c.block_size = 8;
  c.n_layer = 1;
  c.n_head = 1;
  c.n_embd = 4;
  c.bias = false;
  models::GPT no_bias(c);
  const std::string bias = error_of<ConfigError>(
      [&] { models::save_hf_gpt2(no_bias, nullptr, fresh_dir("hf_gpt2", "no_bias").string()); });
  EXPECT_NE(bias.find("bias"), std::string::npos) << bias;
}

}  // namespace
