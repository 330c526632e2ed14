// scaled_dot_product_attention: checks, the fused flash-style kernels with a recomputing backward,
// and the composite (matmul / softmax / matmul) path for dropout and double backward.
#include "ember/ops/attention.h"

#include <cmath>

#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/linalg.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;

namespace {

// Shapes of an attention call, with the leading (batch) dims common to q, k and v.
struct AttnShape {
  Shape lead;
  int64_t T, S, D, Dv;
};

AttnShape check_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                          double dropout_p, bool is_causal) {
  const char* op = "scaled_dot_product_attention";
  ops::check_defined(q, op, "query");
  ops::check_defined(k, op, "key");
  ops::check_defined(v, op, "value");
  EMBER_CHECK_DTYPE(q.is_floating_point(), op, ": query must be floating point, got ", q.dtype());
  EMBER_CHECK_DTYPE(k.dtype() == q.dtype() && v.dtype() == q.dtype(), op,
                    ": query, key and value must have one dtype, got ", q.dtype(), ", ", k.dtype(),
                    ", ", v.dtype());
  ops::check_same_device(q, k, op);
  ops::check_same_device(q, v, op);
  EMBER_CHECK_SHAPE(q.dim() >= 2 && k.dim() == q.dim() && v.dim() == q.dim(), op,
                    ": expected query (*, T, D), key (*, S, D), value (*, S, Dv) with the same "
                    "number of dims >= 2, got ",
                    q.shape_str(), ", ", k.shape_str(), ", ", v.shape_str());
  AttnShape s{Shape(q.shape().begin(), q.shape().end() - 2), q.size(-2), k.size(-2), q.size(-1),
              v.size(-1)};
  bool ok = k.size(-1) == s.D && v.size(-2) == s.S;
  for (int64_t d = 0; ok && d < q.dim() - 2; ++d)
    ok = k.size(d) == q.size(d) && v.size(d) == q.size(d);
  EMBER_CHECK_SHAPE(ok, op,
                    ": expected query (*, T, D), key (*, S, D), value (*, S, Dv) with equal ",
                    "leading dims, got ", q.shape_str(), ", ", k.shape_str(), ", ", v.shape_str());
  EMBER_CHECK(dropout_p >= 0 && dropout_p < 1, op, ": dropout_p must be in [0, 1), got ",
              dropout_p);
  if (mask.defined()) {
    EMBER_CHECK(!is_causal, op, ": is_causal may not be combined with an explicit attn_mask");
    EMBER_CHECK_DTYPE(mask.dtype() == kBool || mask.dtype() == q.dtype(), op,
                      ": attn_mask must be bool or the query's dtype ", q.dtype(), ", got ",
                      mask.dtype());
    ops::check_same_device(q, mask, op);
    Shape full = s.lead;
    full.push_back(s.T);
    full.push_back(s.S);
    bool bc = mask.dim() <= static_cast<int64_t>(full.size());
    for (int64_t i = 1; bc && i <= mask.dim(); ++i) {
      const int64_t m = mask.size(-i), f = full[full.size() - static_cast<size_t>(i)];
      bc = m == f || m == 1;
    }
    EMBER_CHECK_SHAPE(bc, op, ": attn_mask of shape ", mask.shape_str(),
                      " does not broadcast to the scores' shape ", detail::shape_to_string(full));
  }
  return s;
}

// The mask as an additive float bias of q's dtype, in its own (unbroadcast) shape: 0 where a key
// may be attended, -inf where not; the causal mask as a (T, S) bias. Undefined without a mask.
Tensor additive_mask(const Tensor& mask, bool is_causal, int64_t T, int64_t S, DType dtype,
                     Device device) {
  NoGradGuard no_grad;
  if (is_causal) {
    const Tensor allowed = tril(ones({T, S}, Options(kBool, device)));
    return where(allowed, zeros({}, Options(dtype, device)), -INFINITY);
  }
  if (!mask.defined() || mask.dtype() != kBool) return mask.defined() ? mask.detach() : mask;
  return where(mask, zeros({}, Options(dtype, device)), -INFINITY);
}

// softmax(q k^T * scale + bias) with history, zeros on rows whose keys are all masked.
Tensor attention_probs(const Tensor& q, const Tensor& k, const Tensor& bias, double scale) {
  Tensor scores = matmul(q, transpose(k, -2, -1)) * scale;
  if (!bias.defined()) return softmax(scores, -1);
  scores = scores + bias;
  Tensor dead;
  {
    NoGradGuard no_grad;
    dead = amax(scores.detach(), {-1}, true) == -INFINITY;  // (*, T, 1)
  }
  return masked_fill(softmax(masked_fill(scores, dead, 0.0), -1), dead, 0.0);
}

}  // namespace

namespace detail {

/// The composite attention (materializes the (T, S) probabilities): dropout and double backward.
Tensor attention_composite(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                           double dropout_p, double scale, Generator* gen) {
  Tensor p = attention_probs(q, k, bias, scale);
  if (dropout_p > 0) p = dropout(p, dropout_p, true, gen);
  return matmul(p, v);
}

}  // namespace detail

namespace {

using backend::Backend;

// t: (*, R, C) as a 4-d view (A, H, R, C): H the last leading dim, A the others merged. Undefined
// when the leading dims other than the last cannot be merged into one stride.
Tensor as_4d(const Tensor& t) {
  const int64_t n = t.dim() - 2;
  const int64_t R = t.size(-2), C = t.size(-1);
  int64_t A = 1, H = 1, sA = 0, sH = 0;
  if (n >= 1) {
    H = t.size(n - 1);
    sH = t.stride(n - 1);
    bool first = true;
    for (int64_t d = n - 2; d >= 0; --d) {
      if (t.size(d) == 1) continue;
      if (first) {
        sA = t.stride(d);
        first = false;
      } else if (t.stride(d) != sA * A) {
        return Tensor();
      }
      A *= t.size(d);
    }
  }
  return detail::make_view(t, {A, H, R, C}, {sA, sH, t.stride(-2), t.stride(-1)}, t.offset());
}

// A detached 4-d view of q, k or v the kernels can read (unit stride along a row, rows apart by
// at least a row), copying to contiguous memory only when needed.
Tensor kernel_view(const Tensor& t) {
  const Tensor d = t.detach();
  const int64_t R = t.size(-2), C = t.size(-1);
  const bool rows_ok = (t.stride(-1) == 1 || C == 1) && (t.stride(-2) >= C || R == 1);
  if (rows_ok) {
    Tensor v = as_4d(d);
    if (v.defined()) {
      if (R == 1 || C == 1)  // BLAS wants ld >= C and unit column stride, even where unused
        v = detail::make_view(v, v.shape(), {v.stride(0), v.stride(1), R == 1 ? C : v.stride(2), 1},
                              v.offset());
      return v;
    }
  }
  return as_4d(contiguous(d));
}

// The additive bias broadcast to (lead..., T, S) as a 4-d view (stride 0 where broadcast).
Tensor bias_view(const Tensor& bias, const Shape& lead, int64_t T, int64_t S) {
  if (!bias.defined()) return bias;
  Shape full = lead;
  full.push_back(T);
  full.push_back(S);
  const Tensor b = ops::broadcast_view(bias, full);
  const Tensor v = as_4d(b);
  return v.defined() ? v : as_4d(contiguous(b));
}

// A contiguous (lead..., R, C) tensor as the kernels' (A, H, R, C).
Tensor out4(const Tensor& t, const Backend::AttentionParams& p, int64_t R, int64_t C) {
  return detail::make_view(t, {p.A, p.H, R, C}, {p.H * R * C, R * C, C, 1}, t.offset());
}

Tensor contiguous_detached(const Tensor& t) {
  Tensor d = t.detach();
  return d.is_contiguous() ? d : contiguous(d);
}

// Gradients of the composite attention with ember ops (differentiable: create_graph).
std::vector<Tensor> attention_grad_composite(const Tensor& g, const Tensor& q, const Tensor& k,
                                             const Tensor& v, const Tensor& bias, double scale) {
  const Tensor p = attention_probs(q, k, bias, scale);
  const Tensor dv = matmul(transpose(p, -2, -1), g);
  const Tensor dp = matmul(g, transpose(v, -2, -1));
  const Tensor ds = p * (dp - sum(dp * p, {-1}, true));
  return {matmul(ds, k) * scale, matmul(transpose(ds, -2, -1), q) * scale, dv};
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale, Generator* gen) {
  const AttnShape s = check_attention(q, k, v, attn_mask, dropout_p, is_causal);
  const double sc = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(s.D));
  // Dropout needs the probabilities themselves: the composite path materializes them (T, S).
  if (dropout_p > 0 || q.numel() == 0 || k.numel() == 0 || v.numel() == 0) {
    const Tensor bias = additive_mask(attn_mask, is_causal, s.T, s.S, q.dtype(), q.device());
    return detail::attention_composite(q, k, v, bias, dropout_p, sc, gen);
  }
  const Tensor bias = additive_mask(attn_mask, false, s.T, s.S, q.dtype(), q.device());
  const Tensor q4 = kernel_view(q), k4 = kernel_view(k), v4 = kernel_view(v);
  const Tensor b4 = bias_view(bias, s.lead, s.T, s.S);
  const Backend::AttentionParams p{q4.size(0), q4.size(1), s.T, s.S, s.D, s.Dv, sc, is_causal};
  Shape out_shape = s.lead, lse_shape = s.lead;
  out_shape.push_back(s.T);
  out_shape.push_back(s.Dv);
  lse_shape.push_back(s.T);
  Tensor out = detail::make_tensor(out_shape, q.dtype(), q.device());
  // Note [Attention backward numerics]: lse in float64
  Tensor lse = detail::make_tensor(lse_shape, kFloat64, q.device());
  ops::kernels(q).attention_forward(q4, k4, v4, b4, p, out4(out, p, s.T, s.Dv), lse);

  autograd::record(
      "ScaledDotProductAttentionBackward", out, {q, k, v},
      [sq = SavedTensor(q), sk = SavedTensor(k), sv = SavedTensor(v),
       so = SavedTensor(out.detach()), lse, bias, is_causal, sc, p](const Tensor& g) {
        const char* name = "ScaledDotProductAttentionBackward";
        const Tensor qs = sq.get(name), ks = sk.get(name), vs = sv.get(name);
        if (GradMode::is_enabled()) {
          const Tensor b =
              is_causal ? additive_mask(Tensor(), true, p.T, p.S, qs.dtype(), qs.device()) : bias;
          return attention_grad_composite(g, qs, ks, vs, b, sc);
        }
        const Tensor o = so.get(name);
        const Tensor gc = contiguous_detached(ops::cast(g, qs.dtype()));
        Tensor dq = detail::make_tensor(qs.shape(), qs.dtype(), qs.device());
        Tensor dk = detail::make_tensor(ks.shape(), ks.dtype(), ks.device());
        Tensor dv = detail::make_tensor(vs.shape(), vs.dtype(), vs.device());
        const Tensor q4 = kernel_view(qs), k4 = kernel_view(ks), v4 = kernel_view(vs);
        Shape lead(qs.shape().begin(), qs.shape().end() - 2);
        ops::kernels(qs).attention_backward(q4, k4, v4, bias_view(bias, lead, p.T, p.S),
                                            out4(o, p, p.T, p.Dv), out4(gc, p, p.T, p.Dv), lse, p,
                                            out4(dq, p, p.T, p.D), out4(dk, p, p.S, p.D),
                                            out4(dv, p, p.S, p.Dv));
        return std::vector<Tensor>{dq, dk, dv};
      });
  return out;
}

}  // namespace ember
