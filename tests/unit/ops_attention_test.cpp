// scaled_dot_product_attention beyond the op table: dropout with a fixed generator, fully masked
// rows, double backward, argument errors; RMSNorm module.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"

namespace ember {
namespace {

// softmax(q k^T / sqrt(D)) with the causal mask, from ember ops.
Tensor causal_probs(const Tensor& q, const Tensor& k) {
  const int64_t T = q.size(-2), S = k.size(-2);
  Tensor s = matmul(q, transpose(k, -2, -1)) * (1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  s = masked_fill(s, logical_not(tril(ones({T, S}, kBool))), -INFINITY);
  return softmax(s, -1);
}

TEST(ScaledDotProductAttention, DropoutDrawsTheSameMaskAsDropoutOfTheProbabilities) {
  Generator g0(7);
  const Tensor q = randn({2, 3, 6, 4}, kFloat32, &g0), k = randn({2, 3, 6, 4}, kFloat32, &g0),
               v = randn({2, 3, 6, 5}, kFloat32, &g0);
  Generator a(123), b(123);
  const Tensor out = scaled_dot_product_attention(q, k, v, {}, 0.3, true, std::nullopt, &a);
  const Tensor want = matmul(dropout(causal_probs(q, k), 0.3, true, &b), v);
  EXPECT_TRUE(allclose(out, want, 1e-5, 1e-6));
  // Some probabilities were dropped: the result differs from the one without dropout.
  EXPECT_FALSE(allclose(out, scaled_dot_product_attention(q, k, v, {}, 0.0, true), 1e-3, 1e-3));
}

TEST(ScaledDotProductAttention, DropoutGradcheck) {
  Generator g0(3);
  Tensor q = randn({2, 4, 3}, kFloat64, &g0).requires_grad_();
  Tensor k = randn({2, 5, 3}, kFloat64, &g0).requires_grad_();
  Tensor v = randn({2, 5, 2}, kFloat64, &g0).requires_grad_();
  const auto f = [](const std::vector<Tensor>& x) {
    Generator gen(99);  // the same mask on every evaluation
    return scaled_dot_product_attention(x[0], x[1], x[2], {}, 0.4, false, std::nullopt, &gen);
  };
  const autograd::GradcheckResult r = autograd::gradcheck(f, {q, k, v});
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST(ScaledDotProductAttention, FullyMaskedRowsAreZeroWithZeroGradient) {
  Generator g0(5);
  Tensor q = randn({1, 2, 3, 4}, kFloat32, &g0).requires_grad_();
  Tensor k = randn({1, 2, 5, 4}, kFloat32, &g0).requires_grad_();
  Tensor v = randn({1, 2, 5, 4}, kFloat32, &g0).requires_grad_();
  const Tensor mask = logical_not(reshape(arange(3) == 1.0, {3, 1}));  // query 1 sees no key
  const Tensor out = scaled_dot_product_attention(q, k, v, mask);
  EXPECT_TRUE(all(isfinite(out)).item<bool>());
  EXPECT_EQ(sum(abs(select(out, 2, 1))).item<float>(), 0.0f);
  sum(out).backward();
  EXPECT_TRUE(all(isfinite(q.grad())).item<bool>());
  EXPECT_EQ(sum(abs(select(q.grad(), 2, 1))).item<float>(), 0.0f);
}

TEST(ScaledDotProductAttention, DoubleBackward) {
  Generator g0(11);
  Tensor q = randn({2, 5, 3}, kFloat64, &g0).requires_grad_();
  Tensor k = randn({2, 5, 3}, kFloat64, &g0).requires_grad_();
  Tensor v = randn({2, 5, 3}, kFloat64, &g0).requires_grad_();
  // gradcheck of the first-order gradients (computed with create_graph) checks the second order.
  const auto f = [](const std::vector<Tensor>& x) {
    GradModeGuard grad_on(true);  // gradcheck evaluates f under no_grad; grad() needs history
    const Tensor out = scaled_dot_product_attention(x[0], x[1], x[2], {}, 0.0, true);
    std::vector<Tensor> g = autograd::grad({sum(out * out)}, x, {}, false, true);
    return cat({reshape(g[0], {-1}), reshape(g[1], {-1}), reshape(g[2], {-1})});
  };
  const autograd::GradcheckResult r = autograd::gradcheck(f, {q, k, v});
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST(ScaledDotProductAttention, BadArgumentsThrowNamingTheOp) {
  const Tensor q = randn({2, 3, 4}), k = randn({2, 5, 4}), v = randn({2, 5, 6});
  const auto throws_with = [](const std::function<void()>& f, const std::string& what) {
    try {
      f();
      ADD_FAILURE() << "no error for " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("scaled_dot_product_attention"), std::string::npos)
          << e.what();
    }
  };
  throws_with([&] { scaled_dot_product_attention(q, randn({2, 5, 3}), v); }, "D mismatch");
  throws_with([&] { scaled_dot_product_attention(q, k, randn({2, 4, 6})); }, "S mismatch");
  throws_with([&] { scaled_dot_product_attention(q, randn({3, 5, 4}), v); }, "batch mismatch");
  throws_with([&] { scaled_dot_product_attention(q, k, v, ones({3, 4}, kBool)); }, "mask shape");
  throws_with(
      [&] {
        scaled_dot_product_attention(q, k, v, ones({3, 5}, kBool), 0.0, true);
      },
      "mask with causal");
  throws_with([&] { scaled_dot_product_attention(q, k, v, ones({3, 5}, kInt64)); }, "mask dtype");
  throws_with([&] { scaled_dot_product_attention(q, k, v, {}, 1.0); }, "dropout_p");
  throws_with([&] { scaled_dot_product_attention(q, k.to(kFloat64), v); }, "dtype");
}

// The fused row-norm backward splits many rows into chunks with partial column sums (Note
// [Row-norm backward]); the op table's small inputs use one chunk. Compare against the backward
// formulas written with ember ops (the create_graph path), in float64.
TEST(RowNormBackward, ManyRowChunksMatchTheEmberOpFormulas) {
  Generator gen(21);
  for (const int64_t N : {1, 40, 300}) {
    // Rows of 32768 / N per chunk, at most 64 chunks: 70 chunks' worth (N = 300) hits the cap;
    // 7 rows more leave the last chunk partial.
    const int64_t M = (N == 300 ? 70 : 3) * (32768 / N) + 7;
    Tensor x = randn({M, N}, kFloat64, &gen).requires_grad_();
    Tensor w = randn({N}, kFloat64, &gen).requires_grad_();
    Tensor b = randn({N}, kFloat64, &gen).requires_grad_();
    const Tensor g = randn({M, N}, kFloat64, &gen);
    const Tensor y = layer_norm(x, {N}, w, b);
    const std::vector<Tensor> fused = autograd::grad({y}, {x, w, b}, {g}, true);
    const std::vector<Tensor> ops = autograd::grad({y}, {x, w, b}, {g}, false, true);
    for (size_t i = 0; i < 3; ++i)
      EXPECT_TRUE(allclose(fused[i], ops[i], 1e-10, 1e-10))
          << "layer_norm grad " << i << " N=" << N;
    const Tensor r = rms_norm(x, {N}, w);
    const std::vector<Tensor> rf = autograd::grad({r}, {x, w}, {g}, true);
    const std::vector<Tensor> ro = autograd::grad({r}, {x, w}, {g}, false, true);
    for (size_t i = 0; i < 2; ++i)
      EXPECT_TRUE(allclose(rf[i], ro[i], 1e-10, 1e-10)) << "rms_norm grad " << i << " N=" << N;
    // dweight alone (x without grad) takes the same chunked path without dx.
    const Tensor xd = x.detach();
    const Tensor dw = autograd::grad({layer_norm(xd, {N}, w, b)}, {w}, {g})[0];
    EXPECT_TRUE(allclose(dw, fused[1], 1e-12, 1e-12)) << "N=" << N;
  }
}

TEST(RMSNormModule, NormalisesAndHasAWeight) {
  nn::RMSNorm norm({8});
  EXPECT_EQ(norm.named_parameters().size(), 1u);
  const Tensor x = randn({4, 8}) * 3.0;
  const Tensor y = norm.forward(x);
  // Unit weight: every row has mean square 1 (up to eps).
  EXPECT_TRUE(allclose(mean(y * y, {1}), ones({4}), 1e-5, 1e-5));
}

}  // namespace
}  // namespace ember
