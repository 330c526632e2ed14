// Op table rows for reductions, scans, matrix products and the fused nn primitives; dropout
// statistics.
#include "parity/ops_table.h"

namespace ember::optest {

namespace {

using ember::testing::to_torch;

OpRow row(std::string name, std::string variant, EmberFn e, TorchFn t, std::vector<Case> cases,
          bool differentiable = true) {
  return {std::move(name), std::move(variant), std::move(e),
          std::move(t),    std::move(cases),   differentiable};
}

const Gen N = Gen::Normal, D = Gen::Distinct;

// Inputs for reductions over every dim: unary cases plus int64 and bool inputs.
std::vector<Case> full_reduce_cases(Gen g, bool with_int = true) {
  std::vector<Case> c = unary_cases(g);
  if (with_int) {
    c.push_back({"int", {int_arg({2, 3})}});
    c.push_back({"bool", {bool_arg({2, 3})}});
  }
  return c;
}

// Inputs for a reduction over the last dim (0-d tensors accept dim -1).
std::vector<Case> last_dim_cases(Gen g) {
  return unary_cases(g);
}

// Inputs for reductions over dims {0, 2} of 3-d tensors.
std::vector<Case> dims02_cases(Gen g) {
  return {{"3d", {arg({2, 3, 4}, g)}},
          {"transposed", {arg({2, 3, 4}, g, Layout::Transposed)}},
          {"stepped", {arg({3, 2, 3}, g, Layout::Stepped)}},
          {"expanded", {arg({3, 2, 4}, g, Layout::Expanded)}},
          {"empty_kept", {arg({2, 0, 3}, g)}},
          {"big", {arg({40, 30, 50}, g, Layout::Transposed)}, false}};
}

// Value reductions (max, min): no empty reduced dims, ties checked for value and gradient.
std::vector<Case> extreme_cases(bool zero_d = true) {
  std::vector<Case> c = {{"3d", {arg({2, 3, 4}, D)}},
                         {"1d", {arg({7}, D)}},
                         {"transposed", {arg({3, 4}, D, Layout::Transposed)}},
                         {"stepped", {arg({2, 5}, D, Layout::Stepped)}},
                         {"expanded", {arg({3, 4}, D, Layout::Expanded)}},
                         {"ties", {arg({3, 4}, Gen::SmallIntF)}, false},
                         {"nan_inf", {arg({2, 6}, Gen::Special)}, false}};
  if (zero_d) c.push_back({"0d", {arg({}, D)}});
  return c;
}

std::vector<Case> matmul_cases() {
  const Layout T = Layout::Transposed, S = Layout::Stepped, E = Layout::Expanded;
  return {{"1d_1d", {arg({5}), arg({5})}},
          {"2d_1d", {arg({3, 5}), arg({5})}},
          {"1d_2d", {arg({5}), arg({5, 4})}},
          {"2d_2d", {arg({3, 5}), arg({5, 4})}},
          {"batched_bcast", {arg({2, 1, 4, 5}), arg({3, 5, 6})}},
          {"3d_2d", {arg({2, 3, 5}), arg({5, 4})}},
          {"1d_3d", {arg({5}), arg({2, 5, 4})}},
          {"transposed", {arg({3, 5}, N, T), arg({2, 5, 4}, N, T)}},
          {"stepped", {arg({3, 5}, N, S), arg({5, 4}, N, S)}},
          {"expanded", {arg({3, 5}, N, E), arg({5, 4}, N, E)}},
          {"expanded_batch", {arg({3, 2, 5}, N, E), arg({3, 5, 4})}},
          {"big", {arg({64, 128}), arg({128, 96}, N, T)}, false},
          {"empty_k", {arg({3, 0}), arg({0, 4})}},
          {"empty_n", {arg({0, 5}), arg({5, 4})}}};
}

}  // namespace

std::vector<OpRow> reduce_linalg_nn_rows() {
  std::vector<OpRow> r;
  // ---- reductions ----
  r.push_back(row("sum", "all", EF(sum(x[0])), TF(x[0].sum()), full_reduce_cases(N)));
  r.push_back(row("sum", "big", EF(sum(x[0], {0}), sum(x[0], {1}), sum(x[0])),
                  TF(x[0].sum(0), x[0].sum(1), x[0].sum()),
                  {{"columns", {arg({300, 400})}, false},
                   {"transposed", {arg({300, 400}, N, Layout::Transposed)}, false},
                   {"int", {int_arg({300, 400}, 100)}}}));
  r.push_back(row("sum", "last_keepdim", EF(sum(x[0], {-1}, true)), TF(x[0].sum(IV{-1}, true)),
                  last_dim_cases(N)));
  r.push_back(row("sum", "dims02", EF(sum(x[0], {0, 2}), sum(x[0], {2, 0}, true)),
                  TF(x[0].sum(IV{0, 2}), x[0].sum(IV{2, 0}, true)), dims02_cases(N)));
  r.push_back(row("mean", "all", EF(mean(x[0])), TF(x[0].mean()), full_reduce_cases(N, false)));
  r.push_back(row("mean", "dims", EF(mean(x[0], {0, 2}), mean(x[0], {-1}, true)),
                  TF(x[0].mean(IV{0, 2}), x[0].mean(IV{-1}, true)), dims02_cases(N)));
  std::vector<Case> prod_cases = full_reduce_cases(Gen::Unit);
  prod_cases.push_back({"zeros", {arg({4, 5}, Gen::WithZeros)}});
  r.push_back(row("prod", "all", EF(prod(x[0])), TF(x[0].prod()), prod_cases));
  r.push_back(row("prod", "dim", EF(prod(x[0], {1}), prod(x[0], {-1}, true)),
                  TF(x[0].prod(1), x[0].prod(-1, true)),
                  {{"3d", {arg({2, 3, 4}, Gen::Unit)}},
                   {"zeros", {arg({5, 6, 2}, Gen::WithZeros)}},
                   {"transposed", {arg({3, 4}, Gen::Unit, Layout::Transposed)}},
                   {"empty_reduced", {arg({2, 0, 3}, Gen::Unit)}}}));
  r.push_back(row("max", "", EF(max(x[0])), TF(x[0].max()), extreme_cases()));
  r.push_back(row("min", "", EF(min(x[0])), TF(x[0].min()), extreme_cases()));
  r.push_back(row("max_dim", "", EFV(vec(max(x[0], 1))), TFV(vec(torch::max(x[0], 1))),
                  {{"3d", {arg({2, 3, 4}, D)}},
                   {"transposed", {arg({3, 4}, D, Layout::Transposed)}},
                   {"ties", {arg({3, 4}, Gen::SmallIntF)}, false},
                   {"empty_kept", {arg({0, 4}, D)}}}));
  r.push_back(row("max_dim", "last_keepdim", EFV(vec(max(x[0], -1, true))),
                  TFV(vec(torch::max(x[0], -1, true))), extreme_cases()));
  r.push_back(
      row("min_dim", "", EFV(vec(min(x[0], 0))), TFV(vec(torch::min(x[0], 0))), extreme_cases()));
  r.push_back(row("amax", "", EF(amax(x[0], {0, 2}), amax(x[0], {-1}, true)),
                  TF(x[0].amax(IV{0, 2}), x[0].amax(IV{-1}, true)),
                  {{"3d", {arg({2, 3, 4}, D)}},
                   {"ties", {arg({2, 3, 4}, Gen::SmallIntF)}, false},
                   {"transposed", {arg({2, 3, 4}, D, Layout::Transposed)}}}));
  r.push_back(row("amin", "", EF(amin(x[0], {0, 2}), amin(x[0], {-1}, true)),
                  TF(x[0].amin(IV{0, 2}), x[0].amin(IV{-1}, true)),
                  {{"3d", {arg({2, 3, 4}, D)}},
                   {"ties", {arg({2, 3, 4}, Gen::SmallIntF)}, false},
                   {"stepped", {arg({2, 3, 4}, D, Layout::Stepped)}}}));
  std::vector<Case> arg_cases = extreme_cases();
  arg_cases.push_back({"int", {int_arg({3, 4}, 5)}});
  r.push_back(row("argmax", "", EF(argmax(x[0])), TF(x[0].argmax()), arg_cases, false));
  r.push_back(row("argmin", "", EF(argmin(x[0])), TF(x[0].argmin()), arg_cases, false));
  r.push_back(row("argmax_dim", "", EF(argmax(x[0], -1), argmax(x[0], 0, true)),
                  TF(x[0].argmax(-1), x[0].argmax(0, true)), arg_cases, false));
  r.push_back(row("argmin_dim", "", EF(argmin(x[0], -1), argmin(x[0], 0, true)),
                  TF(x[0].argmin(-1), x[0].argmin(0, true)), arg_cases, false));
  std::vector<Case> var_cases = unary_cases(N);
  var_cases.erase(var_cases.begin() + 2, var_cases.begin() + 4);  // 0-d and empty: nan
  r.push_back(row("var", "all", EF(var(x[0])), TF(x[0].var()), var_cases));
  r.push_back(
      row("var", "dims", EF(var(x[0], {-1}, 0, true), var(x[0], {0}, 1)),
          TF(torch::var(x[0], IV{-1}, 0, true), torch::var(x[0], IV{0}, 1, false)),
          {{"3d", {arg({2, 3, 4})}}, {"transposed", {arg({3, 4}, N, Layout::Transposed)}}}));
  r.push_back(row("var", "degenerate", EF(var(x[0]), var(x[0], {0}, 0)),
                  TF(x[0].var(), torch::var(x[0], IV{0}, 0, false)),
                  {{"0d", {arg({})}}, {"one", {arg({1})}}, {"empty", {arg({0})}}}, false));
  r.push_back(row("std", "all", EF(ember::std(x[0])), TF(x[0].std()), var_cases));
  r.push_back(row("std", "dims", EF(ember::std(x[0], {0, 2}, 0, true)),
                  TF(torch::std(x[0], IV{0, 2}, 0, true)), {{"3d", {arg({2, 3, 4})}}}));
  std::vector<Case> lse_cases = unary_cases(N);
  lse_cases.push_back({"large", {arg({4, 6}, Gen::Large)}, /*gradcheck=*/false});
  r.push_back(row("logsumexp", "", EF(logsumexp(x[0], {-1}), logsumexp(x[0], {0}, true)),
                  TF(x[0].logsumexp(-1), x[0].logsumexp(0, true)), lse_cases));
  r.push_back(row("logsumexp", "dims02", EF(logsumexp(x[0], {0, 2})), TF(x[0].logsumexp(IV{0, 2})),
                  dims02_cases(N)));
  r.push_back(row("logsumexp", "inf", EF(logsumexp(x[0], {-1})), TF(x[0].logsumexp(-1)),
                  {{"nan_inf", {arg({3, 4}, Gen::Special)}}}, false));
  std::vector<Case> cumsum_cases = full_reduce_cases(N);
  cumsum_cases.push_back({"long", {arg({3, 70})}});
  cumsum_cases.push_back({"big", {arg({200, 300}, N, Layout::Transposed)}, false});
  r.push_back(row("cumsum", "", EF(cumsum(x[0], -1), cumsum(x[0], 0)),
                  TF(x[0].cumsum(-1), x[0].cumsum(0)), cumsum_cases));
  std::vector<Case> any_cases = {
      {"bool", {bool_arg({2, 3})}},  {"float", {arg({2, 3}, Gen::SmallIntF)}},
      {"int", {int_arg({4}, 1)}},    {"0d", {bool_arg({})}},
      {"empty", {bool_arg({0, 3})}}, {"nan", {arg({5}, Gen::Special)}}};
  r.push_back(row("any", "", EF(any(x[0])), TF(x[0].any()), any_cases, false));
  r.push_back(row("all", "", EF(all(x[0])), TF(x[0].all()), any_cases, false));
  r.push_back(row("sum_to", "", EF(sum_to(x[0], {3, 1}), sum_to(x[0], {4})),
                  TF(at::sum_to(x[0], IV{3, 1}), at::sum_to(x[0], IV{4})),
                  {{"3d", {arg({2, 3, 4})}}, {"expanded", {arg({2, 3, 4}, N, Layout::Expanded)}}}));

  // ---- matrix products ----
  r.push_back(
      row("matmul", "", EF(matmul(x[0], x[1])), TF(torch::matmul(x[0], x[1])), matmul_cases()));
  r.push_back(row("mm", "", EF(mm(x[0], x[1])), TF(torch::mm(x[0], x[1])),
                  {{"2d", {arg({3, 5}), arg({5, 4})}},
                   {"transposed", {arg({3, 5}, N, Layout::Transposed), arg({5, 4})}},
                   {"expanded", {arg({3, 5}), arg({5, 4}, N, Layout::Expanded)}},
                   {"empty", {arg({0, 5}), arg({5, 4})}}}));
  r.push_back(row("bmm", "", EF(bmm(x[0], x[1])), TF(torch::bmm(x[0], x[1])),
                  {{"3d", {arg({2, 3, 5}), arg({2, 5, 4})}},
                   {"transposed", {arg({2, 3, 5}, N, Layout::Transposed), arg({2, 5, 4})}},
                   {"expanded", {arg({2, 3, 5}, N, Layout::Expanded), arg({2, 5, 4})}}}));
  r.push_back(row("dot", "", EF(dot(x[0], x[1])), TF(torch::dot(x[0], x[1])),
                  {{"1d", {arg({5}), arg({5})}},
                   {"stepped", {arg({5}, N, Layout::Stepped), arg({5})}},
                   {"empty", {arg({0}), arg({0})}}}));
  r.push_back(
      row("linear", "bias", EF(linear(x[0], x[1], x[2])), TF(torch::linear(x[0], x[1], x[2])),
          {{"2d", {arg({3, 5}), arg({4, 5}), arg({4})}},
           {"3d", {arg({2, 3, 5}), arg({4, 5}), arg({4})}},
           {"1d", {arg({5}), arg({4, 5}), arg({4})}},
           {"transposed",
            {arg({3, 5}, N, Layout::Transposed), arg({4, 5}, N, Layout::Transposed), arg({4})}},
           {"stepped", {arg({2, 5}, N, Layout::Stepped), arg({4, 5}), arg({4})}},
           {"empty_batch", {arg({0, 5}), arg({4, 5}), arg({4})}},
           {"empty_in", {arg({3, 0}), arg({4, 0}), arg({4})}}}));
  r.push_back(row("linear", "no_bias", EF(linear(x[0], x[1])), TF(torch::linear(x[0], x[1])),
                  {{"2d", {arg({3, 5}), arg({4, 5})}},
                   {"3d", {arg({2, 3, 5}), arg({4, 5})}},
                   {"expanded", {arg({3, 5}, N, Layout::Expanded), arg({4, 5})}}}));
  r.push_back(row(
      "lstsq", "", EF(linalg::lstsq(x[0], x[1])), TF(std::get<0>(torch::linalg_lstsq(x[0], x[1]))),
      {{"matrix", {arg({6, 3}), arg({6, 2})}}, {"square", {arg({3, 3}), arg({3, 1})}}}, false));
  r.push_back(row("lstsq", "vector", EF(linalg::lstsq(x[0], x[1])),
                  TF(std::get<0>(torch::linalg_lstsq(x[0], x[1].unsqueeze(-1))).squeeze(-1)),
                  {{"vector", {arg({6, 3}), arg({6})}}}, false));

  // ---- nn primitives ----
  std::vector<Case> sm_cases = unary_cases(N);
  sm_cases.push_back({"nan_inf", {arg({3, 4}, Gen::Special)}, false});
  sm_cases.push_back({"wide", {arg({3, 300}, N)}});
  sm_cases.push_back({"large", {arg({4, 6}, Gen::Large)}, /*gradcheck=*/false});
  sm_cases.push_back({"big", {arg({300, 200}, N, Layout::Transposed)}, false});
  for (const char* name : {"softmax", "log_softmax"}) {
    const bool log = std::string(name) == "log_softmax";
    auto e = [log](const std::vector<Tensor>& x) {
      return std::vector<Tensor>{log ? log_softmax(x[0], -1) : softmax(x[0], -1),
                                 log ? log_softmax(x[0], 0) : softmax(x[0], 0)};
    };
    auto t = [log](const std::vector<torch::Tensor>& x) {
      return std::vector<torch::Tensor>{log ? x[0].log_softmax(-1) : x[0].softmax(-1),
                                        log ? x[0].log_softmax(0) : x[0].softmax(0)};
    };
    r.push_back(row(name, "", e, t, sm_cases));
    auto e1 = [log](const std::vector<Tensor>& x) {
      return std::vector<Tensor>{log ? log_softmax(x[0], 1) : softmax(x[0], 1)};
    };
    auto t1 = [log](const std::vector<torch::Tensor>& x) {
      return std::vector<torch::Tensor>{log ? x[0].log_softmax(1) : x[0].softmax(1)};
    };
    r.push_back(row(name, "middle_dim", e1, t1, dims02_cases(N)));
  }
  r.push_back(row("dropout", "deterministic",
                  EF(dropout(x[0], 0.0, true), dropout(x[0], 0.5, false), dropout(x[0], 1.0)),
                  TF(torch::dropout(x[0], 0.0, true), torch::dropout(x[0], 0.5, false),
                     torch::dropout(x[0], 1.0, true)),
                  unary_cases(N)));
  return r;
}

EMBER_INSTANTIATE_OP_TABLE(ReduceLinalgNn, reduce_linalg_nn_rows);

// dropout at 0 < p < 1 is random: check the kept fraction, the scaling and the gradient.
TEST(DropoutStats, ScalesKeptElementsAndMasksGradient) {
  manual_seed(11);
  Tensor x = (rand({200, 100}) + 1.0).detach().requires_grad_();
  const double p = 0.3;
  Tensor y = dropout(x, p);
  const double kept = mean((y != 0.0).to(kFloat32)).item();
  EXPECT_NEAR(kept, 1 - p, 0.01);
  torch::Tensor tx = to_torch(x), ty = to_torch(y);
  torch::Tensor mask = ty.ne(0);
  EXPECT_TRUE(torch::allclose(ty.masked_select(mask), tx.masked_select(mask) / (1 - p)));
  sum(y).backward();
  torch::Tensor g = to_torch(x.grad());
  EXPECT_TRUE(torch::allclose(g, mask.to(torch::kFloat32) / (1 - p)));
  Generator g1(5), g2(5);
  EXPECT_TRUE(allclose(dropout(x, p, true, &g1), dropout(x, p, true, &g2)))
      << "a seeded generator gives the same mask";
}

}  // namespace ember::optest
