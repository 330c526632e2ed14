// Op table rows for elementwise ops: arithmetic, math, activations, comparisons and logic.
#include "parity/ops_table.h"

namespace ember::optest {

namespace {

OpRow row(std::string name, std::string variant, EmberFn e, TorchFn t, std::vector<Case> cases,
          bool differentiable = true) {
  return {std::move(name), std::move(variant), std::move(e),
          std::move(t),    std::move(cases),   differentiable};
}

// unary_cases plus an int64 input (promoted to float by math ops) and nan/inf inputs.
std::vector<Case> math_cases(Gen g) {
  std::vector<Case> c = unary_cases(g);
  c.push_back({"int", {int_arg({2, 3}, 2)}});
  return c;
}
std::vector<Case> with_special(std::vector<Case> c) {
  c.push_back({"nan_inf", {arg({9}, Gen::Special)}});
  // Finite differences with eps = 1e-6 are meaningless at exp(90): forward and gradient parity
  // only.
  c.push_back({"large", {arg({4, 6}, Gen::Large)}, /*gradcheck=*/false});
  return c;
}

std::vector<Case> where_cases() {
  return {{"same", {bool_arg({2, 3, 4}), arg({2, 3, 4}), arg({2, 3, 4})}},
          {"int_float", {bool_arg({2, 3}), int_arg({2, 3}), arg({3})}},
          {"broadcast", {bool_arg({3, 1, 5}), arg({4, 5}), arg({1})}},
          {"scalar_branches", {bool_arg({2, 3}), arg({}), arg({})}},
          {"0d_cond", {bool_arg({}), arg({2, 3}), arg({2, 3})}},
          {"empty", {bool_arg({0, 3}), arg({3}), arg({0, 3})}},
          {"noncontig",
           {bool_arg({3, 4}), arg({3, 4}, Gen::Normal, Layout::Transposed),
            arg({3, 4}, Gen::Normal, Layout::Stepped)}}};
}

std::vector<Case> compare_cases() {
  std::vector<Case> c = binary_cases(Gen::SmallIntF, Gen::SmallIntF);
  c.push_back({"int_int", {int_arg({2, 3}, 2), int_arg({3}, 2)}});
  c.push_back({"float_int", {arg({2, 3}, Gen::SmallIntF), int_arg({2, 3}, 2)}});
  c.push_back({"nan_inf", {arg({9}, Gen::Special), arg({9}, Gen::Special)}});
  return c;
}

std::vector<Case> logical_cases() {
  std::vector<Case> c = compare_cases();
  c.push_back({"bool", {bool_arg({2, 3}), bool_arg({3})}});
  return c;
}

}  // namespace

std::vector<OpRow> elementwise_rows() {
  const Gen N = Gen::Normal, P = Gen::Positive, A = Gen::AwayFromZero;
  std::vector<OpRow> r;
  // ---- arithmetic ----
  r.push_back(row("add", "", EF(add(x[0], x[1])), TF(torch::add(x[0], x[1])), arith_cases()));
  r.push_back(row("add", "alpha", EF(add(x[0], x[1], 2.5)), TF(torch::add(x[0], x[1], 2.5)),
                  binary_cases()));
  // Above the kernels' parallel grain (32768 elements): threaded loops and reductions of the
  // broadcast gradient.
  r.push_back(row("add", "big", EF(add(x[0], x[1]), mul(x[0], x[1])),
                  TF(torch::add(x[0], x[1]), torch::mul(x[0], x[1])),
                  {{"broadcast", {arg({40, 1, 300}), arg({30, 300})}, false},
                   {"noncontig",
                    {arg({200, 300}, N, Layout::Transposed), arg({200, 300}, N, Layout::Stepped)},
                    false}}));
  r.push_back(
      row("add", "scalar", EF(x[0] + 1.5, 2.0 + x[0]), TF(x[0] + 1.5, 2.0 + x[0]), unary_cases()));
  r.push_back(row("add", "int_scalar", EF(x[0] + 2.0, x[0] + 0.5, x[0] * 3.0, x[0] / 2.0),
                  TF(x[0] + 2, x[0] + 0.5, x[0] * 3, x[0] / 2),
                  {{"int", {int_arg({2, 3})}}, {"bool", {bool_arg({4})}}}, false));
  r.push_back(row("sub", "", EF(sub(x[0], x[1])), TF(torch::sub(x[0], x[1])), arith_cases()));
  r.push_back(row("sub", "alpha", EF(sub(x[0], x[1], 0.5), 3.0 - x[0], x[0] - 1.0),
                  TF(torch::sub(x[0], x[1], 0.5), 3.0 - x[0], x[0] - 1.0), binary_cases()));
  r.push_back(row("mul", "", EF(mul(x[0], x[1])), TF(torch::mul(x[0], x[1])), arith_cases()));
  r.push_back(row("mul", "scalar", EF(x[0] * 2.5, -1.5 * x[0]), TF(x[0] * 2.5, -1.5 * x[0]),
                  unary_cases()));
  r.push_back(row("div", "", EF(div(x[0], x[1])), TF(torch::div(x[0], x[1])), arith_cases(N, A)));
  r.push_back(
      row("div", "scalar", EF(x[0] / 4.0, 2.0 / x[0]), TF(x[0] / 4.0, 2.0 / x[0]), unary_cases(A)));
  r.push_back(row("neg", "", EF(neg(x[0]), -x[0]), TF(torch::neg(x[0]), -x[0]), math_cases(N)));
  for (double p : {2.0, 3.0, -1.0, 0.0}) {
    // Note: pow(int tensor, p) keeps the int dtype for an integral p, as torch does for an int
    // exponent (Ember's exponent is a double, so it can't tell 2 from 2.0).
    auto e = [p](const std::vector<Tensor>& x) { return std::vector<Tensor>{pow(x[0], p)}; };
    auto t = [p](const std::vector<torch::Tensor>& x) {
      return std::vector<torch::Tensor>{torch::pow(x[0], static_cast<int64_t>(p))};
    };
    std::vector<Case> c = unary_cases(A);
    if (p >= 0) c.push_back({"int", {int_arg({2, 3})}});
    r.push_back(row("pow", "p" + std::to_string(static_cast<int>(p)), e, t, c));
  }
  for (double p : {0.5, -1.5, 2.5}) {
    auto e = [p](const std::vector<Tensor>& x) { return std::vector<Tensor>{pow(x[0], p)}; };
    auto t = [p](const std::vector<torch::Tensor>& x) {
      return std::vector<torch::Tensor>{torch::pow(x[0], p)};
    };
    std::vector<Case> c = unary_cases(P);
    c.push_back({"int", {{{2, 3}, Gen::Index, Layout::Contig, 4}}});
    r.push_back(row("pow", "p" + std::to_string(static_cast<int>(p * 10)) + "e-1", e, t, c));
  }
  r.push_back(
      row("pow_tensor", "", EF(pow(x[0], x[1])), TF(torch::pow(x[0], x[1])), binary_cases(P, N)));
  r.push_back(row("pow_tensor", "int_exponent", EF(pow(x[0], x[1])), TF(torch::pow(x[0], x[1])),
                  {{"neg_base", {arg({2, 3}, A), arg({3}, Gen::SmallIntF)}},
                   {"zero_base", {arg({2, 3}, Gen::WithZeros), arg({2, 3}, Gen::Positive)}}}));
  r.push_back(row("rpow", "", EF(pow(2.5, x[0])), TF(torch::pow(2.5, x[0])), math_cases(N)));
  r.push_back(
      row("maximum", "", EF(maximum(x[0], x[1])), TF(torch::maximum(x[0], x[1])), arith_cases()));
  r.push_back(row("maximum", "ties", EF(maximum(x[0], x[1])), TF(torch::maximum(x[0], x[1])),
                  {{"ties", {arg({4, 5}, Gen::SmallIntF), arg({4, 5}, Gen::SmallIntF)}, false},
                   {"nan_inf", {arg({9}, Gen::Special), arg({9})}, false}}));
  r.push_back(
      row("minimum", "", EF(minimum(x[0], x[1])), TF(torch::minimum(x[0], x[1])), arith_cases()));
  r.push_back(row("minimum", "ties", EF(minimum(x[0], x[1])), TF(torch::minimum(x[0], x[1])),
                  {{"ties", {arg({4, 5}, Gen::SmallIntF), arg({4, 5}, Gen::SmallIntF)}, false},
                   {"nan_inf", {arg({9}), arg({9}, Gen::Special)}, false}}));
  r.push_back(row("where", "", EF(where(x[0], x[1], x[2])), TF(torch::where(x[0], x[1], x[2])),
                  where_cases()));
  r.push_back(row("where_scalar", "", EF(where(x[0], x[1], 0.5)), TF(torch::where(x[0], x[1], 0.5)),
                  {{"same", {bool_arg({2, 3}), arg({2, 3})}},
                   {"broadcast", {bool_arg({3, 1}), arg({4})}},
                   {"0d", {bool_arg({}), arg({})}},
                   {"empty", {bool_arg({0, 3}), arg({0, 3})}}}));

  // ---- math ----
  r.push_back(row("exp", "", EF(exp(x[0])), TF(torch::exp(x[0])), with_special(math_cases(N))));
  r.push_back(row("log", "", EF(log(x[0])), TF(torch::log(x[0])), math_cases(P)));
  r.push_back(row("log1p", "", EF(log1p(x[0])), TF(torch::log1p(x[0])), math_cases(Gen::Unit)));
  r.push_back(row("sqrt", "", EF(sqrt(x[0])), TF(torch::sqrt(x[0])), math_cases(P)));
  r.push_back(row("rsqrt", "", EF(rsqrt(x[0])), TF(torch::rsqrt(x[0])), math_cases(P)));
  r.push_back(row("abs", "", EF(abs(x[0])), TF(torch::abs(x[0])), with_special(math_cases(A))));
  r.push_back(row("erf", "", EF(erf(x[0])), TF(torch::erf(x[0])), math_cases(N)));
  r.push_back(row("sin", "", EF(sin(x[0])), TF(torch::sin(x[0])), math_cases(N)));
  r.push_back(row("cos", "", EF(cos(x[0])), TF(torch::cos(x[0])), math_cases(N)));
  r.push_back(row("sign", "", EF(sign(x[0])), TF(torch::sign(x[0])), math_cases(A)));

  // ---- activations ----
  r.push_back(row("tanh", "", EF(tanh(x[0])), TF(torch::tanh(x[0])), with_special(math_cases(N))));
  r.push_back(
      row("sigmoid", "", EF(sigmoid(x[0])), TF(torch::sigmoid(x[0])), with_special(math_cases(N))));
  r.push_back(row("relu", "", EF(relu(x[0])), TF(torch::relu(x[0])), with_special(math_cases(A))));
  r.push_back(row("leaky_relu", "", EF(leaky_relu(x[0], 0.1)), TF(torch::leaky_relu(x[0], 0.1)),
                  with_special(unary_cases(A))));
  r.push_back(
      row("elu", "", EF(elu(x[0], 1.3)), TF(torch::elu(x[0], 1.3)), with_special(unary_cases(A))));
  r.push_back(row("gelu", "", EF(gelu(x[0])), TF(torch::gelu(x[0])), with_special(unary_cases(N))));
  r.push_back(row("gelu_tanh", "", EF(gelu(x[0], "tanh")), TF(torch::gelu(x[0], "tanh")),
                  with_special(unary_cases(N))));
  r.push_back(row("silu", "", EF(silu(x[0])), TF(torch::silu(x[0])), with_special(unary_cases(N))));
  r.push_back(row("softplus", "", EF(softplus(x[0], 2, 3)), TF(torch::softplus(x[0], 2, 3)),
                  with_special(unary_cases(N))));
  r.push_back(
      row("softplus", "default", EF(softplus(x[0])), TF(torch::softplus(x[0])), unary_cases(N)));
  r.push_back(row("clamp", "both", EF(clamp(x[0], -0.5, 0.5)), TF(torch::clamp(x[0], -0.5, 0.5)),
                  with_special(unary_cases(N))));
  r.push_back(row("clamp", "min", EF(clamp(x[0], -0.5, std::nullopt)),
                  TF(torch::clamp_min(x[0], -0.5)), unary_cases(N)));
  r.push_back(row("clamp", "max", EF(clamp(x[0], std::nullopt, 0.25)),
                  TF(torch::clamp_max(x[0], 0.25)), unary_cases(N)));
  r.push_back(row("clamp", "int", EF(clamp(x[0], -1, 1)), TF(torch::clamp(x[0], -1, 1)),
                  {{"int", {int_arg({2, 3})}}}, false));

  // ---- comparisons and logic ----
  r.push_back(row("eq", "", EF(eq(x[0], x[1]), x[0] == 1.0), TF(torch::eq(x[0], x[1]), x[0] == 1),
                  compare_cases(), false));
  r.push_back(row("ne", "", EF(ne(x[0], x[1]), x[0] != 1.0), TF(torch::ne(x[0], x[1]), x[0] != 1),
                  compare_cases(), false));
  r.push_back(row("lt", "", EF(lt(x[0], x[1]), x[0] < 0.5), TF(torch::lt(x[0], x[1]), x[0] < 0.5),
                  compare_cases(), false));
  r.push_back(row("le", "", EF(le(x[0], x[1]), x[0] <= 1.0), TF(torch::le(x[0], x[1]), x[0] <= 1),
                  compare_cases(), false));
  r.push_back(row("gt", "", EF(gt(x[0], x[1]), x[0] > 0.5), TF(torch::gt(x[0], x[1]), x[0] > 0.5),
                  compare_cases(), false));
  r.push_back(row("ge", "", EF(ge(x[0], x[1]), x[0] >= 1.0), TF(torch::ge(x[0], x[1]), x[0] >= 1),
                  compare_cases(), false));
  r.push_back(row("logical_and", "", EF(logical_and(x[0], x[1])),
                  TF(torch::logical_and(x[0], x[1])), logical_cases(), false));
  r.push_back(row("logical_or", "", EF(logical_or(x[0], x[1])), TF(torch::logical_or(x[0], x[1])),
                  logical_cases(), false));
  r.push_back(row("logical_xor", "", EF(logical_xor(x[0], x[1])),
                  TF(torch::logical_xor(x[0], x[1])), logical_cases(), false));
  std::vector<Case> not_cases = math_cases(Gen::SmallIntF);
  not_cases.push_back({"bool", {bool_arg({2, 3})}});
  not_cases.push_back({"nan_inf", {arg({9}, Gen::Special)}});
  r.push_back(row("logical_not", "", EF(logical_not(x[0])), TF(torch::logical_not(x[0])), not_cases,
                  false));
  r.push_back(row("isnan", "", EF(isnan(x[0])), TF(torch::isnan(x[0])), with_special(math_cases(N)),
                  false));
  r.push_back(row("isfinite", "", EF(isfinite(x[0])), TF(torch::isfinite(x[0])),
                  with_special(math_cases(N)), false));
  r.push_back(row("allclose", "",
                  EF(scalar_tensor(allclose(x[0], x[0] * (1 + 1e-6)), kBool),
                     scalar_tensor(allclose(x[0], x[0] + 1e-3), kBool),
                     scalar_tensor(allclose(x[0], x[1]), kBool)),
                  TF(torch::tensor(torch::allclose(x[0], x[0] * (1 + 1e-6))),
                     torch::tensor(torch::allclose(x[0], x[0] + 1e-3)),
                     torch::tensor(torch::allclose(x[0], x[1]))),
                  binary_cases(), false));
  r.push_back(row("broadcast_shapes", "",
                  EF(from_vector(ivec(broadcast_shapes(x[0].shape(), x[1].shape())))),
                  TF(torch::tensor(at::infer_size(x[0].sizes(), x[1].sizes()), torch::kInt64)),
                  {{"broadcast", {arg({3, 1, 5}), arg({4, 5})}},
                   {"scalar", {arg({2, 3}), arg({})}},
                   {"empty", {arg({0, 3}), arg({1, 3})}}},
                  false));
  return r;
}

EMBER_INSTANTIATE_OP_TABLE(Elementwise, elementwise_rows);

}  // namespace ember::optest
