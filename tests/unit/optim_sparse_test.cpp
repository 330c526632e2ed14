// Row-sparse gradients with the optimizers: SparseAdam and Adagrad's sparse path against
// torch.optim over several steps, lazy rows staying bit-identical, zero_grad, dense fallbacks.
#include <gtest/gtest.h>

#include <cstring>

#include "ember/autograd/sparse_grad.h"
#include "ember/ember.h"
#include "ember/optim/sparse_adam.h"
#include "support/model_checks.h"

namespace ember {
namespace {

using testing::bit_identical;
using testing::max_abs_diff;

Tensor iv(std::vector<int64_t> v) {
  return from_vector(v);
}

// loss = sum(embedding_bag(w, idx, off, mode, sparse) * c), then backward.
void bag_backward(const Tensor& w, const Tensor& idx, const Tensor& off, const Tensor& c,
                  const std::string& mode) {
  sum(embedding_bag(w, idx, off, mode, {}, -1, false, /*sparse=*/true) * c).backward();
}

// ---- against torch.optim (tests/support/sparse_optim_reference.py) ----

const std::map<std::string, Tensor>& reference() {
  static const std::map<std::string, Tensor> ref = [] {
    const auto dir = testing::run_reference_script("sparse_optim_reference.py", "optim_sparse");
    return io::load_safetensors_map((dir / "reference.safetensors").string(), false);
  }();
  return ref;
}

void check_trajectory(const std::string& name, optim::Optimizer& opt, const Tensor& w,
                      const std::string& mode) {
  const auto& ref = reference();
  const Tensor w0 = ref.at("w0");
  for (int s = 0; s < 6; ++s) {
    const std::string k = std::to_string(s);
    opt.zero_grad();
    bag_backward(w, ref.at("idx." + k), ref.at("off." + k), ref.at("c." + k), mode);
    ASSERT_TRUE(w.grad_is_row_sparse());
    opt.step();
    // float32 gradients summed in another order than torch's coalesce: ~1 ulp apart.
    EXPECT_LE(max_abs_diff(w, ref.at(name + ".w." + k)), 2e-6) << name << " step " << s;
  }
  // Rows 20.. are never used: bit-identical to the start, as in torch.
  EXPECT_TRUE(bit_identical(w.narrow(0, 20, 10), w0.narrow(0, 20, 10)));
  EXPECT_TRUE(bit_identical(w.narrow(0, 20, 10), ref.at(name + ".w.5").narrow(0, 20, 10)));
}

TEST(SparseAdam, MatchesTorchSparseAdamOnEmbeddingBag) {
  if (!testing::have_torch()) GTEST_SKIP() << "/usr/bin/python3 with torch is needed";
  Tensor w = reference().at("w0").clone().requires_grad_();
  optim::SparseAdam opt({w}, {.lr = 0.05, .betas = {0.8, 0.95}, .eps = 1e-6});
  check_trajectory("sparse_adam", opt, w, "sum");
  EXPECT_LE(max_abs_diff(opt.state_buffer(w, "exp_avg"), reference().at("sparse_adam.exp_avg")),
            1e-6);
  EXPECT_LE(
      max_abs_diff(opt.state_buffer(w, "exp_avg_sq"), reference().at("sparse_adam.exp_avg_sq")),
      1e-6);
  EXPECT_EQ(opt.state(w)->step, 6);
}

TEST(Adagrad, SparsePathMatchesTorchOnEmbeddingBag) {
  if (!testing::have_torch()) GTEST_SKIP() << "/usr/bin/python3 with torch is needed";
  Tensor w = reference().at("w0").clone().requires_grad_();
  optim::Adagrad opt({w}, {.lr = 0.3, .lr_decay = 0.05, .initial_accumulator_value = 0.1});
  check_trajectory("adagrad", opt, w, "mean");
  EXPECT_LE(max_abs_diff(opt.state_buffer(w, "sum"), reference().at("adagrad.sum")), 1e-6);
}

// ---- lazy updates: rows not used in a step keep parameter and state bit for bit ----

template <class Opt, class Options>
void expect_lazy(Options o) {
  Generator gen(21);
  Tensor w = randn({12, 4}, kFloat32, &gen).requires_grad_();
  Opt opt({w}, o);
  const Tensor c = randn({2, 4}, kFloat32, &gen);
  opt.zero_grad();
  bag_backward(w, iv({1, 5, 5, 7}), iv({0, 2}), c, "sum");  // step 1: rows 1, 5, 7
  opt.step();
  const Tensor w1 = w.detach().clone();
  std::vector<Tensor> st1;
  for (const std::string& n : opt.state_names()) st1.push_back(opt.state_buffer(w, n).clone());
  opt.zero_grad();
  bag_backward(w, iv({5, 2}), iv({0, 1}), c, "sum");  // step 2: rows 2, 5
  opt.step();
  for (int64_t r = 0; r < 12; ++r) {
    const bool used = r == 2 || r == 5;
    EXPECT_EQ(bit_identical(w[r], w1[r]), !used) << "row " << r;
    for (size_t b = 0; b < st1.size(); ++b)
      EXPECT_EQ(bit_identical(opt.state_buffer(w, opt.state_names()[b])[r], st1[b][r]), !used)
          << opt.state_names()[b] << " row " << r;
  }
}

TEST(SparseAdam, UnusedRowsAndTheirStateStayBitIdentical) {
  expect_lazy<optim::SparseAdam>(optim::SparseAdamOptions{.lr = 0.1});
}

TEST(Adagrad, SparseUnusedRowsAndTheirStateStayBitIdentical) {
  expect_lazy<optim::Adagrad>(optim::AdagradOptions{.lr = 0.1, .initial_accumulator_value = 0.2});
}

TEST(SparseAdam, DenseGradientUpdatesEveryRowAsTheSparseOneWould) {
  Generator gen(4);
  const Tensor w0 = randn({6, 3}, kFloat32, &gen);
  Tensor a = w0.clone().requires_grad_(), b = w0.clone().requires_grad_();
  optim::SparseAdam opt({a, b}, {.lr = 0.1});
  for (int s = 0; s < 3; ++s) {
    const Tensor c = randn({6, 3}, kFloat32, &gen);
    opt.zero_grad();
    // a: a row-sparse gradient using every row once; b: the same gradient, dense.
    bag_backward(a, arange(6), arange(6), c, "sum");
    sum(b * c).backward();
    ASSERT_TRUE(a.grad_is_row_sparse());
    ASSERT_FALSE(b.grad_is_row_sparse());
    opt.step();
    EXPECT_TRUE(bit_identical(a, b)) << "step " << s;
  }
  EXPECT_THROW(optim::SparseAdam({a}, {.lr = -1}), Error);
}

TEST(Adagrad, WeightDecayWithASparseGradientIsAnError) {
  Tensor w = randn({5, 2}).requires_grad_();
  optim::Adagrad opt({w}, {.lr = 0.1, .weight_decay = 0.01});
  bag_backward(w, iv({1}), iv({0}), ones({1, 2}), "sum");
  try {
    opt.step();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("weight_decay"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sparse"), std::string::npos) << e.what();
  }
}

TEST(RowSparseGrad, DenseOptimizersReadTheBufferAsDense) {
  Generator gen(9);
  const Tensor w0 = randn({7, 3}, kFloat32, &gen);
  Tensor a = w0.clone().requires_grad_(), b = w0.clone().requires_grad_();
  optim::Adam opt({a, b}, {.lr = 0.1});
  const Tensor c = randn({2, 3}, kFloat32, &gen);
  sum(embedding_bag(a, iv({2, 2, 6}), iv({0, 1}), "sum", {}, -1, false, true) * c).backward();
  sum(embedding_bag(b, iv({2, 2, 6}), iv({0, 1}), "sum", {}, -1, false, false) * c).backward();
  opt.step();
  EXPECT_TRUE(bit_identical(a, b));
}

TEST(RowSparseGrad, ZeroGradOfOptimizerAndModuleClearOnlyTheRows) {
  struct Table : nn::Module {
    Tensor weight;
    Table() { weight = register_parameter("weight", randn({9, 2})); }
  };
  Table m;
  optim::SparseAdam opt(m.parameters(), {.lr = 0.1});
  bag_backward(m.weight, iv({3, 8, 3}), iv({0}), ones({1, 2}), "sum");
  const Tensor buf = m.weight.grad();
  std::vector<int64_t> rows = m.weight.grad_rows();
  EXPECT_EQ(rows, (std::vector<int64_t>{3, 8, 3}));
  EXPECT_TRUE(bit_identical(autograd::unique_grad_rows(m.weight), iv({3, 8})));
  opt.zero_grad();  // set_to_none: the buffer stays, zeroed
  EXPECT_TRUE(m.weight.grad().is_same(buf));
  EXPECT_TRUE(m.weight.grad_rows().empty());
  EXPECT_EQ(sum(abs(buf)).item(), 0.0);
  // nothing written since zero_grad: step() skips the parameter, as torch skips grad None
  const Tensor before = m.weight.detach().clone();
  opt.step();
  EXPECT_TRUE(bit_identical(m.weight, before));
  EXPECT_EQ(opt.state(m.weight), nullptr);
  bag_backward(m.weight, iv({1}), iv({0}), ones({1, 2}), "sum");
  m.zero_grad(false);
  EXPECT_TRUE(m.weight.grad().is_same(buf));
  EXPECT_TRUE(m.weight.grad_rows().empty());
  EXPECT_EQ(sum(abs(buf)).item(), 0.0);
}

TEST(RowSparseGrad, SetGradMakesItDense) {
  Tensor w = randn({4, 2}).requires_grad_();
  bag_backward(w, iv({1}), iv({0}), ones({1, 2}), "sum");
  ASSERT_TRUE(w.grad_is_row_sparse());
  w.set_grad(ones({4, 2}));
  EXPECT_FALSE(w.grad_is_row_sparse());
  EXPECT_TRUE(w.grad_rows().empty());
  autograd::zero_grad(w, true);
  EXPECT_FALSE(w.grad().defined());
}

}  // namespace
}  // namespace ember
