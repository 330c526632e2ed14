// nn::MultiheadAttention: torch's packed in-projection, masks, fused or explicit attention.
#include <cmath>
#include <limits>
#include <sstream>

#include "ember/nn/init.h"
#include "ember/nn/transformer.h"
#include "ember/ops/attention.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/linalg.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"

namespace ember::nn {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The masks of one call, each broadcastable to the scores (B, H, T, S):
// masked (bool, true = may not attend) and additive (float, added to the scores).
struct AttentionMask {
  Tensor masked;
  Tensor additive;
  bool any() const { return masked.defined() || additive.defined(); }
};

void add_mask(AttentionMask& m, const Tensor& mask, DType dtype) {
  if (mask.dtype() == kBool) {
    m.masked = m.masked.defined() ? logical_or(m.masked, mask) : mask;
  } else {
    EMBER_CHECK_DTYPE(mask.is_floating_point(),
                      "MultiheadAttention: masks must be bool or floating point, got ",
                      mask.dtype());
    Tensor f = mask.to(dtype);
    m.additive = m.additive.defined() ? m.additive + f : f;
  }
}

// attn_mask (T, S) or (B * H, T, S), key_padding_mask (B, S) and the causal mask, combined.
AttentionMask build_mask(const Tensor& attn_mask, const Tensor& key_padding_mask, bool is_causal,
                         int64_t B, int64_t H, int64_t T, int64_t S, DType dtype) {
  AttentionMask m;
  if (attn_mask.defined()) {
    if (attn_mask.dim() == 2) {
      EMBER_CHECK_SHAPE(attn_mask.size(0) == T && attn_mask.size(1) == S,
                        "MultiheadAttention: attn_mask must be (T, S) = (", T, ", ", S,
                        ") or (B * num_heads, T, S) = (", B * H, ", ", T, ", ", S, "), got ",
                        attn_mask.shape_str());
      add_mask(m, attn_mask, dtype);
    } else {
      EMBER_CHECK_SHAPE(attn_mask.dim() == 3 && attn_mask.size(0) == B * H &&
                            attn_mask.size(1) == T && attn_mask.size(2) == S,
                        "MultiheadAttention: attn_mask must be (T, S) = (", T, ", ", S,
                        ") or (B * num_heads, T, S) = (", B * H, ", ", T, ", ", S, "), got ",
                        attn_mask.shape_str());
      add_mask(m, attn_mask.reshape({B, H, T, S}), dtype);
    }
  }
  if (key_padding_mask.defined()) {
    EMBER_CHECK_SHAPE(key_padding_mask.dim() == 2 && key_padding_mask.size(0) == B &&
                          key_padding_mask.size(1) == S,
                      "MultiheadAttention: key_padding_mask must be (B, S) = (", B, ", ", S,
                      "), got ", key_padding_mask.shape_str());
    add_mask(m, key_padding_mask.reshape({B, 1, 1, S}), dtype);
  }
  if (is_causal) {  // key j > query i is masked
    Tensor causal = gt(arange(S).reshape({1, S}), arange(T).reshape({T, 1}));
    add_mask(m, causal, dtype);
  }
  return m;
}

// The mask in scaled_dot_product_attention's convention (bool true = may attend, or additive).
Tensor sdpa_mask(const AttentionMask& m) {
  if (!m.additive.defined()) return logical_not(m.masked);
  if (!m.masked.defined()) return m.additive;
  return where(logical_not(m.masked), m.additive, -kInf);
}

// q: (B, H, T, D), k: (B, H, S, D), v: (B, H, S, D) -> (out (B, H, T, D), probs (B, H, T, S)),
// with the probabilities materialised. Rows whose keys are all masked (bool) give zeros.
std::tuple<Tensor, Tensor> explicit_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                              const AttentionMask& m, double dropout_p) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  Tensor scores = matmul(q * scale, k.transpose(-2, -1));
  Tensor dead;
  if (m.masked.defined()) {
    dead = sum(logical_not(m.masked).to(scores.dtype()), {-1}, true) == 0.0;
    Tensor masked = logical_and(m.masked, logical_not(dead));
    scores = masked_fill(scores, masked.expand(scores.shape()), -kInf);
  }
  if (m.additive.defined()) scores = scores + m.additive;
  Tensor probs = softmax(scores, -1);
  if (dead.defined()) probs = masked_fill(probs, dead.expand(probs.shape()), 0.0);
  if (dropout_p > 0) probs = ember::dropout(probs, dropout_p, true);
  return {matmul(probs, v), probs};
}

// (B, L, E) -> (B, H, L, D)
Tensor split_heads(const Tensor& x, int64_t H) {
  const int64_t B = x.size(0), L = x.size(1), E = x.size(2);
  return x.reshape({B, L, H, E / H}).transpose(1, 2);
}

}  // namespace

MultiheadAttention::MultiheadAttention(int64_t embed, int64_t heads, double p, bool with_bias)
    : Module("MultiheadAttention"), embed_dim(embed), num_heads(heads), head_dim(0), dropout(p) {
  EMBER_CHECK(embed > 0 && heads > 0,
              "MultiheadAttention: embed_dim and num_heads must be positive, got embed_dim=", embed,
              ", num_heads=", heads);
  EMBER_CHECK(embed % heads == 0, "MultiheadAttention: embed_dim (", embed,
              ") must be divisible by num_heads (", heads, ")");
  EMBER_CHECK(p >= 0 && p <= 1, "MultiheadAttention: dropout must be in [0, 1], got ", p);
  head_dim = embed / heads;
  in_proj_weight = register_parameter("in_proj_weight", empty({3 * embed, embed}));
  if (with_bias) in_proj_bias = register_parameter("in_proj_bias", empty({3 * embed}));
  out_proj = register_module("out_proj", std::make_shared<Linear>(embed, embed, with_bias));
  reset_parameters();
}

void MultiheadAttention::reset_parameters() {
  init::xavier_uniform_(in_proj_weight);
  if (in_proj_bias.defined()) init::zeros_(in_proj_bias);
  if (out_proj->bias.defined()) init::zeros_(out_proj->bias);
}

std::tuple<Tensor, Tensor> MultiheadAttention::forward(const Tensor& query, const Tensor& key,
                                                       const Tensor& value,
                                                       const Tensor& key_padding_mask,
                                                       bool need_weights, const Tensor& attn_mask,
                                                       bool average_attn_weights, bool is_causal) {
  EMBER_CHECK(query.defined() && key.defined() && value.defined(),
              "MultiheadAttention: query, key and value must be defined");
  const int64_t E = embed_dim, H = num_heads;
  // Unbatched (T, E) inputs: run as a batch of one.
  if (query.dim() == 2 && key.dim() == 2 && value.dim() == 2) {
    EMBER_CHECK_SHAPE(!key_padding_mask.defined() || key_padding_mask.dim() == 1,
                      "MultiheadAttention: unbatched inputs take a key_padding_mask (S), got ",
                      key_padding_mask.shape_str());
    const bool self = query.impl() == key.impl() && key.impl() == value.impl();
    Tensor q = query.unsqueeze(0);
    Tensor k = self ? q : key.unsqueeze(0);
    Tensor v = self ? q : value.unsqueeze(0);
    auto [out, w] =
        forward(q, k, v, key_padding_mask.defined() ? key_padding_mask.unsqueeze(0) : Tensor(),
                need_weights, attn_mask, average_attn_weights, is_causal);
    return {out.squeeze(0), w.defined() ? w.squeeze(0) : w};
  }
  EMBER_CHECK_SHAPE(query.dim() == 3 && key.dim() == 3 && value.dim() == 3,
                    "MultiheadAttention: expected query (B, T, E), key and value (B, S, E) "
                    "(batch_first), got query ",
                    query.shape_str(), ", key ", key.shape_str(), ", value ", value.shape_str());
  const int64_t B = query.size(0), T = query.size(1), S = key.size(1);
  EMBER_CHECK_SHAPE(
      query.size(2) == E && key.size(2) == E && value.size(2) == E,
      "MultiheadAttention: the last dim of query, key and value must be embed_dim = ", E,
      ", got query ", query.shape_str(), ", key ", key.shape_str(), ", value ", value.shape_str());
  EMBER_CHECK_SHAPE(key.size(0) == B && value.size(0) == B && value.size(1) == S,
                    "MultiheadAttention: query ", query.shape_str(), ", key ", key.shape_str(),
                    " and value ", value.shape_str(),
                    " must share the batch size, and key and value the length");

  // In-projection with the packed (3E, E) weight: one GEMM for self-attention.
  auto w_part = [&](int64_t i, int64_t n) { return in_proj_weight.narrow(0, i * E, n * E); };
  auto b_part = [&](int64_t i, int64_t n) {
    return in_proj_bias.defined() ? in_proj_bias.narrow(0, i * E, n * E) : Tensor();
  };
  Tensor q, k, v;
  if (query.impl() == key.impl() && key.impl() == value.impl()) {
    auto qkv = linear(query, in_proj_weight, in_proj_bias).chunk(3, -1);
    q = qkv[0], k = qkv[1], v = qkv[2];
  } else if (key.impl() == value.impl()) {
    q = linear(query, w_part(0, 1), b_part(0, 1));
    auto kv = linear(key, w_part(1, 2), b_part(1, 2)).chunk(2, -1);
    k = kv[0], v = kv[1];
  } else {
    q = linear(query, w_part(0, 1), b_part(0, 1));
    k = linear(key, w_part(1, 1), b_part(1, 1));
    v = linear(value, w_part(2, 1), b_part(2, 1));
  }
  q = split_heads(q, H), k = split_heads(k, H), v = split_heads(v, H);  // (B, H, L, D)

  const double p = is_training() ? dropout : 0.0;
  Tensor out, weights;
  if (need_weights) {
    AttentionMask m = build_mask(attn_mask, key_padding_mask, is_causal, B, H, T, S, q.dtype());
    std::tie(out, weights) = explicit_attention(q, k, v, m, p);
    if (average_attn_weights) weights = mean(weights, {1});
  } else if (is_causal && !attn_mask.defined() && !key_padding_mask.defined()) {
    out = scaled_dot_product_attention(q, k, v, Tensor(), p, /*is_causal=*/true);
  } else {
    AttentionMask m = build_mask(attn_mask, key_padding_mask, is_causal, B, H, T, S, q.dtype());
    out = scaled_dot_product_attention(q, k, v, m.any() ? sdpa_mask(m) : Tensor(), p);
  }
  out = out.transpose(1, 2).reshape({B, T, E});  // (B, H, T, D) -> (B, T, E)
  return {out_proj->forward(out), weights};
}

Tensor MultiheadAttention::forward(const Tensor& x) {
  return std::get<0>(forward(x, x, x, Tensor(), /*need_weights=*/false));
}

std::string MultiheadAttention::extra_repr() const {
  std::ostringstream os;
  os << "embed_dim=" << embed_dim << ", num_heads=" << num_heads << ", dropout=" << dropout
     << ", batch_first=True";
  return os.str();
}

}  // namespace ember::nn
