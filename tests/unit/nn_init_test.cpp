// nn::init: statistics of the random initialisers, gains and fans, orthogonality, determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"

using namespace ember;
namespace init = ember::nn::init;

namespace {

double mean_of(const Tensor& t) {
  return mean(t.to(kFloat64)).item();
}
double std_of(const Tensor& t) {
  return ember::std(t.to(kFloat64)).item();
}
double min_of(const Tensor& t) {
  return min(t).item();
}
double max_of(const Tensor& t) {
  return max(t).item();
}

// Max |W W^T - gain^2 I| over the smaller side of the (rows, numel / rows) matrix.
double orthogonality_error(const Tensor& t, double gain) {
  Tensor w = t.reshape({t.size(0), -1}).to(kFloat64);
  Tensor g = w.size(0) <= w.size(1) ? matmul(w, w.t()) : matmul(w.t(), w);
  Tensor eye_g = eye(g.size(0), -1, kFloat64) * (gain * gain);
  return max(abs(g - eye_g)).item();
}

}  // namespace

TEST(NnInit, CalculateGainAndFans) {
  EXPECT_DOUBLE_EQ(init::calculate_gain("linear"), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("sigmoid"), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("tanh"), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu"), std::sqrt(2.0 / (1 + 0.01 * 0.01)));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", 0.2), std::sqrt(2.0 / 1.04));
  EXPECT_DOUBLE_EQ(init::calculate_gain("selu"), 0.75);
  EXPECT_THROW(init::calculate_gain("swish"), ValueError);
  auto [fi, fo] = init::calculate_fan_in_and_fan_out(empty({16, 8, 3, 3}));
  EXPECT_EQ(fi, 8 * 9);
  EXPECT_EQ(fo, 16 * 9);
  EXPECT_THROW(init::calculate_fan_in_and_fan_out(empty({5})), ShapeError);
  EXPECT_THROW(init::kaiming_uniform_(empty({4, 4}), 0, "fan_avg"), ValueError);
}

TEST(NnInit, UniformAndNormalStatistics) {
  Generator gen(7);
  Tensor t = empty({200, 500});
  init::uniform_(t, -2, 3, &gen);
  EXPECT_GE(min_of(t), -2.0);
  EXPECT_LT(max_of(t), 3.0);
  EXPECT_NEAR(mean_of(t), 0.5, 0.02);
  EXPECT_NEAR(std_of(t), 5 / std::sqrt(12.0), 0.01);
  init::normal_(t, 1.5, 0.5, &gen);
  EXPECT_NEAR(mean_of(t), 1.5, 0.005);
  EXPECT_NEAR(std_of(t), 0.5, 0.005);
  init::trunc_normal_(t, 0, 1, -1, 2, &gen);
  EXPECT_GE(min_of(t), -1.0);
  EXPECT_LE(max_of(t), 2.0);
  init::constant_(t, 0.25);
  EXPECT_EQ(min_of(t), 0.25);
  EXPECT_EQ(max_of(t), 0.25);
  init::ones_(t);
  EXPECT_EQ(mean_of(t), 1.0);
  init::zeros_(t);
  EXPECT_EQ(max_of(abs(t)), 0.0);
  Tensor e = empty({3, 4});
  init::eye_(e);
  EXPECT_TRUE(allclose(e, eye(3, 4)));
}

TEST(NnInit, XavierStatistics) {
  Tensor t = empty({300, 700}, kFloat64);
  init::xavier_uniform_(t, 2.0);
  const double a = 2.0 * std::sqrt(6.0 / 1000.0);
  EXPECT_GE(min_of(t), -a);
  EXPECT_LE(max_of(t), a);
  EXPECT_NEAR(std_of(t), a / std::sqrt(3.0), 0.01 * a);
  init::xavier_normal_(t, 1.0);
  EXPECT_NEAR(mean_of(t), 0.0, 0.001);
  EXPECT_NEAR(std_of(t), std::sqrt(2.0 / 1000.0), 0.01 * std::sqrt(2.0 / 1000.0));
}

TEST(NnInit, KaimingStatistics) {
  Tensor t = empty({256, 64, 3, 3});  // fan_in 576, fan_out 2304
  init::kaiming_uniform_(t, 0, "fan_in", "relu");
  const double bound = std::sqrt(2.0) * std::sqrt(3.0 / 576.0);
  EXPECT_GE(min_of(t), -bound);
  EXPECT_LE(max_of(t), bound);
  EXPECT_NEAR(std_of(t), std::sqrt(2.0 / 576.0), 0.01 * std::sqrt(2.0 / 576.0));
  init::kaiming_normal_(t, 0, "fan_out", "relu");
  EXPECT_NEAR(mean_of(t), 0.0, 0.001);
  EXPECT_NEAR(std_of(t), std::sqrt(2.0 / 2304.0), 0.01 * std::sqrt(2.0 / 2304.0));
  // leaky_relu with a = sqrt(5): std = sqrt(1/3) / sqrt(fan_in) (Linear's default).
  init::kaiming_normal_(t, std::sqrt(5.0));
  EXPECT_NEAR(std_of(t), std::sqrt(1.0 / 3.0 / 576.0), 0.01 * std::sqrt(1.0 / 3.0 / 576.0));
}

TEST(NnInit, OrthogonalRowsOrColumns) {
  for (Shape shape : {Shape{6, 6}, Shape{4, 9}, Shape{9, 4}, Shape{3, 2, 2, 2}, Shape{64, 128}}) {
    Tensor t = empty(shape);
    init::orthogonal_(t, 1.0);
    EXPECT_LT(orthogonality_error(t, 1.0), 1e-5) << detail::shape_to_string(shape);
  }
  Tensor t = empty({10, 5}, kFloat64);
  init::orthogonal_(t, 3.0);
  EXPECT_LT(orthogonality_error(t, 3.0), 1e-12);
  EXPECT_THROW(init::orthogonal_(empty({4})), ShapeError);
}

TEST(NnInit, SameGeneratorSeedSameValues) {
  Generator g1(42), g2(42);
  Tensor a = empty({5, 7}), b = empty({5, 7});
  init::orthogonal_(a, 1.0, &g1);
  init::orthogonal_(b, 1.0, &g2);
  EXPECT_TRUE(allclose(a, b, 0, 0));
  init::kaiming_uniform_(a, 0, "fan_in", "leaky_relu", &g1);
  init::kaiming_uniform_(b, 0, "fan_in", "leaky_relu", &g2);
  EXPECT_TRUE(allclose(a, b, 0, 0));
  manual_seed(3);
  nn::Linear l1(6, 4);
  manual_seed(3);
  nn::Linear l2(6, 4);
  EXPECT_TRUE(allclose(l1.weight, l2.weight, 0, 0));
}

// Under NoInitGuard the random initialisers leave tensors and generators alone but still check
// their arguments; the guard nests and restores the previous state.
TEST(NnInit, NoInitGuardSkipsRandomFills) {
  Generator g(5), reference(5);
  Tensor t = full({4, 6}, 7.0);
  {
    init::NoInitGuard no_init;
    init::uniform_(t, -1, 1, &g);
    init::normal_(t, 0, 1, &g);
    init::trunc_normal_(t, 0, 1, -2, 2, &g);
    init::xavier_normal_(t, 1.0, &g);
    init::kaiming_uniform_(t, 0, "fan_in", "leaky_relu", &g);
    init::orthogonal_(t, 1.0, &g);
    EXPECT_THROW(init::normal_(t, 0, -1, &g), Error);
    { init::NoInitGuard nested; }
    init::normal_(t, 0, 1, &g);      // still skipped after the nested guard ends
    init::ones_(t.narrow(0, 0, 1));  // constant fills still run
  }
  EXPECT_EQ(t.narrow(0, 0, 1).sum().item(), 6.0);
  EXPECT_EQ(t.narrow(0, 1, 3).sum().item(), 7.0 * 18);
  EXPECT_EQ(g.next_u64(), reference.next_u64());  // nothing was drawn
  init::normal_(t, 0, 1, &g);                     // the guard is gone: filled again
  EXPECT_NE(t.narrow(0, 1, 3).sum().item(), 7.0 * 18);
}

TEST(NnInit, ParametersStayLeavesWithoutHistory) {
  Tensor w = empty({8, 8}).requires_grad_();
  init::xavier_uniform_(w);
  init::orthogonal_(w);
  EXPECT_TRUE(w.is_leaf());
  EXPECT_TRUE(w.requires_grad());
  EXPECT_EQ(w.grad_fn(), nullptr);
}

TEST(NnInit, LayerDefaults) {
  nn::Linear lin(400, 300);
  const double bound = 1.0 / std::sqrt(400.0);
  EXPECT_GE(min_of(lin.weight), -bound);
  EXPECT_LE(max_of(lin.weight), bound);
  EXPECT_NEAR(std_of(lin.weight), bound / std::sqrt(3.0), 0.01 * bound);
  EXPECT_LE(max_of(abs(lin.bias)), bound);
  nn::Embedding emb(1000, 64, -1);
  EXPECT_EQ(*emb.padding_idx, 999);
  EXPECT_NEAR(std_of(emb.weight), 1.0, 0.02);
  EXPECT_EQ(max_of(abs(emb.weight[999])), 0.0);
  nn::LayerNorm ln({4, 5});
  EXPECT_TRUE(allclose(ln.weight, ones({4, 5})));
  EXPECT_TRUE(allclose(ln.bias, zeros({4, 5})));
}
