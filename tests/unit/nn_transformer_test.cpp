// Transformer modules: shapes, masks, errors, position encodings (sinusoidal, rotary), weight
// tying.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"
#include "support/tmpdir.h"

using namespace ember;

namespace {

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(NnTransformer, MultiheadAttentionShapesAndNames) {
  manual_seed(1);
  nn::MultiheadAttention mha(8, 2);
  EXPECT_EQ(mha.named_parameters().keys(),
            (std::vector<std::string>{"in_proj_weight", "in_proj_bias", "out_proj.weight",
                                      "out_proj.bias"}));
  EXPECT_EQ(mha.in_proj_weight.shape(), (Shape{24, 8}));
  Tensor q = randn({3, 5, 8}), kv = randn({3, 7, 8});
  auto [out, w] = mha.forward(q, kv, kv);
  EXPECT_EQ(out.shape(), (Shape{3, 5, 8}));
  EXPECT_EQ(w.shape(), (Shape{3, 5, 7}));
  EXPECT_TRUE(allclose(w.sum({-1}), ones({3, 5}), 1e-5, 1e-5));
  auto [out2, w2] = mha.forward(q, kv, kv, Tensor(), true, Tensor(), /*average=*/false);
  EXPECT_EQ(w2.shape(), (Shape{3, 2, 5, 7}));
  EXPECT_TRUE(allclose(w2.mean({1}), w, 1e-5, 1e-6));
  auto [out3, w3] = mha.forward(q, kv, kv, Tensor(), /*need_weights=*/false);
  EXPECT_FALSE(w3.defined());
  EXPECT_TRUE(allclose(out3, out, 1e-4, 1e-5));
  EXPECT_EQ(mha(q).shape(), (Shape{3, 5, 8}));
  // Unbatched (T, E).
  auto [u, uw] = mha.forward(q[0], kv[0], kv[0]);
  EXPECT_EQ(u.shape(), (Shape{5, 8}));
  EXPECT_EQ(uw.shape(), (Shape{5, 7}));
  EXPECT_TRUE(allclose(u, out[0], 1e-4, 1e-5));
}

// The fused path (no weights) and the explicit path agree under every kind of mask.
TEST(NnTransformer, MultiheadAttentionMasksAgreeAcrossPaths) {
  manual_seed(2);
  nn::MultiheadAttention mha(12, 3);
  Tensor x = randn({2, 6, 12});
  Tensor kpm = tensor({{0, 0, 0, 0, 1, 1}, {0, 0, 0, 0, 0, 0}}, kInt64) == 1.0;
  Tensor causal_bool = gt(arange(6).reshape({1, 6}), arange(6).reshape({6, 1}));
  Tensor float_mask = randn({6, 6});
  struct Case {
    Tensor kpm, mask;
    bool causal;
  };
  std::vector<Case> cases = {
      {kpm, Tensor(), false},     {Tensor(), causal_bool, false},
      {Tensor(), Tensor(), true}, {kpm, Tensor(), true},
      {kpm, float_mask, false},   {Tensor(), nn::generate_square_subsequent_mask(6), false}};
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Case& c = cases[i];
    auto [a, w] = mha.forward(x, x, x, c.kpm, true, c.mask, true, c.causal);
    auto [b, none] = mha.forward(x, x, x, c.kpm, false, c.mask, true, c.causal);
    EXPECT_TRUE(allclose(a, b, 1e-4, 1e-5));
    if (c.kpm.defined()) {  // padded keys get no weight
      EXPECT_EQ(w[0].narrow(-1, 4, 2).abs().sum().item(), 0.0);
    }
  }
  // is_causal equals the explicit causal mask.
  auto [c1, cw1] = mha.forward(x, x, x, Tensor(), true, Tensor(), true, true);
  auto [c2, cw2] = mha.forward(x, x, x, Tensor(), true, causal_bool);
  EXPECT_TRUE(allclose(c1, c2, 1e-5, 1e-6));
  EXPECT_EQ(triu(cw1, 1).abs().sum().item(), 0.0);
}

TEST(NnTransformer, FullyMaskedQueryGivesZeros) {
  manual_seed(3);
  nn::MultiheadAttention mha(4, 1, 0.0, /*bias=*/false);
  Tensor x = randn({1, 3, 4});
  Tensor mask = zeros({3, 3}, kBool);
  mask.select(0, 1).fill_(1);  // query 1 sees nothing
  auto [a, w] = mha.forward(x, x, x, Tensor(), true, mask);
  auto [b, none] = mha.forward(x, x, x, Tensor(), false, mask);
  EXPECT_EQ(w[0][1].abs().sum().item(), 0.0);
  EXPECT_EQ(a[0][1].abs().sum().item(), 0.0);  // no out_proj bias
  EXPECT_TRUE(allclose(a, b, 1e-5, 1e-6));
  EXPECT_FALSE(any(isnan(a)).item<bool>());
}

TEST(NnTransformer, MultiheadAttentionErrors) {
  std::string msg = message_of([] { nn::MultiheadAttention(10, 3); });
  EXPECT_NE(msg.find("embed_dim (10) must be divisible by num_heads (3)"), std::string::npos)
      << msg;
  EXPECT_THROW(nn::MultiheadAttention(10, 3), ValueError);
  nn::MultiheadAttention mha(8, 2);
  Tensor x = randn({2, 5, 8});
  EXPECT_THROW(mha.forward(x, x, x, Tensor(), true, zeros({5, 4}, kBool)), ShapeError);
  msg = message_of([&] { mha.forward(x, x, x, Tensor(), true, zeros({5, 4}, kBool)); });
  EXPECT_NE(msg.find("attn_mask must be (T, S) = (5, 5)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got (5, 4)"), std::string::npos) << msg;
  msg = message_of([&] { mha.forward(x, x, x, zeros({2, 4}, kBool), false); });
  EXPECT_NE(msg.find("key_padding_mask must be (B, S) = (2, 5), got (2, 4)"), std::string::npos)
      << msg;
  EXPECT_THROW(mha.forward(randn({2, 5, 6}), x, x), ShapeError);
  EXPECT_THROW(mha.forward(x, randn({3, 5, 8}), randn({3, 5, 8})), ShapeError);
  EXPECT_THROW(mha.forward(x, x, x, zeros({2, 5}, kInt64)), DTypeError);
  EXPECT_THROW(nn::TransformerEncoderLayer(8, 2, 16, 0.0, "tanh"), ValueError);
  EXPECT_THROW(nn::TransformerEncoderLayer(8, 3), ValueError);
}

TEST(NnTransformer, EncoderDecoderShapesAndNames) {
  manual_seed(4);
  nn::TransformerLayerOptions o;
  o.d_model = 8, o.nhead = 2, o.dim_feedforward = 16, o.dropout = 0.0;
  nn::TransformerEncoder enc(o, 2, /*final_norm=*/true);
  auto keys = enc.state_dict().keys();
  EXPECT_EQ(keys.front(), "layers.0.self_attn.in_proj_weight");
  EXPECT_EQ(keys.back(), "norm.bias");
  EXPECT_EQ(keys.size(), 2u * 12u + 2u);
  Tensor src = randn({2, 5, 8});
  Tensor mem = enc(src);
  EXPECT_EQ(mem.shape(), (Shape{2, 5, 8}));
  nn::TransformerDecoder dec(o, 2);
  EXPECT_EQ(dec.state_dict().size(), 2u * 18u);
  EXPECT_TRUE(dec.state_dict().contains("layers.1.multihead_attn.out_proj.weight"));
  EXPECT_TRUE(dec.state_dict().contains("layers.1.norm3.weight"));
  Tensor tgt = randn({2, 4, 8});
  Tensor y = dec.forward(tgt, mem, Tensor(), Tensor(), Tensor(), Tensor(), /*causal=*/true);
  EXPECT_EQ(y.shape(), (Shape{2, 4, 8}));
  // Causality: changing the last target token leaves the earlier outputs unchanged.
  Tensor tgt2 = tgt.clone();
  {
    NoGradGuard no_grad;
    tgt2.narrow(1, 3, 1).copy_(randn({2, 1, 8}));
  }
  Tensor y2 = dec.forward(tgt2, mem, Tensor(), Tensor(), Tensor(), Tensor(), true);
  EXPECT_TRUE(allclose(y.narrow(1, 0, 3), y2.narrow(1, 0, 3), 1e-5, 1e-6));
  EXPECT_FALSE(allclose(y.narrow(1, 3, 1), y2.narrow(1, 3, 1), 1e-5, 1e-6));
  // A factory builds custom layers.
  nn::TransformerEncoder custom(
      [] { return std::make_shared<nn::TransformerEncoderLayer>(8, 4, 32, 0.0, "gelu"); }, 3);
  EXPECT_EQ(custom.layers->size(), 3u);
  EXPECT_EQ(custom.layer(2)->options.activation, "gelu");
  EXPECT_EQ(custom.norm, nullptr);
}

TEST(NnTransformer, SinusoidalMatchesFormula) {
  const int64_t T = 7, C = 6;
  Tensor pe = nn::sinusoidal_position_encoding(T, C, kFloat64);
  ASSERT_EQ(pe.shape(), (Shape{T, C}));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < C / 2; ++i) {
      const double a = t / std::pow(10000.0, 2.0 * i / C);
      EXPECT_NEAR(pe.at<double>({t, 2 * i}), std::sin(a), 1e-12);
      EXPECT_NEAR(pe.at<double>({t, 2 * i + 1}), std::cos(a), 1e-12);
    }
  nn::SinusoidalPositionalEncoding enc(C, 16);
  EXPECT_TRUE(enc.state_dict().empty());  // non-persistent buffer
  EXPECT_EQ(enc.buffers().size(), 1u);
  Tensor x = randn({2, 3, C});
  EXPECT_TRUE(allclose(enc.forward(x, 4) - x,
                       pe.narrow(0, 4, 3).to(kFloat32).unsqueeze(0).expand({2, 3, C}), 1e-5, 1e-6));
  EXPECT_THROW(enc.forward(x, 14), IndexError);
  EXPECT_THROW(enc(randn({2, 3, 5})), ShapeError);
}

// <rot(q, m), rot(k, n)> depends only on m - n.
TEST(NnTransformer, RotaryRelativePosition) {
  manual_seed(5);
  const int64_t D = 8;
  nn::RotaryEmbedding rope(D);
  Tensor q = randn({D}, kFloat64), k = randn({D}, kFloat64);
  auto rot_at = [&](const Tensor& v, int64_t pos) {
    return rope.rotate(v.reshape({1, 1, 1, D}), pos).reshape({D});
  };
  const double ref = (rot_at(q, 3) * rot_at(k, 1)).sum().item();
  for (int64_t m : {2, 7, 40, 1000}) {
    const double dotp = (rot_at(q, m) * rot_at(k, m - 2)).sum().item();
    EXPECT_NEAR(dotp, ref, 1e-9) << m;
  }
  EXPECT_GT(std::abs((rot_at(q, 3) * rot_at(k, 0)).sum().item() - ref), 1e-6);
  // A rotation keeps the norm, and position 0 is the identity.
  EXPECT_NEAR(rot_at(q, 17).pow(2).sum().item(), q.pow(2).sum().item(), 1e-9);
  EXPECT_TRUE(allclose(rot_at(q, 0), q));
  // The halves convention: position 1 rotates the pair (x[i], x[i + D/2]) by base^(-2i/D).
  Tensor e0 = zeros({D}, kFloat64);
  {
    NoGradGuard no_grad;
    e0.select(0, 1).fill_(1);
  }
  Tensor r = rot_at(e0, 1);
  const double theta = std::pow(10000.0, -2.0 / D);
  EXPECT_NEAR(r.at<double>({1}), std::cos(theta), 1e-12);
  EXPECT_NEAR(r.at<double>({1 + D / 2}), std::sin(theta), 1e-12);
}

// Rotating T new tokens at offset P equals the last T rows of rotating P + T tokens from 0.
TEST(NnTransformer, RotaryOffsetConsistency) {
  manual_seed(6);
  nn::RotaryEmbedding rope(6, 500.0);
  Tensor x = randn({2, 3, 9, 6});
  Tensor full = rope.rotate(x);
  Tensor tail = rope.rotate(x.narrow(2, 5, 4).contiguous(), 5);
  EXPECT_TRUE(allclose(tail, full.narrow(2, 5, 4), 1e-5, 1e-6));
  auto [c, s] = rope.forward(4, 5);
  EXPECT_EQ(c.shape(), (Shape{4, 6}));
  EXPECT_THROW(nn::RotaryEmbedding(5), ValueError);
  EXPECT_THROW(nn::apply_rotary(x, c, s), ShapeError);  // T = 9 vs 4 does not broadcast
  // Differentiable: float64 gradient check of apply_rotary.
  auto [c64, s64] = rope.forward(3, 2, kFloat64);
  Tensor xg = randn({2, 3, 6}, kFloat64).requires_grad_();
  auto res = autograd::gradcheck(
      [&](const std::vector<Tensor>& in) { return nn::apply_rotary(in[0], c64, s64); }, {xg});
  EXPECT_TRUE(res.ok) << res.detail;
}

// Note: a GPT ties lm_head.weight to wte.weight.
struct TiedLm : nn::Module {
  TiedLm() : Module("TiedLm") {
    wte = register_module("wte", std::make_shared<nn::Embedding>(7, 4));
    lm_head = register_module("lm_head", std::make_shared<nn::Linear>(4, 7, false));
    lm_head->weight = lm_head->replace_parameter("weight", wte->weight);
  }
  Tensor forward(const Tensor& idx) override { return lm_head->forward(wte->forward(idx)); }
  std::shared_ptr<nn::Embedding> wte;
  std::shared_ptr<nn::Linear> lm_head;
};

TEST(NnTransformer, WeightTyingGradientOptimizerAndStateDict) {
  manual_seed(7);
  TiedLm m;
  EXPECT_EQ(m.parameters().size(), 1u);
  EXPECT_EQ(m.named_parameters().keys(), (std::vector<std::string>{"wte.weight"}));
  EXPECT_EQ(m.state_dict().keys(), (std::vector<std::string>{"wte.weight", "lm_head.weight"}));
  EXPECT_EQ(m.lm_head->weight.impl(), m.wte->weight.impl());

  // The gradient is the sum of both uses: compare with an untied copy of the same weight.
  Tensor idx = tensor({{1, 3, 3}, {6, 0, 2}}, kInt64);
  Tensor g = randn({2, 3, 7});
  m(idx).backward(g);
  Tensor w_emb = m.wte->weight.detach().clone().requires_grad_();
  Tensor w_head = m.wte->weight.detach().clone().requires_grad_();
  linear(embedding(w_emb, idx), w_head).backward(g);
  Tensor expected = w_emb.grad() + w_head.grad();
  EXPECT_GT(w_emb.grad().abs().sum().item(), 0.0);
  EXPECT_TRUE(allclose(m.wte->weight.grad(), expected, 1e-5, 1e-6));

  // The optimizer updates the shared tensor once.
  Tensor before = m.wte->weight.detach().clone();
  optim::SGD opt(m.parameters(), {.lr = 0.5});
  opt.step();
  EXPECT_TRUE(allclose(m.wte->weight, before - 0.5 * expected, 1e-5, 1e-6));
  EXPECT_EQ(m.lm_head->weight.impl(), m.wte->weight.impl());

  // state_dict save/load round trip (safetensors): both keys, still tied after loading.
  const auto dir = ember::testing::fresh_dir("NnTransformer", "WeightTying");
  const std::string path = (dir / "tied.safetensors").string();
  io::save_state_dict(m, path);
  TiedLm fresh;
  ASSERT_FALSE(allclose(fresh.wte->weight, m.wte->weight));
  io::load_state_dict(fresh, path);
  EXPECT_TRUE(allclose(fresh.wte->weight, m.wte->weight));
  EXPECT_EQ(fresh.lm_head->weight.impl(), fresh.wte->weight.impl());
  EXPECT_TRUE(allclose(fresh(idx), m(idx)));
  EXPECT_THROW(m.lm_head->replace_parameter("nope", m.wte->weight), ValueError);
}
