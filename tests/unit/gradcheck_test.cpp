// gradcheck itself (it must catch a wrong backward) and float64 gradient checks of composite
// functions and of ops on shapes the op table doesn't use. Per-op gradchecks of every
// differentiable op run from the op table (tests/parity/ops_table_test.cpp, OpGradcheck).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "ember/ember.h"

using namespace ember;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

Tensor input(IntList shape, uint64_t seed, double scale = 1, double shift = 0) {
  Generator g(seed);
  return (randn(shape, kFloat64, &g) * scale + shift).detach().requires_grad_();
}

void expect_gradcheck(const Fn& f, const std::vector<Tensor>& inputs, const std::string& what) {
  const autograd::GradcheckResult r = autograd::gradcheck(f, inputs);
  EXPECT_TRUE(r.ok) << what << ": " << r.detail << " (max abs error " << r.max_abs_error << ")";
}

}  // namespace

TEST(Gradcheck, CatchesAWrongBackward) {
  // exp with the backward of 2x: gradcheck must fail and say where.
  Fn bad = [](const std::vector<Tensor>& v) {
    Tensor out;
    {
      NoGradGuard no_grad;
      out = exp(v[0]);
    }
    autograd::record("BadExpBackward", out, {v[0]},
                     [](const Tensor& g) { return std::vector<Tensor>{g * 2.0}; });
    return out;
  };
  const autograd::GradcheckResult r = autograd::gradcheck(bad, {input({3}, 1)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.detail.find("input 0"), std::string::npos) << r.detail;
  EXPECT_GT(r.max_abs_error, 1e-3);
}

TEST(Gradcheck, CatchesAMissingGradient) {
  Fn detached = [](const std::vector<Tensor>& v) { return v[0].detach() * v[1]; };
  const autograd::GradcheckResult r = autograd::gradcheck(detached, {input({3}, 1), input({3}, 2)});
  EXPECT_FALSE(r.ok);
}

TEST(Gradcheck, SkipsInputsWithoutGrad) {
  Tensor c = input({3}, 3).detach();
  const autograd::GradcheckResult r = autograd::gradcheck(
      [](const std::vector<Tensor>& v) { return v[0] * v[1]; }, {input({3}, 1), c});
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST(Gradcheck, CompositeMlpWithCrossEntropy) {
  Generator g(7);
  const Tensor labels = randint(0, 4, {5}, kInt64, &g);
  Fn f = [labels](const std::vector<Tensor>& v) {
    Tensor h = gelu(linear(v[0], v[1], v[2]));  // (5, 6)
    Tensor logits = matmul(h, v[3]);            // (5, 4)
    Tensor logp = log_softmax(logits, -1);
    Tensor nll = -gather(logp, 1, labels.unsqueeze(1));
    return mean(nll);
  };
  expect_gradcheck(f, {input({5, 3}, 1), input({6, 3}, 2), input({6}, 3), input({6, 4}, 4)}, "mlp");
}

TEST(Gradcheck, CompositeAttention) {
  Fn f = [](const std::vector<Tensor>& v) {
    const Tensor& q = v[0];  // (2, 3, 4)
    const Tensor& k = v[1];
    Tensor scores = matmul(q, transpose(k, -1, -2)) * 0.5;
    Tensor mask = tril(ones({3, 3})) == 0.0;
    Tensor p = softmax(masked_fill(scores, mask, -1e9), -1);
    return matmul(p, v[2]);
  };
  expect_gradcheck(f, {input({2, 3, 4}, 1), input({2, 3, 4}, 2), input({2, 3, 4}, 3)}, "attention");
}

TEST(Gradcheck, CompositeNormalisation) {
  Fn f = [](const std::vector<Tensor>& v) {
    Tensor mu = mean(v[0], {-1}, true);
    Tensor sd = sqrt(var(v[0], {-1}, 0, true) + 1e-5);
    return (v[0] - mu) / sd * v[1] + v[2];
  };
  expect_gradcheck(f, {input({4, 5}, 1), input({5}, 2), input({5}, 3)}, "layer norm");
}

TEST(Gradcheck, ViewsAndJoins) {
  Fn f = [](const std::vector<Tensor>& v) {
    Tensor a = v[0].transpose(0, 1).reshape({4, 3});  // copy path
    Tensor b = cat({a.slice(0, 0, 4, 2), v[1].unsqueeze(0)}, 0);
    std::vector<Tensor> parts = b.chunk(2, 1);
    return cumsum(stack({parts[0].narrow(1, 1, 1), parts[1]}, 2).flatten(), 0);
  };
  expect_gradcheck(f, {input({3, 4}, 1), input({3}, 2)}, "views");
}

TEST(Gradcheck, ReductionsOverSeveralDims) {
  Fn f = [](const std::vector<Tensor>& v) {
    const Tensor& x = v[0];  // (2, 3, 4), distinct values
    return cat({sum(x, {0, 2}), mean(x, {1}).flatten(), prod(x, {2}).flatten(), amax(x, {0, 2}),
                std::get<0>(min(x, 1)).flatten(), logsumexp(x, {0, 1}),
                ember::std(x, {2}).flatten()});
  };
  Tensor x = (randperm(24).to(kFloat64) * 0.1 - 1.15).reshape({2, 3, 4}).requires_grad_();
  expect_gradcheck(f, {x.detach().requires_grad_()}, "reductions");
}

TEST(Gradcheck, IndexingAndScatter) {
  const Tensor idx = tensor({{0, 2, 2}, {1, 0, 1}}, kInt64);
  Fn f = [idx](const std::vector<Tensor>& v) {
    Tensor g = gather(v[0], 1, idx);                        // (2, 3)
    Tensor s = scatter_add(v[0], 1, idx, v[1]);             // (2, 4)
    Tensor e = embedding(v[0], tensor({1, 1, 0}, kInt64));  // (3, 4)
    Tensor m = masked_select(v[0], v[0] > 0.0);
    return cat(
        {g.flatten(), s.flatten(), e.flatten(), m, index(v[0], tensor({-1}, kInt64)).flatten()});
  };
  expect_gradcheck(f, {input({2, 4}, 1), input({2, 3}, 2)}, "indexing");
}

TEST(Gradcheck, BroadcastingArithmetic) {
  Fn f = [](const std::vector<Tensor>& v) {
    Tensor a = v[0], b = v[1];  // (3, 1, 5), (4, 5)
    return pow(abs(a) + 0.5, b) + a / (b * b + 1.0) - maximum(a, b) * minimum(a, b) +
           where(a > b, a, b * 2.0);
  };
  expect_gradcheck(f, {input({3, 1, 5}, 1), input({4, 5}, 2)}, "broadcasting");
}
