// Op-table rows for embedding_bag and fm_interaction against libtorch; row-sparse gradients
// (sparse = true) against the dense ones; embedding_bag's errors.
#include "ember/autograd/sparse_grad.h"
#include "ember/ops/recsys.h"
#include "parity/ops_table.h"

namespace ember::optest {

namespace {

namespace F = torch::nn::functional;
using ember::testing::from_torch;
using ember::testing::to_torch;

const Layout T = Layout::Transposed;

// Deterministic bag boundaries for n indices: bags of 2, 0, 3, 1, 4, 2, ... entries (empty bags
// included); the last bag takes the remainder. include_last: also the end offset, set to
// n - trim (entries past it belong to no bag, as in torch).
std::vector<int64_t> offsets_for(int64_t n, bool include_last, int64_t trim = 0) {
  static const int64_t lens[] = {2, 0, 3, 1, 4, 2};
  std::vector<int64_t> o;
  int64_t at = 0;
  for (size_t k = 0; at < n; ++k) {
    o.push_back(at);
    at += lens[k % 6];
  }
  if (o.empty()) o.push_back(0);
  if (include_last) o.push_back(std::max<int64_t>(n - trim, o.back()));
  return o;
}

struct BagSpec {
  std::string mode = "sum";
  bool include_last = false;
  int64_t trim = 0;      // include_last: the last offset stops this many entries early
  int64_t padding = -1;  // padding_idx
  bool psw = false;      // x[2] is per_sample_weights
  bool two_d = false;    // indices (B, L), no offsets
};

torch::nn::EmbeddingBagMode torch_mode(const std::string& m) {
  if (m == "sum") return torch::kSum;
  if (m == "mean") return torch::kMean;
  return torch::kMax;
}

OpRow bag_row(const std::string& variant, BagSpec s, std::vector<Case> cases) {
  EmberFn e = [s](const std::vector<Tensor>& x) -> std::vector<Tensor> {
    Tensor off;
    if (!s.two_d) off = from_vector(offsets_for(x[1].numel(), s.include_last, s.trim));
    return {
        embedding_bag(x[0], x[1], off, s.mode, s.psw ? x[2] : Tensor(), s.padding, s.include_last)};
  };
  TorchFn t = [s](const std::vector<torch::Tensor>& x) -> std::vector<torch::Tensor> {
    auto o =
        F::EmbeddingBagFuncOptions().mode(torch_mode(s.mode)).include_last_offset(s.include_last);
    if (!s.two_d) {
      const std::vector<int64_t> v = offsets_for(x[1].numel(), s.include_last, s.trim);
      o = o.offsets(torch::tensor(v, torch::kInt64));
    }
    if (s.psw) o = o.per_sample_weights(x[2]);
    if (s.padding >= 0) o = o.padding_idx(s.padding);
    return {F::embedding_bag(x[1], x[0], o)};
  };
  return {"embedding_bag", variant, std::move(e), std::move(t), std::move(cases), true};
}

// weight (V, D) and n indices in [0, V); plus per_sample_weights.
std::vector<Case> bag_cases(bool psw = false, bool two_d = false) {
  const auto a = [&](Shape w, Layout l, Shape idx, int64_t V) {
    std::vector<Arg> v = {arg(w, Gen::Normal, l), idx_arg(idx, V)};
    if (psw) v.push_back(arg(idx));
    return v;
  };
  if (two_d)
    return {{"small", a({10, 4}, Layout::Contig, {3, 4}, 10)},
            {"transposed", a({6, 5}, T, {5, 3}, 6)},
            {"big", a({50, 16}, Layout::Contig, {500, 6}, 50), false}};
  return {{"small", a({10, 4}, Layout::Contig, {13}, 10)},
          {"transposed", a({6, 5}, T, {9}, 6)},
          {"empty_bags", a({7, 3}, Layout::Contig, {2}, 7)},
          {"big", a({60, 16}, Layout::Contig, {3000}, 60), false}};
}

std::vector<OpRow> recsys_rows() {
  std::vector<OpRow> r;
  for (std::string m : {"sum", "mean", "max"}) {
    r.push_back(bag_row(m, {.mode = m}, bag_cases()));
    r.push_back(bag_row(m + "_2d", {.mode = m, .two_d = true}, bag_cases(false, true)));
    r.push_back(bag_row(m + "_last", {.mode = m, .include_last = true}, bag_cases()));
    r.push_back(bag_row(m + "_padding", {.mode = m, .padding = 2}, bag_cases()));
  }
  r.push_back(bag_row("psw", {.mode = "sum", .psw = true}, bag_cases(true)));
  r.push_back(bag_row("psw_padding_2d", {.mode = "sum", .padding = 1, .psw = true, .two_d = true},
                      bag_cases(true, true)));
  r.push_back(
      bag_row("psw_last", {.mode = "sum", .include_last = true, .psw = true}, bag_cases(true)));
  r.push_back({"fm_interaction",
               "",
               EF(fm_interaction(x[0])),
               TF(0.5 * (x[0].sum(1).pow(2) - x[0].pow(2).sum(1)).sum(1)),
               {{"small", {arg({4, 5, 3})}},
                {"one_field", {arg({3, 1, 4})}},
                {"transposed", {arg({2, 4, 6}, Gen::Normal, T)}},
                {"empty", {arg({0, 3, 2})}},
                {"big", {arg({256, 12, 16})}, false}},
               true});
  return r;
}

}  // namespace

std::vector<OpRow> recsys_op_rows() {
  return recsys_rows();
}

EMBER_INSTANTIATE_OP_TABLE(Recsys, recsys_op_rows);

namespace {

// Runs embedding_bag on a fresh float32 weight leaf with the given sparse flag and returns it.
struct BagRun {
  Tensor weight, psw;
};

BagRun run_bag(bool sparse, const std::string& mode, const std::vector<int64_t>& idx,
               const std::vector<int64_t>& off, bool with_psw, int64_t padding = -1,
               int steps = 1) {
  Generator gen(7);
  BagRun r;
  r.weight = randn({20, 6}, kFloat32, &gen).requires_grad_();
  Tensor g = randn({static_cast<int64_t>(off.size()), 6}, kFloat32, &gen);
  if (with_psw) r.psw = randn({static_cast<int64_t>(idx.size())}, kFloat32, &gen).requires_grad_();
  for (int s = 0; s < steps; ++s) {
    Tensor out = embedding_bag(r.weight, from_vector(idx), from_vector(off), mode, r.psw, padding,
                               false, sparse);
    sum(out * g).backward();
  }
  return r;
}

TEST(EmbeddingBagSparse, SameGradientAsDenseAndListsUsedRows) {
  const std::vector<int64_t> idx = {3, 7, 3, 11, 0, 7, 19, 5}, off = {0, 3, 3, 6};
  for (std::string mode : {"sum", "mean", "max"}) {
    SCOPED_TRACE(mode);
    const bool psw = mode == "sum";
    BagRun dense = run_bag(false, mode, idx, off, psw, -1, 2);
    BagRun sparse = run_bag(true, mode, idx, off, psw, -1, 2);
    ASSERT_TRUE(sparse.weight.grad().defined());
    EXPECT_TRUE(sparse.weight.grad_is_row_sparse());
    EXPECT_FALSE(dense.weight.grad_is_row_sparse());
    EXPECT_TRUE(allclose(sparse.weight.grad(), dense.weight.grad(), 1e-6, 1e-6));
    if (psw) {
      EXPECT_TRUE(allclose(sparse.psw.grad(), dense.psw.grad(), 1e-6, 1e-6));
    }
    std::vector<int64_t> rows = sparse.weight.grad_rows();
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    EXPECT_EQ(rows, (std::vector<int64_t>{0, 3, 5, 7, 11, 19}));
    EXPECT_EQ(sparse.weight.grad_rows().size(), 2 * idx.size());  // two backwards, repeats kept
  }
}

TEST(EmbeddingBagSparse, PaddingRowIsNotListed) {
  BagRun r = run_bag(true, "mean", {2, 4, 2, 9}, {0, 2}, false, /*padding=*/2);
  std::vector<int64_t> rows = r.weight.grad_rows();
  EXPECT_EQ(rows, (std::vector<int64_t>{4, 9}));
  EXPECT_EQ(to_torch(r.weight.grad()[2]).abs().sum().item<double>(), 0.0);
}

TEST(EmbeddingBagSparse, ZeroGradClearsOnlyTheRowsAndKeepsTheBuffer) {
  BagRun r = run_bag(true, "sum", {1, 4, 4, 8}, {0, 2}, false);
  const Tensor buffer = r.weight.grad();
  EXPECT_NE(to_torch(buffer[4]).abs().sum().item<double>(), 0.0);
  for (bool set_to_none : {true, false}) {
    autograd::zero_grad(r.weight, set_to_none);
    ASSERT_TRUE(r.weight.grad().defined());
    EXPECT_TRUE(r.weight.grad().is_same(buffer)) << "the buffer is kept";
    EXPECT_TRUE(r.weight.grad_is_row_sparse());
    EXPECT_TRUE(r.weight.grad_rows().empty());
    EXPECT_EQ(to_torch(buffer).abs().sum().item<double>(), 0.0);
  }
  // The next backward writes into the same buffer.
  Tensor out = embedding_bag(r.weight, from_vector(std::vector<int64_t>{5}),
                             from_vector(std::vector<int64_t>{0}), "sum", {}, -1, false, true);
  sum(out).backward();
  EXPECT_TRUE(r.weight.grad().is_same(buffer));
  EXPECT_EQ(r.weight.grad_rows(), (std::vector<int64_t>{5}));
  EXPECT_EQ(to_torch(buffer).sum().item<double>(), 6.0);
}

TEST(EmbeddingBagSparse, TiedDenseUseFallsBackToDense) {
  Generator gen(3);
  Tensor w = randn({8, 4}, kFloat32, &gen).requires_grad_();
  const Tensor idx = from_vector(std::vector<int64_t>{1, 2, 6}),
               off = from_vector(std::vector<int64_t>{0, 1});
  Tensor x = randn({2, 4}, kFloat32, &gen);
  // sparse lookup plus a dense use of the same weight (a tied output projection)
  auto loss_of = [&](bool sparse) {
    return sum(embedding_bag(w, idx, off, "sum", {}, -1, false, sparse)) + sum(matmul(x, w.t()));
  };
  loss_of(false).backward();
  const Tensor want = w.grad().clone();
  w.set_grad(Tensor());
  loss_of(true).backward();
  EXPECT_FALSE(w.grad_is_row_sparse());
  EXPECT_TRUE(w.grad_rows().empty());
  EXPECT_TRUE(allclose(w.grad(), want, 1e-6, 1e-6));
  // dense zero_grad semantics again
  autograd::zero_grad(w, true);
  EXPECT_FALSE(w.grad().defined());
}

TEST(EmbeddingBagSparse, CreateGraphAndAutogradGradAreNotImplemented) {
  Tensor w = randn({5, 3}).requires_grad_();
  const Tensor idx = from_vector(std::vector<int64_t>{1, 2}),
               off = from_vector(std::vector<int64_t>{0});
  Tensor out = sum(embedding_bag(w, idx, off, "sum", {}, -1, false, true));
  try {
    autograd::grad({out}, {w}, {}, true);
    ADD_FAILURE() << "autograd::grad with sparse=true did not throw";
  } catch (const NotImplementedError& e) {
    EXPECT_NE(std::string(e.what()).find("embedding_bag"), std::string::npos) << e.what();
  }
  try {
    out.backward({}, false, /*create_graph=*/true);
    ADD_FAILURE() << "create_graph with sparse=true did not throw";
  } catch (const NotImplementedError& e) {
    EXPECT_NE(std::string(e.what()).find("sparse"), std::string::npos) << e.what();
  }
}

// torch 1.13 has no double backward for embedding_bag: the reference is the same sum written
// with torch's index ops, out[b] = sum_i psw[i] w[idx[i]] over bag b.
TEST(EmbeddingBagDense, CreateGraphMatchesTorchDoubleBackward) {
  Generator gen(11);
  Tensor w = randn({6, 3}, kFloat64, &gen).requires_grad_();
  Tensor psw = randn({5}, kFloat64, &gen).requires_grad_();
  const std::vector<int64_t> iv = {0, 4, 4, 2, 5}, ov = {0, 2}, bag = {0, 0, 1, 1, 1};
  torch::Tensor tw = to_torch(w).requires_grad_(), tp = to_torch(psw).requires_grad_();
  Tensor c = randn({2, 3}, kFloat64, &gen);
  Tensor l = sum(embedding_bag(w, from_vector(iv), from_vector(ov), "sum", psw) * c);
  torch::Tensor tout = torch::zeros({2, 3}, torch::kFloat64)
                           .index_add(0, torch::tensor(bag),
                                      tp.unsqueeze(1) * tw.index_select(0, torch::tensor(iv)));
  torch::Tensor tl = (tout * to_torch(c)).sum();
  std::vector<Tensor> g = autograd::grad({l}, {w, psw}, {}, false, true);
  auto tg = torch::autograd::grad({tl}, {tw, tp}, {}, c10::nullopt, true);
  ember::testing::expect_parity(g[0], tg[0], 1e-12, "d/dw");
  ember::testing::expect_parity(g[1], tg[1], 1e-12, "d/dpsw");
  ASSERT_TRUE(g[0].requires_grad() && g[1].requires_grad());
  Tensor l2 = sum(g[0] * g[0]) + sum(g[1] * g[1]);
  torch::Tensor tl2 = (tg[0] * tg[0]).sum() + (tg[1] * tg[1]).sum();
  std::vector<Tensor> gg = autograd::grad({l2}, {w, psw});
  auto tgg = torch::autograd::grad({tl2}, {tw, tp});
  ember::testing::expect_parity(gg[0], tgg[0], 1e-12, "d2/dw");
  ember::testing::expect_parity(gg[1], tgg[1], 1e-12, "d2/dpsw");
}

// Expects embedding_bag(...) to throw E with a message containing each of `parts`.
template <class E, class Fn>
void expect_error(Fn f, std::vector<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const E& e) {
    for (const std::string& p : parts)
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << " lacks " << p;
  }
}

TEST(EmbeddingBagErrors, NameTheOpAndTheValues) {
  const Tensor w = randn({5, 3});
  const auto iv = [](std::vector<int64_t> v) { return from_vector(v); };
  expect_error<IndexError>(
      [&] {
        embedding_bag(w, iv({1, 9}), iv({0}), "sum");
      },
      {"embedding_bag", "index 9", "5 rows"});
  expect_error<IndexError>(
      [&] {
        embedding_bag(w, iv({1, -1}), iv({0}), "sum");
      },
      {"embedding_bag", "index -1"});
  expect_error<Error>(
      [&] {
        embedding_bag(w, iv({1, 2}), iv({1}), "sum");
      },
      {"embedding_bag", "offsets[0] must be 0", "got 1"});
  expect_error<Error>(
      [&] {
        embedding_bag(w, iv({1, 2, 3}), iv({0, 2, 1}), "sum");
      },
      {"embedding_bag", "non-decreasing", "offsets[1] = 2"});
  expect_error<Error>(
      [&] {
        embedding_bag(w, iv({1, 2}), iv({0, 3}), "sum");
      },
      {"embedding_bag", "offsets[-1] = 3", "2 entries"});
  expect_error<Error>(
      [&] {
        embedding_bag(w, iv({1, 2}), iv({0}), "mean", ones({2}));
      },
      {"embedding_bag", "per_sample_weights", "\"sum\"", "\"mean\""});
  expect_error<Error>(
      [&] {
        embedding_bag(w, iv({1, 2}), iv({0}), "avg");
      },
      {"embedding_bag", "mode", "\"avg\""});
  expect_error<Error>(
      [&] {
        embedding_bag(w, iv({1, 2}), Tensor(), "sum");
      },
      {"embedding_bag", "offsets"});
  expect_error<Error>(
      [&] {
        embedding_bag(w, iv({1, 2}).view({1, 2}), iv({0}), "sum");
      },
      {"embedding_bag", "2-d"});
  expect_error<ShapeError>(
      [&] {
        embedding_bag(w, iv({1, 2}), iv({0}), "sum", ones({3}));
      },
      {"embedding_bag", "per_sample_weights", "(3,)", "(2,)"});
  expect_error<DTypeError>([&] { embedding_bag(w, ones({2}), iv({0}), "sum"); },
                           {"embedding_bag", "int64"});
  expect_error<ShapeError>([&] { fm_interaction(ones({2, 3})); }, {"fm_interaction", "(2, 3)"});
}

// With include_last_offset, entries past the last offset belong to no bag. (Not a table row:
// torch 1.13's embedding_bag backward corrupts the heap on such inputs.)
TEST(EmbeddingBag, IncludeLastOffsetIgnoresEntriesAfterTheLastOffset) {
  Generator gen(8);
  for (std::string mode : {"sum", "mean", "max"}) {
    SCOPED_TRACE(mode);
    Tensor w = randn({10, 4}, kFloat32, &gen).requires_grad_();
    const Tensor idx = randint(0, 10, {13}, kInt64, &gen);
    const Tensor off = from_vector(std::vector<int64_t>{0, 2, 2, 5, 6, 10, 11});
    const Tensor c = randn({6, 4}, kFloat32, &gen);
    Tensor got = embedding_bag(w, idx, off, mode, {}, -1, true);
    sum(got * c).backward();
    const Tensor g_got = w.grad().clone();
    w.set_grad(Tensor());
    Tensor want = embedding_bag(w, idx.narrow(0, 0, 11), off, mode, {}, -1, true);
    sum(want * c).backward();
    EXPECT_TRUE(allclose(got, want, 0, 0));
    EXPECT_TRUE(allclose(g_got, w.grad(), 0, 0));
  }
}

TEST(EmbeddingBag, Int32IndicesAndFloat64) {
  Generator gen(5);
  Tensor w = randn({9, 4}, kFloat64, &gen);
  Tensor i64 = from_vector(std::vector<int64_t>{8, 0, 3, 3}),
         o64 = from_vector(std::vector<int64_t>{0, 1});
  Tensor a = embedding_bag(w, i64, o64, "mean");
  Tensor b = embedding_bag(w, i64.to(kInt32), o64.to(kInt32), "mean");
  EXPECT_TRUE(allclose(a, b, 0, 0));
  torch::Tensor t = F::embedding_bag(to_torch(i64), to_torch(w),
                                     F::EmbeddingBagFuncOptions().offsets(to_torch(o64)));
  ember::testing::expect_parity(a, t, 1e-12, "float64 mean");
}

}  // namespace

}  // namespace ember::optest
