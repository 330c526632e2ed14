// Op table rows for shape ops (views, joins, splits), indexing ops and tensor creation.
#include "parity/ops_table.h"

namespace ember::optest {

namespace {

OpRow row(std::string name, std::string variant, EmberFn e, TorchFn t, std::vector<Case> cases,
          bool differentiable = true) {
  return {std::move(name), std::move(variant), std::move(e),
          std::move(t),    std::move(cases),   differentiable};
}

// Values only (no gradient) with no inputs: creation ops.
OpRow make_row(std::string name, std::string variant, EmberFn e, TorchFn t,
               bool compare_values = true) {
  OpRow r =
      row(std::move(name), std::move(variant), std::move(e), std::move(t), {{"values", {}}}, false);
  r.compare_values = compare_values;
  return r;
}

const Gen N = Gen::Normal, D = Gen::Distinct;
const Layout T = Layout::Transposed, S = Layout::Stepped, E = Layout::Expanded;

// 3-d, transposed, stepped, expanded and empty inputs with a last dim of at least 3.
std::vector<Case> last_dim_cases(Gen g = N) {
  return {{"3d", {arg({2, 3, 4}, g)}},         {"1d", {arg({7}, g)}},
          {"transposed", {arg({3, 4}, g, T)}}, {"stepped", {arg({2, 5}, g, S)}},
          {"expanded", {arg({3, 4}, g, E)}},   {"empty", {arg({0, 3}, g)}}};
}

std::vector<Case> matrix_cases() {
  return {{"wide", {arg({4, 5})}},
          {"batched", {arg({2, 3, 4})}},
          {"transposed", {arg({3, 4}, N, T)}},
          {"expanded", {arg({3, 4}, N, E)}},
          {"empty", {arg({0, 3})}}};
}

float g_blob[6] = {1, 2, 3, 4, 5, 6};

}  // namespace

std::vector<OpRow> shape_index_creation_rows() {
  std::vector<OpRow> r;
  // ---- views ----
  r.push_back(row("reshape", "flat", EF(reshape(x[0], {-1}), reshape(x[0], {1, -1})),
                  TF(x[0].reshape({-1}), x[0].reshape({1, -1})), unary_cases()));
  r.push_back(row("reshape", "split", EF(reshape(x[0], {2, -1, 2})), TF(x[0].reshape({2, -1, 2})),
                  {{"3d", {arg({2, 3, 4})}},
                   {"transposed", {arg({4, 6}, N, T)}},
                   {"stepped", {arg({4, 3}, N, S)}},
                   {"expanded", {arg({4, 3}, N, E)}}}));
  r.push_back(row("view", "", EF(view(x[0], {-1}), view(x[0], {1, -1})),
                  TF(x[0].view({-1}), x[0].view({1, -1})),
                  {{"3d", {arg({2, 3, 4})}}, {"0d", {arg({})}}, {"empty", {arg({0, 3})}}}));
  r.push_back(row("view", "noncontig", EF(view(x[0], {3, 2, 2}), view(x[0], {3, 4, 1})),
                  TF(x[0].view({3, 2, 2}), x[0].view({3, 4, 1})),
                  {{"transposed", {arg({3, 4}, N, T)}}, {"stepped", {arg({3, 4}, N, S)}}}));
  r.push_back(row("permute", "", EF(permute(x[0], {2, 0, 1}), permute(x[0], {-1, 1, 0})),
                  TF(x[0].permute({2, 0, 1}), x[0].permute({-1, 1, 0})),
                  {{"3d", {arg({2, 3, 4})}},
                   {"transposed", {arg({2, 3, 4}, N, T)}},
                   {"expanded", {arg({2, 3, 4}, N, E)}},
                   {"empty", {arg({2, 0, 3})}}}));
  r.push_back(
      row("permute", "0d", EF(permute(x[0], {})), TF(x[0].permute({})), {{"0d", {arg({})}}}));
  r.push_back(
      row("transpose", "", EF(transpose(x[0], 0, -1)), TF(x[0].transpose(0, -1)), unary_cases()));
  std::vector<Case> ones_cases = {{"ones", {arg({2, 1, 3, 1})}},
                                  {"1", {arg({1})}},
                                  {"0d", {arg({})}},
                                  {"empty", {arg({0, 1})}},
                                  {"expanded", {arg({3, 1, 4}, N, E)}},
                                  {"transposed", {arg({1, 3}, N, T)}}};
  r.push_back(row("squeeze", "", EF(squeeze(x[0])), TF(x[0].squeeze()), ones_cases));
  r.push_back(row("squeeze_dim", "", EF(squeeze(x[0], -1), squeeze(x[0], 0)),
                  TF(x[0].squeeze(-1), x[0].squeeze(0)), ones_cases));
  r.push_back(row("unsqueeze", "", EF(unsqueeze(x[0], 0), unsqueeze(x[0], -1)),
                  TF(x[0].unsqueeze(0), x[0].unsqueeze(-1)), unary_cases()));
  r.push_back(row("expand", "", EF(expand(x[0], {2, 3, 4})), TF(x[0].expand({2, 3, 4})),
                  {{"col", {arg({3, 1})}},
                   {"row", {arg({4})}},
                   {"0d", {arg({})}},
                   {"transposed", {arg({3, 1}, N, T)}},
                   {"same", {arg({2, 3, 4})}}}));
  r.push_back(row("expand", "keep", EF(expand(x[0], {2, -1, 4})), TF(x[0].expand({2, -1, 4})),
                  {{"col", {arg({3, 1})}}, {"empty", {arg({0, 1})}}}));
  r.push_back(row("narrow", "", EF(narrow(x[0], -1, 1, 2), narrow(x[0], 0, 0, 0)),
                  TF(x[0].narrow(-1, 1, 2), x[0].narrow(0, 0, 0)), last_dim_cases()));
  r.push_back(row("slice", "", EF(slice(x[0], -1, 1, 4, 2), slice(x[0], 0, -2, 100)),
                  TF(x[0].slice(-1, 1, 4, 2), x[0].slice(0, -2, 100)), last_dim_cases()));
  std::vector<Case> select_cases = last_dim_cases();
  select_cases.pop_back();  // empty: nothing to select
  r.push_back(row("select", "", EF(select(x[0], 0, -1), select(x[0], -1, 1), x[0][0]),
                  TF(x[0].select(0, -1), x[0].select(-1, 1), x[0][0]), select_cases));
  r.push_back(row("flatten", "all", EF(flatten(x[0])), TF(x[0].flatten()), unary_cases()));
  r.push_back(row("flatten", "from1", EF(flatten(x[0], 1), flatten(x[0], 0, 1)),
                  TF(x[0].flatten(1), x[0].flatten(0, 1)),
                  {{"3d", {arg({2, 3, 4})}},
                   {"transposed", {arg({2, 3, 4}, N, T)}},
                   {"empty", {arg({0, 3, 2})}}}));
  r.push_back(row("unflatten", "", EF(unflatten(x[0], -1, {2, -1})),
                  TF(x[0].unflatten(-1, {2, -1})),
                  {{"3d", {arg({2, 3, 4})}},
                   {"transposed", {arg({3, 4}, N, T)}},
                   {"stepped", {arg({2, 6}, N, S)}},
                   {"empty", {arg({0, 4})}}}));
  r.push_back(row("contiguous", "", EF(contiguous(x[0]), x[0].contiguous()),
                  TF(x[0].contiguous(), x[0].contiguous()), unary_cases()));

  // ---- joins and splits ----
  r.push_back(row("cat", "dim0", EF(cat({x[0], x[1]}, 0)), TF(torch::cat({x[0], x[1]}, 0)),
                  {{"2d", {arg({2, 3}), arg({4, 3})}},
                   {"noncontig", {arg({2, 3}, N, T), arg({1, 3}, N, S)}},
                   {"empty", {arg({0, 3}), arg({2, 3})}},
                   {"1d", {arg({3}), arg({4})}},
                   {"int_float", {int_arg({2, 3}), arg({1, 3})}}}));
  r.push_back(row("cat", "float64", EF(cat({x[0], x[1].to(kFloat64)}, 1)),
                  TF(torch::cat({x[0], x[1].to(torch::kFloat64)}, 1)),
                  {{"2d", {arg({2, 3}), arg({2, 2})}}}));
  r.push_back(row("cat", "last", EF(cat({x[0], x[1], x[2]}, -1)),
                  TF(torch::cat({x[0], x[1], x[2]}, -1)),
                  {{"2d", {arg({2, 3}), arg({2, 1}), arg({2, 4})}},
                   {"3d", {arg({2, 3, 2}), arg({2, 3, 1}, N, E), arg({2, 3, 2}, N, T)}}}));
  r.push_back(row("stack", "", EF(stack({x[0], x[1]}, 0), stack({x[0], x[1]}, -1)),
                  TF(torch::stack({x[0], x[1]}, 0), torch::stack({x[0], x[1]}, -1)),
                  {{"2d", {arg({2, 3}), arg({2, 3})}},
                   {"0d", {arg({}), arg({})}},
                   {"noncontig", {arg({3, 4}, N, T), arg({3, 4}, N, E)}},
                   {"empty", {arg({0, 3}), arg({0, 3})}}}));
  r.push_back(row("split", "", EFV(split(x[0], 2, -1)), TFV(x[0].split(2, -1)),
                  {{"2d", {arg({2, 5})}},
                   {"transposed", {arg({3, 4}, N, T)}},
                   {"empty", {arg({0, 3})}},
                   {"empty_dim", {arg({3, 0})}}}));
  r.push_back(row("split_with_sizes", "", EFV(split_with_sizes(x[0], {1, 3, 1}, -1)),
                  TFV(x[0].split_with_sizes({1, 3, 1}, -1)),
                  {{"2d", {arg({2, 5})}}, {"stepped", {arg({3, 5}, N, S)}}}));
  r.push_back(row("chunk", "", EFV(chunk(x[0], 3, -1)), TFV(x[0].chunk(3, -1)),
                  {{"uneven", {arg({2, 7})}},
                   {"even", {arg({2, 6})}},
                   {"few", {arg({2, 2})}},
                   {"transposed", {arg({3, 5}, N, T)}},
                   {"empty_dim", {arg({2, 0})}}}));
  r.push_back(row("chunk", "dim0", EFV(chunk(x[0], 4, 0)), TFV(x[0].chunk(4, 0)),
                  {{"uneven", {arg({5, 2})}}, {"six", {arg({6, 2})}}, {"empty", {arg({0, 3})}}}));
  r.push_back(row("tril", "", EF(tril(x[0]), tril(x[0], 1), tril(x[0], -1)),
                  TF(x[0].tril(), x[0].tril(1), x[0].tril(-1)), matrix_cases()));
  r.push_back(row("triu", "", EF(triu(x[0]), triu(x[0], 2), triu(x[0], -1)),
                  TF(x[0].triu(), x[0].triu(2), x[0].triu(-1)), matrix_cases()));

  // ---- indexing ----
  r.push_back(row("gather", "", EF(gather(x[0], 1, x[1])), TF(x[0].gather(1, x[1])),
                  {{"2d", {arg({3, 5}), idx_arg({3, 4}, 5)}},
                   {"3d", {arg({2, 3, 4}), idx_arg({2, 5, 4}, 3)}},
                   {"transposed", {arg({3, 5}, N, T), idx_arg({3, 7}, 5)}},
                   {"smaller_index", {arg({3, 5}), idx_arg({2, 3}, 5)}},
                   {"empty", {arg({3, 5}), idx_arg({3, 0}, 5)}}}));
  r.push_back(row("gather", "dim0", EF(gather(x[0], 0, x[1])), TF(x[0].gather(0, x[1])),
                  {{"2d", {arg({3, 5}), idx_arg({4, 5}, 3)}}, {"0d", {arg({}), idx_arg({}, 1)}}}));
  r.push_back(row("scatter_add", "", EF(scatter_add(x[0], 1, x[1], x[2])),
                  TF(x[0].scatter_add(1, x[1], x[2])),
                  {{"2d", {arg({3, 5}), idx_arg({3, 4}, 5), arg({3, 4})}},
                   {"3d", {arg({2, 3, 4}), idx_arg({2, 6, 4}, 3), arg({2, 6, 4})}},
                   {"noncontig", {arg({3, 5}, N, T), idx_arg({3, 4}, 5), arg({3, 4}, N, S)}}}));
  r.push_back(row("index_select", "", EF(index_select(x[0], 0, x[1]), index_select(x[0], -1, x[1])),
                  TF(x[0].index_select(0, x[1]), x[0].index_select(-1, x[1])),
                  {{"2d", {arg({5, 5}), idx_arg({4}, 5)}},
                   {"transposed", {arg({5, 5}, N, T), idx_arg({7}, 5)}},
                   {"expanded", {arg({5, 5}, N, E), idx_arg({3}, 5)}},
                   {"0d_index", {arg({3, 3}), idx_arg({}, 3)}},
                   {"empty_index", {arg({3, 3}), idx_arg({0}, 3)}}}));
  r.push_back(row("index_add", "", EF(index_add(x[0], 0, x[1], x[2])),
                  TF(x[0].index_add(0, x[1], x[2])),
                  {{"2d", {arg({5, 3}), idx_arg({4}, 5), arg({4, 3})}},
                   {"noncontig", {arg({5, 3}, N, T), idx_arg({6}, 5), arg({6, 3}, N, S)}}}));
  r.push_back(row("index_add", "big", EF(index_add(x[0], 0, x[1], x[2])),
                  TF(x[0].index_add(0, x[1], x[2])),
                  {{"rows", {arg({50, 600}), idx_arg({80}, 50), arg({80, 600})}, false}}));
  r.push_back(row("index_add", "dim1", EF(index_add(x[0], 1, x[1], x[2])),
                  TF(x[0].index_add(1, x[1], x[2])),
                  {{"3d", {arg({2, 5, 3}), idx_arg({4}, 5), arg({2, 4, 3})}}}));
  r.push_back(row("index_tensor", "", EF(index(x[0], x[1]), x[0].index(x[1])),
                  TF(x[0].index({x[1]}), x[0].index({x[1]})),
                  {{"2d", {arg({5, 3}), idx_arg({2, 3}, 5, Gen::IndexNeg)}},
                   {"1d", {arg({6}), idx_arg({4}, 6, Gen::IndexNeg)}},
                   {"transposed", {arg({5, 3}, N, T), idx_arg({4}, 5)}},
                   {"0d_index", {arg({5, 3}), idx_arg({}, 5)}}}));
  r.push_back(row("index_mask", "", EF(index(x[0], x[1])), TF(x[0].index({x[1]})),
                  {{"full", {arg({3, 4}), bool_arg({3, 4})}},
                   {"leading", {arg({3, 4}), bool_arg({3})}},
                   {"leading_square", {arg({3, 3}), bool_arg({3})}},
                   {"transposed", {arg({3, 4}, N, T), bool_arg({3, 4})}},
                   {"empty", {arg({0, 3}), bool_arg({0, 3})}},
                   {"empty_rows", {arg({3, 0}), bool_arg({3})}}}));
  r.push_back(row("masked_select", "", EF(masked_select(x[0], x[1])),
                  TF(torch::masked_select(x[0], x[1])),
                  {{"same", {arg({3, 4}), bool_arg({3, 4})}},
                   {"broadcast", {arg({3, 4}), bool_arg({4})}},
                   {"broadcast_x", {arg({4}), bool_arg({3, 4})}},
                   {"noncontig", {arg({3, 4}, N, T), bool_arg({3, 1})}}}));
  r.push_back(row("masked_fill", "", EF(masked_fill(x[0], x[1], -2.5)),
                  TF(x[0].masked_fill(x[1], -2.5)),
                  {{"same", {arg({3, 4}), bool_arg({3, 4})}},
                   {"broadcast", {arg({2, 3, 4}), bool_arg({3, 1})}},
                   {"0d_mask", {arg({3, 4}), bool_arg({})}},
                   {"noncontig", {arg({3, 4}, N, T), bool_arg({4})}}}));
  r.push_back(row("masked_fill", "int", EF(masked_fill(x[0], x[1], 7)),
                  TF(x[0].masked_fill(x[1], 7)), {{"int", {int_arg({3, 4}), bool_arg({3, 4})}}},
                  false));
  r.push_back(row("embedding", "", EF(embedding(x[0], x[1])), TF(torch::embedding(x[0], x[1])),
                  {{"2d", {arg({10, 4}), idx_arg({2, 3}, 10)}},
                   {"0d", {arg({10, 4}), idx_arg({}, 10)}},
                   {"transposed", {arg({10, 4}, N, T), idx_arg({5}, 10)}}}));
  r.push_back(row("embedding", "padding", EF(embedding(x[0], x[1], 2)),
                  TF(torch::embedding(x[0], x[1], 2)),
                  // The padding row gets no gradient by design (as in torch), although the
                  // output depends on it: finite differences disagree there.
                  {{"2d", {arg({5, 4}), idx_arg({4, 6}, 5)}, /*gradcheck=*/false}}));
  r.push_back(row("one_hot", "", EF(one_hot(x[0], 5), one_hot(x[0])),
                  TF(torch::one_hot(x[0], 5), torch::one_hot(x[0])),
                  {{"2d", {idx_arg({2, 3}, 5)}}, {"0d", {idx_arg({}, 5)}}}, false));
  r.push_back(row("one_hot", "empty", EF(one_hot(x[0], 5)), TF(torch::one_hot(x[0], 5)),
                  {{"empty", {idx_arg({0}, 5)}}}, false));
  std::vector<Case> sort_cases = {{"2d", {arg({3, 5}, D)}},
                                  {"3d", {arg({2, 3, 4}, D)}},
                                  {"transposed", {arg({3, 4}, D, T)}},
                                  {"1d", {arg({7}, D)}},
                                  {"0d", {arg({}, D)}}};
  r.push_back(
      row("topk", "", EFV(vec(topk(x[0], 1, -1))), TFV(vec(torch::topk(x[0], 1, -1))), sort_cases));
  r.push_back(row("topk", "smallest", EFV(vec(topk(x[0], 2, 0, false))),
                  TFV(vec(torch::topk(x[0], 2, 0, false))),
                  {{"2d", {arg({3, 5}, D)}}, {"stepped", {arg({4, 3}, D, S)}}}));
  r.push_back(
      row("sort", "", EFV(vec(sort(x[0], -1))), TFV(vec(torch::sort(x[0], -1))), sort_cases));
  r.push_back(row("sort", "descending_dim0", EFV(vec(sort(x[0], 0, true))),
                  TFV(vec(torch::sort(x[0], 0, true))), sort_cases));
  r.push_back(row("sort", "stable_ties", EFV(vec(sort(x[0], -1, true))),
                  TFV(vec(torch::sort(x[0], true, -1, true))),
                  {{"ties", {arg({3, 8}, Gen::SmallIntF)}, false},
                   {"nan_inf", {arg({2, 9}, Gen::Special)}, false}}));
  r.push_back(row("argsort", "", EF(argsort(x[0]), argsort(x[0], 0, true)),
                  TF(x[0].argsort(), x[0].argsort(0, true)), sort_cases, false));

  // ---- creation ----
  r.push_back(make_row("empty", "", EF(empty({2, 3}), empty({0}, kInt64)),
                       TF(torch::empty({2, 3}), torch::empty({0}, torch::kInt64)), false));
  r.push_back(
      make_row("zeros", "", EF(zeros({2, 3}), zeros({}, kInt64), zeros({0, 2})),
               TF(torch::zeros({2, 3}), torch::zeros({}, torch::kInt64), torch::zeros({0, 2}))));
  r.push_back(make_row(
      "ones", "", EF(ones({2, 3}), ones({3}, kBool), ones({}, kFloat64)),
      TF(torch::ones({2, 3}), torch::ones({3}, torch::kBool), torch::ones({}, torch::kFloat64))));
  r.push_back(make_row("full", "", EF(full({2, 3}, 2.5), full({2}, 3, kInt64)),
                       TF(torch::full({2, 3}, 2.5), torch::full({2}, 3, torch::kInt64))));
  r.push_back(make_row("scalar_tensor", "", EF(scalar_tensor(2.5), scalar_tensor(-1, kInt64)),
                       TF(torch::scalar_tensor(2.5), torch::scalar_tensor(-1, torch::kInt64))));
  const std::vector<Case> like_cases = {{"float", {arg({2, 3})}}, {"int", {int_arg({4})}}};
  r.push_back(
      row("empty_like", "", EF(empty_like(x[0])), TF(torch::empty_like(x[0])), like_cases, false));
  r.back().compare_values = false;
  r.push_back(
      row("zeros_like", "", EF(zeros_like(x[0])), TF(torch::zeros_like(x[0])), like_cases, false));
  r.push_back(
      row("ones_like", "", EF(ones_like(x[0])), TF(torch::ones_like(x[0])), like_cases, false));
  r.push_back(row("full_like", "", EF(full_like(x[0], 3)), TF(torch::full_like(x[0], 3)),
                  like_cases, false));
  r.push_back(make_row(
      "arange", "",
      EF(arange(5), arange(1, 2.5, 0.5, kFloat32), arange(0, 1, 0.1, kFloat32), arange(10, 0, -3),
         arange(0, 1, 0.3, kFloat64), arange(0)),
      TF(torch::arange(5), torch::arange(1, 2.5, 0.5), torch::arange(0, 1, 0.1),
         torch::arange(10, 0, -3), torch::arange(0, 1, 0.3, torch::kFloat64), torch::arange(0))));
  r.push_back(make_row(
      "linspace", "",
      EF(linspace(0, 1, 5), linspace(-1, 1, 1), linspace(0, 1, 0), linspace(3, -2, 7, kFloat64)),
      TF(torch::linspace(0, 1, 5), torch::linspace(-1, 1, 1), torch::linspace(0, 1, 0),
         torch::linspace(3, -2, 7, torch::kFloat64))));
  r.push_back(make_row(
      "eye", "", EF(eye(3), eye(2, 4), eye(0), eye(3, 2, kInt64)),
      TF(torch::eye(3), torch::eye(2, 4), torch::eye(0), torch::eye(3, 2, torch::kInt64))));
  r.push_back(make_row("rand", "", EF(rand({2, 3}), rand({4}, kFloat64)),
                       TF(torch::rand({2, 3}), torch::rand({4}, torch::kFloat64)), false));
  r.push_back(make_row("randn", "", EF(randn({2, 3}), randn({}, kFloat64)),
                       TF(torch::randn({2, 3}), torch::randn({}, torch::kFloat64)), false));
  r.push_back(make_row("randint", "", EF(randint(0, 5, {2, 3}), randint(-2, 2, {4}, kInt32)),
                       TF(torch::randint(0, 5, {2, 3}), torch::randint(-2, 2, {4}, torch::kInt32)),
                       false));
  r.push_back(
      make_row("normal", "", EF(normal(1, 2, {3, 2})), TF(torch::normal(1, 2, {3, 2})), false));
  r.push_back(row("rand_like", "", EF(rand_like(x[0])), TF(torch::rand_like(x[0])),
                  {{"float", {arg({2, 3})}}}, false));
  r.back().compare_values = false;
  r.push_back(row("randn_like", "", EF(randn_like(x[0])), TF(torch::randn_like(x[0])),
                  {{"float", {arg({2, 3})}}}, false));
  r.back().compare_values = false;
  r.push_back(make_row("randperm", "sorted", EF(std::get<0>(sort(randperm(10))), randperm(0)),
                       TF(torch::arange(10), torch::randperm(0))));
  r.push_back(make_row("tensor", "", EF(tensor({1, 2.5, 3}), tensor({{1, 2}, {3, 4}}, kInt64)),
                       TF(torch::tensor({1.f, 2.5f, 3.f}),
                          torch::tensor({1, 2, 3, 4}, torch::kInt64).reshape({2, 2}))));
  r.push_back(make_row("from_vector", "",
                       EF(from_vector(std::vector<int32_t>{1, 2, 3, 4}, {2, 2}),
                          from_vector(std::vector<double>{0.5, 1.5})),
                       TF(torch::tensor({1, 2, 3, 4}, torch::kInt32).reshape({2, 2}),
                          torch::tensor({0.5, 1.5}, torch::kFloat64))));
  r.push_back(make_row(
      "from_blob", "strided",
      EF(from_blob(g_blob, {2, 3}, kFloat32), from_blob(g_blob, {3, 2}, kFloat32, {}, {1, 3})),
      TF(torch::from_blob(g_blob, {2, 3}), torch::from_blob(g_blob, {3, 2}, {1, 3}))));
  return r;
}

EMBER_INSTANTIATE_OP_TABLE(ShapeIndexCreation, shape_index_creation_rows);

}  // namespace ember::optest
