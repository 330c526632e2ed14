// models/seq2seq: shapes and parameter names, padding and causal masks, greedy vs beam search,
// beam search against enumeration on a tiny model, and learning a copy task.
#include "ember/models/seq2seq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "ember/ember.h"
#include "support/expect.h"
#include "support/model_checks.h"

using namespace ember;
using ember::testing::expect_error;

using namespace ember::testing;

namespace {

models::Seq2SeqConfig tiny(int64_t vocab = 11) {
  models::Seq2SeqConfig c;
  c.src_vocab_size = c.tgt_vocab_size = vocab;
  c.d_model = 16;
  c.nhead = 2;
  c.num_encoder_layers = 2;
  c.num_decoder_layers = 2;
  c.dim_feedforward = 32;
  c.dropout = 0.0;
  c.max_len = 16;
  return c;
}

// Summed log-probability of tokens (then <eos> when with_eos) given src, by one teacher-forced
// forward.
double sequence_log_prob(models::Seq2SeqTransformer& m, const Tensor& src,
                         const std::vector<int64_t>& tokens, bool with_eos) {
  NoGradGuard g;
  std::vector<int64_t> in = {m.config.bos_id};
  in.insert(in.end(), tokens.begin(), tokens.end());
  std::vector<int64_t> out = tokens;
  if (with_eos) out.push_back(m.config.eos_id);
  in.resize(out.size());
  const Tensor lp = log_softmax(m.forward(src, ids(in, 1)), -1).select(0, 0);  // (T, V)
  double total = 0;
  for (size_t t = 0; t < out.size(); ++t) total += lp[static_cast<int64_t>(t)][out[t]].item();
  return total;
}

}  // namespace

TEST(ModelsSeq2Seq, ShapesAndNames) {
  manual_seed(0);
  models::Seq2SeqTransformer m(tiny());
  const Tensor logits =
      m.forward(ids({3, 4, 5, 6, 7, 3, 4, 5, 0, 0}, 2), ids({1, 3, 4, 1, 5, 6}, 2));
  EXPECT_EQ(logits.shape(), (Shape{2, 3, 11}));
  const nn::StateDict sd = m.state_dict();
  for (const char* k :
       {"src_embed.weight", "tgt_embed.weight", "encoder.layers.1.self_attn.in_proj_weight",
        "encoder.norm.weight", "decoder.layers.0.multihead_attn.in_proj_weight",
        "decoder.norm.bias", "out_proj.weight", "out_proj.bias"})
    EXPECT_TRUE(sd.contains(k)) << k;
  EXPECT_FALSE(sd.contains("pos.pe"));  // non-persistent
}

TEST(ModelsSeq2Seq, PaddingAndCausalMasks) {
  manual_seed(1);
  models::Seq2SeqTransformer m(tiny());
  m.eval();
  // Row 0 has two padded source positions and a padded target position; alone and unpadded it
  // must give the same logits on its real positions.
  const Tensor src = ids({3, 4, 5, 0, 0, 6, 7, 8, 9, 10}, 2);
  const Tensor tgt = ids({1, 6, 7, 0, 1, 3, 3, 4}, 2);
  const Tensor both = m.forward(src, tgt);
  const Tensor alone = m.forward(ids({3, 4, 5}, 1), ids({1, 6, 7}, 1));
  EXPECT_LT(max_abs_diff(both.select(0, 0).narrow(0, 0, 3), alone.select(0, 0)), 1e-5);
  // Row 1 does not see row 0: changing row 0 leaves row 1 unchanged.
  const Tensor other = m.forward(ids({5, 5, 5, 5, 0, 6, 7, 8, 9, 10}, 2), tgt);
  EXPECT_LT(max_abs_diff(both.select(0, 1), other.select(0, 1)), 1e-6);
  EXPECT_GT(max_abs_diff(both.select(0, 0), other.select(0, 0)), 1e-4);
  // Causal: changing target position 2 leaves positions 0 and 1 unchanged, changes position 2.
  const Tensor changed = m.forward(src, ids({1, 6, 7, 0, 1, 3, 9, 4}, 2));
  EXPECT_LT(max_abs_diff(both.select(0, 1).narrow(0, 0, 2), changed.select(0, 1).narrow(0, 0, 2)),
            1e-6);
  EXPECT_GT(max_abs_diff(both.select(0, 1).narrow(0, 2, 1), changed.select(0, 1).narrow(0, 2, 1)),
            1e-4);
  // The source matters.
  EXPECT_GT(max_abs_diff(m.forward(ids({4, 4, 4}, 1), ids({1, 6, 7}, 1)), alone), 1e-4);
}

TEST(ModelsSeq2Seq, BeamOneIsGreedy) {
  manual_seed(2);
  models::Seq2SeqTransformer m(tiny());
  {
    NoGradGuard g;  // sharper distributions so that <eos> is chosen sometimes
    m.out_proj->weight.mul_(4.0);
  }
  const Tensor src = ids({3, 4, 5, 6, 7, 8, 9, 10, 0, 4, 4, 4, 9, 8, 7, 3, 5, 7, 9, 0}, 4);
  const auto greedy = models::greedy_decode(m, src, 8);
  const auto beam = models::beam_search(m, src, 1, 8, 0.0);
  ASSERT_EQ(greedy.size(), 4u);
  ASSERT_EQ(beam.size(), 4u);
  for (size_t b = 0; b < 4; ++b) {
    EXPECT_EQ(beam[b].tokens, greedy[b]) << b;
    for (int64_t t : greedy[b]) EXPECT_TRUE(t != 0 && t != 1 && t != 2);
    const bool ended = greedy[b].size() < 8;
    EXPECT_NEAR(beam[b].log_prob,
                sequence_log_prob(m, src.narrow(0, static_cast<int64_t>(b), 1), greedy[b], ended),
                1e-4);
  }
  EXPECT_TRUE(m.is_training());  // decoding restores the mode
}

TEST(ModelsSeq2Seq, BeamSearchFindsTheBestSequenceByEnumeration) {
  // Vocabulary <pad> <bos> <eos> a b: every output is a string over {a, b} of length <= 3.
  for (double penalty : {0.0, 1.0}) {
    for (uint64_t seed : {3, 4, 5}) {
      manual_seed(seed);
      models::Seq2SeqTransformer m(tiny(5));
      {
        NoGradGuard g;
        m.out_proj->weight.mul_(3.0);
      }
      const Tensor src = ids({3, 4, 4, 3}, 1);
      const int64_t max_len = 3;
      double best = -1e300;
      std::vector<int64_t> best_tokens;
      std::function<void(std::vector<int64_t>)> visit = [&](std::vector<int64_t> prefix) {
        const auto n = static_cast<int64_t>(prefix.size());
        const bool full = n == max_len;  // finished without <eos>
        const double lp = sequence_log_prob(m, src, prefix, !full);
        const double score = lp / std::pow(static_cast<double>(full ? n : n + 1), penalty);
        if (score > best) best = score, best_tokens = prefix;
        if (full) return;
        for (int64_t t : {3, 4}) {
          auto next = prefix;
          next.push_back(t);
          visit(next);
        }
      };
      visit({});
      const auto found = models::beam_search(m, src, 16, max_len, penalty);
      ASSERT_EQ(found.size(), 1u);
      EXPECT_EQ(found[0].tokens, best_tokens) << "seed " << seed << " penalty " << penalty;
      EXPECT_NEAR(found[0].score, best, 1e-4);
    }
  }
}

TEST(ModelsSeq2Seq, LearnsToCopy) {
  // Copy random strings over 8 symbols (ids 3..10) of length 1..5.
  manual_seed(6);
  models::Seq2SeqConfig c = tiny();
  c.d_model = 32;
  c.dim_feedforward = 64;
  c.num_encoder_layers = c.num_decoder_layers = 1;
  models::Seq2SeqTransformer m(c);
  optim::AdamW opt(m.parameters(), {.lr = 3e-3, .weight_decay = 0.0});
  Generator gen(6);
  auto make = [&](int64_t B) {
    std::vector<std::vector<int64_t>> src, tin, tout;
    for (int64_t b = 0; b < B; ++b) {
      std::vector<int64_t> s;
      const auto len = 1 + static_cast<int64_t>(gen.next_below(5));
      for (int64_t i = 0; i < len; ++i) s.push_back(3 + static_cast<int64_t>(gen.next_below(8)));
      src.push_back(s);
      std::vector<int64_t> in = {1};
      in.insert(in.end(), s.begin(), s.end());
      s.push_back(2);
      tin.push_back(in);
      tout.push_back(s);
    }
    auto pad = [](std::vector<std::vector<int64_t>> v) {
      size_t L = 0;
      for (auto& r : v) L = std::max(L, r.size());
      std::vector<int64_t> flat;
      for (auto& r : v) {
        r.resize(L, 0);
        flat.insert(flat.end(), r.begin(), r.end());
      }
      return ids(flat, static_cast<int64_t>(v.size()));
    };
    return std::tuple{pad(src), pad(tin), pad(tout), src};
  };
  double loss_value = 0;
  for (int step = 0; step < 300; ++step) {
    auto [src, tin, tout, raw] = make(32);
    const Tensor logits = m.forward(src, tin);
    const Tensor loss = nn::functional::cross_entropy(logits.reshape({-1, c.tgt_vocab_size}),
                                                      tout.reshape({-1}), Tensor(), 0);
    opt.zero_grad();
    loss.backward();
    opt.step();
    loss_value = loss.item();
  }
  EXPECT_LT(loss_value, 0.1);
  auto [src, tin, tout, raw] = make(50);
  const auto out = models::greedy_decode(m, src, 8);
  int correct = 0;
  for (size_t i = 0; i < raw.size(); ++i) correct += out[i] == raw[i];
  EXPECT_GE(correct, 45);
  const auto beams = models::beam_search(m, src, 3, 8);
  int beam_correct = 0;
  for (size_t i = 0; i < raw.size(); ++i) beam_correct += beams[i].tokens == raw[i];
  EXPECT_GE(beam_correct, 45);
}

TEST(ModelsSeq2Seq, Errors) {
  models::Seq2SeqConfig bad = tiny();
  bad.nhead = 3;
  expect_error<ValueError>([&] { models::Seq2SeqTransformer m(bad); },
                           {"d_model = 16", "nhead = 3"});
  bad = tiny();
  bad.eos_id = 11;
  expect_error<ValueError>([&] { models::Seq2SeqTransformer m(bad); }, {"special token id 11"});
  models::Seq2SeqTransformer m(tiny());
  expect_error<DTypeError>([&] { m.forward(ones({1, 3}), ids({1}, 1)); }, {"src", "int64"});
  expect_error<IndexError>([&] { m.forward(ids({3, 11}, 1), ids({1}, 1)); }, {"src", "[0, 11)"});
  expect_error<ShapeError>([&] { m.forward(ids({3, 4}, 1), ids({1, 2}, 2)); }, {"same B"});
  expect_error<ShapeError>([&] { m.encode(zeros({1, 17}, kInt64) + 3); }, {"17", "max_len = 16"});
  expect_error<ValueError>([&] { models::beam_search(m, ids({3}, 1), 0, 4); }, {"beam_size = 0"});
  expect_error<ValueError>([&] { models::greedy_decode(m, ids({3}, 1), 16); }, {"max_len = 16"});
}
