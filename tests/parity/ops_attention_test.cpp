// Op-table rows: scaled_dot_product_attention, layer_norm and rms_norm against libtorch formulas.
#include <cmath>
#include <limits>

#include "ember/ops/attention.h"
#include "parity/ops_table.h"

namespace ember::optest {

namespace {

OpRow row(std::string name, std::string variant, EmberFn e, TorchFn t, std::vector<Case> cases,
          bool differentiable = true) {
  return {std::move(name), std::move(variant), std::move(e),
          std::move(t),    std::move(cases),   differentiable};
}

const Gen N = Gen::Normal;

// torch 1.13's C++ API has no scaled_dot_product_attention: softmax(q k^T * scale + bias) v,
// with zeros (not NaN) on rows whose keys are all masked, as Ember's contract says.
torch::Tensor sdpa_ref(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& bias, double scale) {
  torch::Tensor s = q.matmul(k.transpose(-2, -1)) * scale;
  if (!bias.defined()) return s.softmax(-1).matmul(v);
  s = s + bias;
  const torch::Tensor dead = s.detach().amax(-1, true) == -INFINITY;
  return s.masked_fill(dead, 0).softmax(-1).masked_fill(dead, 0).matmul(v);
}
double default_scale(const torch::Tensor& q) {
  return 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
}
// A bool mask as an additive bias: 0 where attended, -inf where not.
torch::Tensor bool_bias(const torch::Tensor& m, const torch::Tensor& like) {
  return torch::zeros(m.sizes(), like.options().requires_grad(false))
      .masked_fill(m.logical_not(), -INFINITY);
}
torch::Tensor causal_bias(const torch::Tensor& q, const torch::Tensor& k) {
  const torch::Tensor m =
      torch::ones({q.size(-2), k.size(-2)}, q.options().dtype(torch::kBool)).tril();
  return bool_bias(m, q);
}
// Float masks come from int64 inputs (x in {-3, ..., 2} times 0.5), so they are no gradient inputs.
Tensor float_mask(const Tensor& m, const Tensor& like) {
  return m.to(like.dtype()) * 0.5;
}
torch::Tensor float_mask(const torch::Tensor& m, const torch::Tensor& like) {
  return m.to(like.scalar_type()) * 0.5;
}

// q, k, v of (B, H, T, D), (B, H, S, D), (B, H, S, Dv) plus `extra` arguments.
std::vector<Arg> qkv(Shape lead, int64_t T, int64_t S, int64_t D, int64_t Dv,
                     std::vector<Arg> extra = {}) {
  const auto sh = [&](int64_t a, int64_t b) {
    Shape s = lead;
    s.push_back(a);
    s.push_back(b);
    return s;
  };
  std::vector<Arg> a = {arg(sh(T, D)), arg(sh(S, D)), arg(sh(S, Dv))};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::vector<Case> plain_cases() {
  return {{"4d", qkv({2, 3}, 5, 6, 4, 4)},
          {"T_ne_S_Dv_ne_D", qkv({2, 2}, 3, 7, 5, 3)},
          {"T1", qkv({2, 2}, 1, 6, 4, 4)},
          {"3d", qkv({3}, 4, 5, 4, 2)},
          {"2d", qkv({}, 5, 4, 3, 3)},
          {"blocks", qkv({1, 2}, 70, 75, 8, 6)},
          {"transposed",
           {arg({2, 2, 5, 4}, N, Layout::Transposed), arg({2, 2, 6, 4}),
            arg({2, 2, 6, 3}, N, Layout::Transposed)}}};
}

std::vector<Case> causal_cases() {
  return {{"4d", qkv({2, 3}, 6, 6, 4, 4)},
          {"T_lt_S", qkv({2, 2}, 4, 7, 5, 3)},
          {"T_gt_S", qkv({1, 2}, 7, 4, 3, 3)},  // rows past S see every key
          {"T1", qkv({2, 2}, 1, 5, 4, 4)},
          {"blocks", qkv({1, 2}, 70, 70, 8, 8)},
          {"blocks_T_ne_S", qkv({1, 1}, 67, 130, 4, 5)}};
}

// The cases of a (x, weight, bias) row without the bias.
std::vector<Case> affine_only(std::vector<Case> cases) {
  for (Case& c : cases) c.args.pop_back();
  return cases;
}

std::vector<OpRow> attention_rows() {
  std::vector<OpRow> r;
  r.push_back(row("scaled_dot_product_attention", "plain",
                  EF(scaled_dot_product_attention(x[0], x[1], x[2])),
                  TF(sdpa_ref(x[0], x[1], x[2], {}, default_scale(x[0]))), plain_cases()));
  r.push_back(row("scaled_dot_product_attention", "causal",
                  EF(scaled_dot_product_attention(x[0], x[1], x[2], {}, 0.0, true)),
                  TF(sdpa_ref(x[0], x[1], x[2], causal_bias(x[0], x[1]), default_scale(x[0]))),
                  causal_cases()));
  r.push_back(row("scaled_dot_product_attention", "causal_scale",
                  EF(scaled_dot_product_attention(x[0], x[1], x[2], {}, 0.0, true, 0.3)),
                  TF(sdpa_ref(x[0], x[1], x[2], causal_bias(x[0], x[1]), 0.3)),
                  {{"4d", qkv({2, 2}, 5, 5, 4, 4)}}));
  // Bool masks (true = attend): full, broadcast over heads, key padding (B, 1, 1, S), and (T, S).
  // Random masks leave some rows with no key: those rows must be zeros, with zero gradients.
  r.push_back(row("scaled_dot_product_attention", "bool_mask",
                  EF(scaled_dot_product_attention(x[0], x[1], x[2], x[3])),
                  TF(sdpa_ref(x[0], x[1], x[2], bool_bias(x[3], x[0]), default_scale(x[0]))),
                  {{"full", qkv({2, 2}, 5, 6, 4, 3, {bool_arg({2, 2, 5, 6})})},
                   {"key_padding", qkv({3, 2}, 4, 5, 4, 4, {bool_arg({3, 1, 1, 5})})},
                   {"TS", qkv({2, 3}, 6, 4, 3, 3, {bool_arg({6, 4})})},
                   {"heads", qkv({2, 3}, 4, 4, 3, 3, {bool_arg({2, 1, 4, 4})})},
                   {"blocks", qkv({1, 2}, 70, 66, 4, 4, {bool_arg({1, 1, 70, 66})})},
                   {"T1", qkv({2, 2}, 1, 5, 4, 4, {bool_arg({2, 1, 1, 5})})},
                   {"TS_4d", qkv({2, 3}, 5, 6, 4, 4, {bool_arg({1, 1, 5, 6})})},
                   {"BH_3d", qkv({6}, 5, 6, 4, 4, {bool_arg({6, 5, 6})})},
                   {"5d_mid_broadcast", qkv({2, 3, 2}, 4, 5, 3, 3, {bool_arg({2, 1, 2, 4, 5})})}}));
  r.push_back(row("scaled_dot_product_attention", "float_mask",
                  EF(scaled_dot_product_attention(x[0], x[1], x[2], float_mask(x[3], x[0]))),
                  TF(sdpa_ref(x[0], x[1], x[2], float_mask(x[3], x[0]), default_scale(x[0]))),
                  {{"full", qkv({2, 2}, 5, 6, 4, 3, {int_arg({2, 2, 5, 6})})},
                   {"key_padding", qkv({3, 2}, 4, 5, 4, 4, {int_arg({3, 1, 1, 5})})},
                   {"TS", qkv({2, 2}, 6, 7, 3, 3, {int_arg({6, 7})})},
                   {"blocks", qkv({1, 1}, 70, 75, 4, 4, {int_arg({70, 75})})},
                   {"BHTS", qkv({2, 3}, 5, 6, 4, 4, {int_arg({2, 3, 5, 6})})},
                   {"TS_4d", qkv({2, 3}, 5, 6, 4, 4, {int_arg({1, 1, 5, 6})})},
                   {"BH_3d", qkv({6}, 5, 6, 4, 4, {int_arg({6, 5, 6})})}}));
  // Inputs laid out as (B, T, H, D) and transposed to (B, H, T, D): strided rows, no copy needed.
  r.push_back(row(
      "scaled_dot_product_attention", "bthd",
      EF(scaled_dot_product_attention(transpose(x[0], 1, 2), transpose(x[1], 1, 2),
                                      transpose(x[2], 1, 2), {}, 0.0, true)),
      TF(sdpa_ref(x[0].transpose(1, 2), x[1].transpose(1, 2), x[2].transpose(1, 2),
                  causal_bias(x[0].transpose(1, 2), x[1].transpose(1, 2)), default_scale(x[0]))),
      {{"causal", {arg({2, 6, 3, 4}), arg({2, 6, 3, 4}), arg({2, 6, 3, 4})}},
       {"blocks", {arg({1, 70, 2, 4}), arg({1, 70, 2, 4}), arg({1, 70, 2, 4})}}}));
  // MultiheadAttention's call: (B, T, H, D) views and a key-padding mask (B, 1, 1, S).
  r.push_back(
      row("scaled_dot_product_attention", "bthd_key_padding",
          EF(scaled_dot_product_attention(transpose(x[0], 1, 2), transpose(x[1], 1, 2),
                                          transpose(x[2], 1, 2), x[3])),
          TF(sdpa_ref(x[0].transpose(1, 2), x[1].transpose(1, 2), x[2].transpose(1, 2),
                      bool_bias(x[3], x[0]), default_scale(x[0]))),
          {{"small",
            {arg({2, 5, 3, 4}), arg({2, 6, 3, 4}), arg({2, 6, 3, 4}), bool_arg({2, 1, 1, 6})}}}));
  return r;
}

// x * rsqrt(mean(x^2 over the last `nd` dims) + eps) * w: F.rms_norm of PyTorch 2.4+.
torch::Tensor rms_ref(const torch::Tensor& x, int64_t nd, const torch::Tensor& w, double eps) {
  std::vector<int64_t> dims;
  for (int64_t d = x.dim() - nd; d < x.dim(); ++d) dims.push_back(d);
  torch::Tensor y = x * (x * x).mean(dims, true).add(eps).rsqrt();
  return w.defined() ? y * w : y;
}

std::vector<OpRow> norm_rows() {
  std::vector<OpRow> r;
  const std::vector<Case> affine = {
      {"2d", {arg({6, 8}), arg({8}), arg({8})}},
      {"3d", {arg({2, 5, 7}), arg({7}), arg({7})}},
      {"rows_of_70", {arg({3, 70}), arg({70}), arg({70})}},
      {"transposed", {arg({4, 6}, N, Layout::Transposed), arg({6}), arg({6})}},
      {"stepped", {arg({3, 5}, N, Layout::Stepped), arg({5}), arg({5})}},
      {"1d", {arg({9}), arg({9}), arg({9})}},
      {"empty", {arg({0, 4}), arg({4}), arg({4})}}};
  r.push_back(row("layer_norm", "affine", EF(layer_norm(x[0], {x[0].size(-1)}, x[1], x[2])),
                  TF(torch::layer_norm(x[0], {x[0].size(-1)}, x[1], x[2])), affine));
  r.push_back(row("layer_norm", "two_dims_no_bias_eps",
                  EF(layer_norm(x[0], {3, 4}, x[1], Tensor(), 1e-3)),
                  TF(torch::layer_norm(x[0], {3, 4}, x[1], {}, 1e-3)),
                  {{"3d", {arg({5, 3, 4}), arg({3, 4})}},
                   {"4d", {arg({2, 2, 3, 4}), arg({3, 4})}},
                   {"transposed", {arg({2, 3, 4}, N, Layout::Transposed), arg({3, 4})}}}));
  r.push_back(row("layer_norm", "plain", EF(layer_norm(x[0], {x[0].size(-1)})),
                  TF(torch::layer_norm(x[0], {x[0].size(-1)})),
                  {{"2d", {arg({4, 10})}}, {"large", {arg({3, 16}, Gen::Large)}}}));
  r.push_back(row("rms_norm", "affine", EF(rms_norm(x[0], {x[0].size(-1)}, x[1], 1e-6)),
                  TF(rms_ref(x[0], 1, x[1], 1e-6)), affine_only(affine)));
  r.push_back(
      row("rms_norm", "default_eps", EF(rms_norm(x[0], {x[0].size(-1)})),
          TF(rms_ref(x[0], 1, {},
                     x[0].scalar_type() == torch::kDouble ? std::numeric_limits<double>::epsilon()
                                                          : std::numeric_limits<float>::epsilon())),
          {{"2d", {arg({4, 10})}}, {"stepped", {arg({3, 6}, N, Layout::Stepped)}}}));
  r.push_back(row("rms_norm", "two_dims", EF(rms_norm(x[0], {3, 4}, x[1], 1e-5)),
                  TF(rms_ref(x[0], 2, x[1], 1e-5)),
                  {{"3d", {arg({5, 3, 4}), arg({3, 4})}},
                   {"transposed", {arg({2, 3, 4}, N, Layout::Transposed), arg({3, 4})}}}));
  return r;
}

}  // namespace

std::vector<OpRow> attention_norm_rows() {
  std::vector<OpRow> r = attention_rows();
  for (OpRow& n : norm_rows()) r.push_back(std::move(n));
  return r;
}

EMBER_INSTANTIATE_OP_TABLE(Attention, attention_norm_rows);

}  // namespace ember::optest
