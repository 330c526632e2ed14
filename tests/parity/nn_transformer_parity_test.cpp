// MultiheadAttention, Transformer encoder/decoder layers and stacks against libtorch (batch first
// on our side, sequence first on libtorch's): outputs, attention weights, input and parameter
// grads.
#include <functional>
#include <set>

#include "support/torch_bridge.h"

using namespace ember;
using ember::testing::expect_parity;
using ember::testing::to_torch;

namespace {

constexpr double kTol = 2e-4;  // float32, a few chained GEMMs, softmax and LayerNorm

// Copies our parameters into theirs by name; the two modules must have the same names.
void copy_parameters(const nn::Module& ours, torch::nn::Module& theirs) {
  torch::NoGradGuard no_grad;
  auto params = theirs.named_parameters();
  std::set<std::string> torch_names, our_names;
  for (const auto& item : params) torch_names.insert(item.key());
  for (const auto& [name, t] : ours.named_parameters()) our_names.insert(name);
  EXPECT_EQ(our_names, torch_names);
  for (const auto& [name, t] : ours.named_parameters()) {
    torch::Tensor* target = params.find(name);
    ASSERT_NE(target, nullptr) << "torch module has no " << name;
    target->copy_(to_torch(t));
  }
}

void compare_parameter_grads(const nn::Module& ours, torch::nn::Module& theirs,
                             const std::string& what) {
  auto tparams = theirs.named_parameters();
  for (const auto& [name, p] : ours.named_parameters()) {
    const torch::Tensor* tp = tparams.find(name);
    ASSERT_NE(tp, nullptr) << name;
    ASSERT_TRUE(p.grad().defined()) << what << ": no grad for " << name;
    expect_parity(p.grad(), tp->grad(), kTol, what + " grad " + name);
  }
}

// (B, T, E) <-> libtorch's (T, B, E)
torch::Tensor seq_first(const torch::Tensor& x) {
  return x.transpose(0, 1);
}

// Runs ours and theirs on the same batch-first inputs (each gets its own leaf copies), compares
// the outputs, then back-propagates the same random upstream gradients and compares the input and
// parameter gradients.
using OurFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
using TorchFn = std::function<std::vector<torch::Tensor>(const std::vector<torch::Tensor>&)>;

void compare(const std::string& what, const nn::Module& ours, torch::nn::Module& theirs,
             const std::vector<Tensor>& inputs, const OurFn& our_fn, const TorchFn& torch_fn) {
  SCOPED_TRACE(what);
  copy_parameters(ours, theirs);
  std::vector<Tensor> xs;
  std::vector<torch::Tensor> txs;
  for (const Tensor& in : inputs) {
    xs.push_back(in.detach().clone().requires_grad_());
    txs.push_back(to_torch(in).requires_grad_());
  }
  std::vector<Tensor> ys = our_fn(xs);
  std::vector<torch::Tensor> tys = torch_fn(txs);
  ASSERT_EQ(ys.size(), tys.size());
  Tensor loss = zeros({});
  torch::Tensor tloss = torch::zeros({});
  for (size_t i = 0; i < ys.size(); ++i) {
    expect_parity(ys[i], tys[i], kTol, what + " output " + std::to_string(i));
    Tensor g = randn(ys[i].shape());
    loss = loss + sum(ys[i] * g);
    tloss = tloss + (tys[i] * to_torch(g)).sum();
  }
  loss.backward();
  tloss.backward();
  for (size_t i = 0; i < xs.size(); ++i)
    expect_parity(xs[i].grad(), txs[i].grad(), kTol, what + " input grad " + std::to_string(i));
  compare_parameter_grads(ours, theirs, what);
}

Tensor padding_mask(std::vector<int64_t> lengths, int64_t S) {  // (B, S) bool, true = padding
  std::vector<int64_t> v;
  for (int64_t len : lengths)
    for (int64_t s = 0; s < S; ++s) v.push_back(s >= len);
  return from_vector(v, {static_cast<int64_t>(lengths.size()), S}) == 1.0;
}

// Note: libtorch 1.13's C++ MultiheadAttention adds a bool attn_mask as 0/1 (Python's converts it
// to -inf where true) and rejects (B * H, T, S) masks, so its side gets the additive float mask
// that Python builds, and the 3-d case is checked against the formula written with libtorch ops.
torch::Tensor torch_additive(const Tensor& bool_mask) {
  return torch::zeros(std::vector<int64_t>(bool_mask.shape().begin(), bool_mask.shape().end()))
      .masked_fill(to_torch(bool_mask), -INFINITY);
}

// ---- MultiheadAttention ----

TEST(NnTransformerParity, MultiheadAttentionSelfAveragedWeights) {
  manual_seed(1);
  nn::MultiheadAttention ours(16, 4);
  torch::nn::MultiheadAttention theirs(torch::nn::MultiheadAttentionOptions(16, 4));
  compare(
      "self", ours, *theirs, {randn({3, 6, 16})},
      [&](const std::vector<Tensor>& x) {
        auto [o, w] = ours.forward(x[0], x[0], x[0]);
        return std::vector<Tensor>{o, w};
      },
      [&](const std::vector<torch::Tensor>& x) {
        torch::Tensor q = seq_first(x[0]);
        auto [o, w] = theirs->forward(q, q, q);
        return std::vector<torch::Tensor>{seq_first(o), w};
      });
}

TEST(NnTransformerParity, MultiheadAttentionCrossMasksPerHeadWeights) {
  manual_seed(2);
  nn::MultiheadAttention ours(12, 3);
  torch::nn::MultiheadAttention theirs(torch::nn::MultiheadAttentionOptions(12, 3));
  Tensor kpm = padding_mask({7, 4}, 7);
  Tensor mask = rand({5, 7}) > 0.7;
  {
    NoGradGuard no_grad;
    mask.narrow(1, 0, 1).fill_(0);  // every query keeps key 0
  }
  std::vector<Tensor> inputs = {randn({2, 5, 12}), randn({2, 7, 12}), randn({2, 7, 12})};
  for (int variant = 0; variant < 4; ++variant) {
    Tensor kp = variant & 1 ? kpm : Tensor(), am = variant & 2 ? mask : Tensor();
    compare(
        "cross, masks " + std::to_string(variant), ours, *theirs, inputs,
        [&](const std::vector<Tensor>& x) {
          auto [o, w] = ours.forward(x[0], x[1], x[2], kp, true, am, /*average=*/false);
          return std::vector<Tensor>{o, w};
        },
        [&](const std::vector<torch::Tensor>& x) {
          auto [o, w] = theirs->forward(seq_first(x[0]), seq_first(x[1]), seq_first(x[2]),
                                        kp.defined() ? to_torch(kp) : torch::Tensor(), true,
                                        am.defined() ? torch_additive(am) : torch::Tensor(), false);
          return std::vector<torch::Tensor>{seq_first(o), w};
        });
  }
}

TEST(NnTransformerParity, MultiheadAttentionFusedPathFloatAnd3dMasks) {
  manual_seed(3);
  nn::MultiheadAttention ours(8, 2);
  torch::nn::MultiheadAttention theirs(torch::nn::MultiheadAttentionOptions(8, 2));
  Tensor kpm = padding_mask({5, 3}, 5);
  Tensor float_mask = randn({5, 5});
  compare(
      "float mask, no weights", ours, *theirs, {randn({2, 5, 8})},
      [&](const std::vector<Tensor>& x) {
        return std::vector<Tensor>{
            std::get<0>(ours.forward(x[0], x[0], x[0], kpm, false, float_mask))};
      },
      [&](const std::vector<torch::Tensor>& x) {
        torch::Tensor q = seq_first(x[0]);
        return std::vector<torch::Tensor>{seq_first(
            std::get<0>(theirs->forward(q, q, q, to_torch(kpm), false, to_torch(float_mask))))};
      });
  Tensor mask3 = rand({2 * 2, 4, 6}) > 0.6;
  {
    NoGradGuard no_grad;
    mask3.narrow(2, 5, 1).fill_(0);
  }
  // softmax(q k^T / sqrt(D), masked) v per head, with libtorch's parameters. q: (B, T, E).
  auto reference = [&](const torch::Tensor& query, const torch::Tensor& kv) {
    const int64_t B = query.size(0), T = query.size(1), S = kv.size(1), E = 8, H = 2, D = 4;
    torch::Tensor w = theirs->in_proj_weight, b = theirs->in_proj_bias;
    auto heads = [&](const torch::Tensor& x, int64_t i) {
      torch::Tensor y = torch::linear(x, w.narrow(0, i * E, E), b.narrow(0, i * E, E));
      return y.reshape({B, -1, H, D}).transpose(1, 2);
    };
    torch::Tensor q = heads(query, 0), k = heads(kv, 1), v = heads(kv, 2);
    torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(double(D));
    scores = scores.masked_fill(to_torch(mask3).reshape({B, H, T, S}), -INFINITY);
    torch::Tensor out = torch::matmul(torch::softmax(scores, -1), v);
    return theirs->out_proj->forward(out.transpose(1, 2).reshape({B, T, E}));
  };
  compare(
      "(B*H, T, S) mask, key == value", ours, *theirs, {randn({2, 4, 8}), randn({2, 6, 8})},
      [&](const std::vector<Tensor>& x) {
        return std::vector<Tensor>{
            std::get<0>(ours.forward(x[0], x[1], x[1], Tensor(), false, mask3))};
      },
      [&](const std::vector<torch::Tensor>& x) {
        return std::vector<torch::Tensor>{reference(x[0], x[1])};
      });
}

// ---- encoder and decoder layers ----

// torch.nn.TransformerEncoderLayer.forward with norm_first=True, written with libtorch's layer's
// children (libtorch's C++ layer has only post-norm).
torch::Tensor torch_encoder_pre_norm(torch::nn::TransformerEncoderLayer& l, const torch::Tensor& x,
                                     const torch::Tensor& kpm, bool gelu) {
  auto sa = [&](const torch::Tensor& h) {
    torch::Tensor s = seq_first(h);
    return seq_first(std::get<0>(l->self_attn->forward(s, s, s, kpm, false)));
  };
  auto ff = [&](const torch::Tensor& h) {
    torch::Tensor a = l->linear1->forward(h);
    return l->linear2->forward(gelu ? torch::gelu(a) : torch::relu(a));
  };
  torch::Tensor y = x + sa(l->norm1->forward(x));
  return y + ff(l->norm2->forward(y));
}

TEST(NnTransformerParity, EncoderLayerPostAndPreNorm) {
  manual_seed(4);
  for (bool norm_first : {false, true})
    for (const std::string act : {"relu", "gelu"}) {
      const std::string what = std::string(norm_first ? "pre" : "post") + "-norm " + act;
      nn::TransformerEncoderLayer ours(16, 4, 32, 0.0, act, 1e-5, norm_first);
      auto opts = torch::nn::TransformerEncoderLayerOptions(16, 4).dim_feedforward(32).dropout(0.0);
      if (act == "gelu") opts.activation(torch::kGELU);
      torch::nn::TransformerEncoderLayer theirs(opts);
      Tensor kpm = padding_mask({6, 4}, 6);
      compare(
          what, ours, *theirs, {randn({2, 6, 16})},
          [&](const std::vector<Tensor>& x) {
            return std::vector<Tensor>{ours.forward(x[0], Tensor(), kpm)};
          },
          [&](const std::vector<torch::Tensor>& x) {
            if (norm_first)
              return std::vector<torch::Tensor>{
                  torch_encoder_pre_norm(theirs, x[0], to_torch(kpm), act == "gelu")};
            return std::vector<torch::Tensor>{
                seq_first(theirs->forward(seq_first(x[0]), {}, to_torch(kpm)))};
          });
    }
}

// torch.nn.TransformerDecoderLayer.forward with norm_first=True, from libtorch's children.
torch::Tensor torch_decoder_pre_norm(torch::nn::TransformerDecoderLayer& l, const torch::Tensor& x,
                                     const torch::Tensor& mem, const torch::Tensor& tgt_mask,
                                     const torch::Tensor& mem_kpm) {
  torch::Tensor m = seq_first(mem);
  auto sa = [&](const torch::Tensor& h) {
    torch::Tensor s = seq_first(h);
    return seq_first(std::get<0>(l->self_attn->forward(s, s, s, {}, false, tgt_mask)));
  };
  auto mha = [&](const torch::Tensor& h) {
    return seq_first(std::get<0>(l->multihead_attn->forward(seq_first(h), m, m, mem_kpm, false)));
  };
  auto ff = [&](const torch::Tensor& h) {
    return l->linear2->forward(torch::relu(l->linear1->forward(h)));
  };
  torch::Tensor y = x + sa(l->norm1->forward(x));
  y = y + mha(l->norm2->forward(y));
  return y + ff(l->norm3->forward(y));
}

TEST(NnTransformerParity, DecoderLayerCausalAndMemoryPadding) {
  manual_seed(5);
  const int64_t T = 5, S = 7;
  Tensor mem_kpm = padding_mask({7, 3}, S);
  torch::Tensor causal = to_torch(nn::generate_square_subsequent_mask(T));
  for (bool norm_first : {false, true}) {
    const std::string what = norm_first ? "pre-norm decoder" : "post-norm decoder";
    nn::TransformerDecoderLayer ours(16, 2, 24, 0.0, "relu", 1e-5, norm_first);
    torch::nn::TransformerDecoderLayer theirs(
        torch::nn::TransformerDecoderLayerOptions(16, 2).dim_feedforward(24).dropout(0.0));
    compare(
        what, ours, *theirs, {randn({2, T, 16}), randn({2, S, 16})},
        [&](const std::vector<Tensor>& x) {
          return std::vector<Tensor>{
              ours.forward(x[0], x[1], Tensor(), Tensor(), Tensor(), mem_kpm, /*causal=*/true)};
        },
        [&](const std::vector<torch::Tensor>& x) {
          if (norm_first)
            return std::vector<torch::Tensor>{
                torch_decoder_pre_norm(theirs, x[0], x[1], causal, to_torch(mem_kpm))};
          return std::vector<torch::Tensor>{seq_first(theirs->forward(
              seq_first(x[0]), seq_first(x[1]), causal, {}, {}, to_torch(mem_kpm)))};
        });
  }
}

// ---- stacks ----

TEST(NnTransformerParity, EncoderAndDecoderStacks) {
  manual_seed(6);
  nn::TransformerLayerOptions o;
  o.d_model = 12, o.nhead = 3, o.dim_feedforward = 20, o.dropout = 0.0, o.activation = "gelu";
  nn::TransformerEncoder enc(o, 2, /*final_norm=*/true);
  torch::nn::TransformerEncoder tenc(
      torch::nn::TransformerEncoderOptions(
          torch::nn::TransformerEncoderLayer(torch::nn::TransformerEncoderLayerOptions(12, 3)
                                                 .dim_feedforward(20)
                                                 .dropout(0.0)
                                                 .activation(torch::kGELU)),
          2)
          .norm(torch::nn::AnyModule(torch::nn::LayerNorm(torch::nn::LayerNormOptions({12})))));
  Tensor kpm = padding_mask({6, 5}, 6);
  compare(
      "encoder stack", enc, *tenc, {randn({2, 6, 12})},
      [&](const std::vector<Tensor>& x) {
        return std::vector<Tensor>{enc.forward(x[0], Tensor(), kpm)};
      },
      [&](const std::vector<torch::Tensor>& x) {
        return std::vector<torch::Tensor>{
            seq_first(tenc->forward(seq_first(x[0]), {}, to_torch(kpm)))};
      });

  o.activation = "relu";
  nn::TransformerDecoder dec(o, 2, true);
  torch::nn::TransformerDecoder tdec(
      torch::nn::TransformerDecoderOptions(
          torch::nn::TransformerDecoderLayer(
              torch::nn::TransformerDecoderLayerOptions(12, 3).dim_feedforward(20).dropout(0.0)),
          2)
          .norm(torch::nn::AnyModule(torch::nn::LayerNorm(torch::nn::LayerNormOptions({12})))));
  Tensor tgt_kpm = padding_mask({4, 3}, 4);
  torch::Tensor causal = to_torch(nn::generate_square_subsequent_mask(4));
  compare(
      "decoder stack", dec, *tdec, {randn({2, 4, 12}), randn({2, 6, 12})},
      [&](const std::vector<Tensor>& x) {
        return std::vector<Tensor>{
            dec.forward(x[0], x[1], Tensor(), Tensor(), tgt_kpm, kpm, /*causal=*/true)};
      },
      [&](const std::vector<torch::Tensor>& x) {
        return std::vector<torch::Tensor>{seq_first(tdec->forward(
            seq_first(x[0]), seq_first(x[1]), causal, {}, to_torch(tgt_kpm), to_torch(kpm)))};
      });
}

}  // namespace
