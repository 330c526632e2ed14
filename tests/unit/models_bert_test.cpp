// models/bert: shapes and HF names, HF's initialisation, padding invariance, attentions,
// forward_embeds, training, and the errors of bad inputs.
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>

#include "ember/ember.h"
#include "ember/models/bert.h"
#include "support/expect.h"
#include "support/model_checks.h"

using namespace ember;
using ember::testing::expect_error;

using namespace ember::testing;

namespace {

models::BertConfig tiny() {
  models::BertConfig c;
  c.vocab_size = 20;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 32;
  c.max_position_embeddings = 12;
  c.type_vocab_size = 2;
  c.num_labels = 3;
  return c;
}

// Weights far from HF's small initialisation, so that every input visibly moves the outputs.
void randomize(nn::Module& m) {
  NoGradGuard no_grad;
  for (const auto& [name, p] : m.named_parameters()) {
    Tensor t = p;
    t.copy_(name.find("LayerNorm") != std::string::npos ? 1.0 + 0.2 * randn_like(p)
                                                        : 0.3 * randn_like(p));
  }
}

}  // namespace

TEST(ModelsBert, ShapesAndHuggingFaceNames) {
  manual_seed(0);
  models::BertForSequenceClassification m(tiny());
  m.eval();
  const Tensor x = ids({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 2);  // (2, 5)
  EXPECT_EQ(m.forward(x).shape(), (Shape{2, 3}));
  const Tensor h = m.bert->forward(x);
  EXPECT_EQ(h.shape(), (Shape{2, 5, 16}));
  EXPECT_EQ(m.bert->pool(h).shape(), (Shape{2, 16}));

  const auto params = m.named_parameters();
  for (const char* name :
       {"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
        "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
        "bert.encoder.layer.1.attention.self.query.weight",
        "bert.encoder.layer.1.attention.self.key.bias",
        "bert.encoder.layer.0.attention.self.value.weight",
        "bert.encoder.layer.0.attention.output.dense.weight",
        "bert.encoder.layer.0.attention.output.LayerNorm.bias",
        "bert.encoder.layer.0.intermediate.dense.weight", "bert.encoder.layer.1.output.dense.bias",
        "bert.encoder.layer.1.output.LayerNorm.weight", "bert.pooler.dense.weight",
        "classifier.weight", "classifier.bias"})
    EXPECT_NE(params.find(name), nullptr) << name;
  // HF's count: embeddings + L * layer + pooler + classifier.
  const int64_t H = 16, I = 32, L = 2;
  const int64_t emb = (20 + 12 + 2) * H + 2 * H;
  const int64_t layer = 4 * (H * H + H) + 2 * H + (H * I + I) + (I * H + H) + 2 * H;
  EXPECT_EQ(m.num_parameters(), emb + L * layer + (H * H + H) + (H * 3 + 3));

  models::BertModel no_pool(tiny(), /*add_pooling_layer=*/false);
  EXPECT_EQ(no_pool.pooler, nullptr);
  EXPECT_EQ(no_pool.named_parameters().find("pooler.dense.weight"), nullptr);
  expect_error<Error>([&] { no_pool.pool(h); }, {"pooling layer"});
}

TEST(ModelsBert, InitialisedAsHuggingFace) {
  manual_seed(1);
  models::BertConfig c = tiny();
  c.vocab_size = 2000;
  c.hidden_size = 64;
  c.pad_token_id = 3;
  models::BertForSequenceClassification m(c);
  for (const auto& [name, p] : m.named_parameters()) {
    if (name.ends_with(".bias")) {
      EXPECT_EQ(p.abs().max().item(), 0.0) << name;
    } else if (name.find("LayerNorm") != std::string::npos) {
      EXPECT_EQ(max_abs_diff(p, ones_like(p)), 0.0) << name;
    }
  }
  const Tensor w = m.bert->embeddings->word_embeddings->weight;  // (2000, 64)
  EXPECT_EQ(w.select(0, 3).abs().max().item(), 0.0);             // the padding row
  const double std = std::sqrt((w * w).mean().item());
  EXPECT_NEAR(std, 0.02, 0.001);
  EXPECT_NEAR(w.mean().item(), 0.0, 0.001);
  const Tensor q = m.bert->layer->at<models::BertLayer>(0)->attention->self->query->weight;
  EXPECT_NEAR(std::sqrt((q * q).mean().item()), 0.02, 0.003);
}

TEST(ModelsBert, PaddingChangesNothingForTheRealPositions) {
  manual_seed(2);
  models::BertForSequenceClassification m(tiny());
  randomize(m);
  m.eval();
  NoGradGuard no_grad;
  const Tensor x = ids({5, 6, 7, 8, 9, 4, 3, 2, 11, 12}, 2);  // (2, 5), no padding
  const Tensor types = ids({0, 0, 1, 1, 1, 0, 0, 0, 1, 1}, 2);
  const Tensor h = m.bert->forward(x, Tensor(), types);
  const Tensor logits = m.forward(x, Tensor(), types);
  // Three padding tokens appended, masked out.
  const Tensor xp = cat({x, zeros({2, 3}, kInt64)}, 1);
  const Tensor mask = cat({ones({2, 5}, kInt64), zeros({2, 3}, kInt64)}, 1);
  const Tensor tp = cat({types, zeros({2, 3}, kInt64)}, 1);
  const Tensor hp = m.bert->forward(xp, mask, tp);
  EXPECT_EQ(hp.shape(), (Shape{2, 8, 16}));
  EXPECT_LT(max_abs_diff(hp.narrow(1, 0, 5), h), 1e-5);
  EXPECT_LT(max_abs_diff(m.forward(xp, mask, tp), logits), 1e-5);
  // A bool mask and a float mask mean the same.
  EXPECT_LT(max_abs_diff(m.forward(xp, mask != 0.0, tp), logits), 1e-5);
  EXPECT_LT(max_abs_diff(m.forward(xp, mask.to(kFloat32), tp), logits), 1e-5);
  // forward(ids) derives the mask from pad_token_id (0) and uses token types 0.
  EXPECT_LT(max_abs_diff(m.forward(xp), m.forward(x)), 1e-5);
  EXPECT_LT(max_abs_diff(m.forward(xp), m.forward(xp, mask)), 1e-6);
  // Without the mask the padding is attended and the outputs change.
  EXPECT_GT(max_abs_diff(m.forward(xp, Tensor(), tp), logits), 1e-4);
}

TEST(ModelsBert, AttentionsAreProbabilitiesOverTheRealKeys) {
  manual_seed(3);
  models::BertForSequenceClassification m(tiny());
  randomize(m);
  m.eval();
  NoGradGuard no_grad;
  const Tensor x = ids({5, 6, 7, 8, 9, 4, 3, 2, 0, 0}, 2);  // second row: 3 real, 2 padding
  std::vector<Tensor> attn;
  const Tensor logits = m.forward(x, x != 0.0, Tensor(), &attn);
  ASSERT_EQ(attn.size(), 2u);
  for (const Tensor& a : attn) {
    ASSERT_EQ(a.shape(), (Shape{2, 4, 5, 5}));
    EXPECT_LT(max_abs_diff(a.sum({-1}), ones({2, 4, 5})), 1e-5);
    EXPECT_EQ(a.select(0, 1).narrow(-1, 3, 2).abs().max().item(), 0.0);  // padded keys
    EXPECT_GT(a.select(0, 0).narrow(-1, 3, 2).min().item(), 0.0);        // real keys
  }
  // The unfused path (attentions requested) agrees with the fused one.
  EXPECT_LT(max_abs_diff(logits, m.forward(x)), 1e-5);
}

TEST(ModelsBert, ForwardEmbedsEqualsForwardOfIds) {
  manual_seed(4);
  models::BertForSequenceClassification m(tiny());
  randomize(m);
  m.eval();
  const Tensor x = ids({5, 6, 7, 8, 9, 4, 3, 2, 0, 0}, 2);
  const Tensor mask = x != 0.0;
  const Tensor types = ids({0, 0, 1, 1, 1, 0, 1, 1, 0, 0}, 2);
  Tensor embeds = m.bert->embeddings->word_embeddings->forward(x).detach();
  embeds.requires_grad_(true);
  const Tensor a = m.forward_embeds(embeds, mask, types);
  EXPECT_EQ(max_abs_diff(a, m.forward(x, mask, types)), 0.0);
  EXPECT_EQ(
      max_abs_diff(m.bert->forward_embeds(embeds, mask, types), m.bert->forward(x, mask, types)),
      0.0);
  // Gradients reach the embeddings (integrated gradients needs them).
  a.select(1, 0).sum().backward();
  ASSERT_TRUE(embeds.grad().defined());
  EXPECT_GT(embeds.grad().select(0, 0).abs().max().item(), 0.0);
  EXPECT_EQ(embeds.grad().shape(), (Shape{2, 5, 16}));
}

TEST(ModelsBert, AdamReducesTheLossOnATinyBatch) {
  manual_seed(5);
  models::BertConfig c = tiny();
  c.hidden_dropout_prob = 0.1;
  c.attention_probs_dropout_prob = 0.1;
  models::BertForSequenceClassification m(c);
  m.train();
  const Tensor x = ids({5, 6, 7, 8, 9, 4, 3, 2, 0, 0, 11, 12, 13, 0, 0, 7, 7, 7, 7, 7}, 4);
  const Tensor y = from_vector(std::vector<int64_t>{0, 1, 2, 1});
  optim::Adam opt(m.parameters(), {.lr = 1e-2});
  auto loss_of = [&] { return nn::functional::cross_entropy(m.forward(x), y); };
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    const Tensor loss = loss_of();
    loss.backward();
    if (step == 0) {
      first = loss.item();
      for (const auto& [name, p] : m.named_parameters())
        ASSERT_TRUE(p.grad().defined()) << name;  // every parameter gets a gradient
    }
    opt.step();
  }
  m.eval();
  last = loss_of().item();
  EXPECT_LT(last, 0.5 * first) << "first " << first << ", last " << last;
  // The padding row of word_embeddings gets no gradient: it stays zero.
  EXPECT_EQ(m.bert->embeddings->word_embeddings->weight.select(0, 0).abs().max().item(), 0.0);
}

// The masked-LM head: its decoder shares the word embeddings, and a few Adam steps learn to
// fill masked positions of a fixed batch (targets -100 elsewhere, as the pipeline makes them).
TEST(ModelsBert, MaskedLmTiesTheDecoderAndLearns) {
  manual_seed(6);
  models::BertConfig c = tiny();
  c.hidden_dropout_prob = c.attention_probs_dropout_prob = 0.0;
  models::BertForMaskedLM m(c);
  EXPECT_EQ(m.decoder->weight.data_ptr<float>(),
            m.bert->embeddings->word_embeddings->weight.data_ptr<float>());
  const auto names = m.state_dict().keys();
  EXPECT_NE(std::find(names.begin(), names.end(), "cls.predictions.transform.dense.weight"),
            names.end());
  EXPECT_EQ(m.bert->pooler, nullptr);  // as Hugging Face's BertForMaskedLM
  const Tensor x = ids({5, 19, 7, 8, 9, 4, 19, 2, 11, 19, 13, 0}, 2);  // 19 = [MASK]
  const Tensor y = ids({-100, 6, -100, -100, -100, -100, 3, -100, -100, 12, -100, -100}, 2);
  EXPECT_EQ(m.forward(x).shape(), (Shape{2, 6, 20}));
  optim::Adam opt(m.parameters(), {.lr = 1e-2});
  auto loss_of = [&] {
    return nn::functional::cross_entropy(m.forward(x).reshape({-1, 20}), y.reshape({-1}));
  };
  const double first = loss_of().item();
  for (int step = 0; step < 40; ++step) {
    opt.zero_grad();
    loss_of().backward();
    opt.step();
  }
  EXPECT_LT(loss_of().item(), 0.2 * first);
}

TEST(ModelsBert, BadInputsNameTheShapes) {
  manual_seed(6);
  models::BertForSequenceClassification m(tiny());
  m.eval();
  const Tensor x = ids({1, 2, 3, 4, 5, 6, 7, 8}, 2);  // (2, 4)
  expect_error<IndexError>([&] { m.forward(ids({1, 2, 25, 4}, 1)); }, {"25", "20 rows"});
  expect_error<ShapeError>(
      [&] {
        m.forward(zeros({1, 13}, kInt64));
      },
      {"(1, 13)", "max_position_embeddings = 12"});
  expect_error<ShapeError>(
      [&] {
        m.forward(x, ones({2, 5}, kInt64));
      },
      {"attention_mask", "(2, 4)", "(2, 5)"});
  expect_error<ShapeError>([&] { m.forward(x, Tensor(), zeros({2}, kInt64)); },
                           {"token_type_ids", "(2, 4)", "(2,)"});
  expect_error<IndexError>([&] { m.forward(x, Tensor(), full({2, 4}, 2, kInt64)); }, {"2 rows"});
  expect_error<ShapeError>([&] { m.forward(zeros({8}, kInt64)); }, {"(B, T)", "(8,)"});
  expect_error<DTypeError>([&] { m.forward(zeros({2, 4})); }, {"int64"});
  expect_error<ShapeError>(
      [&] {
        m.forward_embeds(zeros({2, 4, 8}), Tensor());
      },
      {"(B, T, 16)", "(2, 4, 8)"});

  models::BertConfig bad = tiny();
  bad.num_attention_heads = 5;
  expect_error<ValueError>([&] { models::BertModel b(bad); }, {"num_attention_heads = 5"});
  bad = tiny();
  bad.hidden_act = "swish";
  expect_error<ValueError>([&] { models::BertModel b(bad); }, {"hidden_act", "swish"});
}
