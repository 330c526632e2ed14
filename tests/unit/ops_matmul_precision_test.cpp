// set_float32_matmul_precision: validation, and "medium" (bfloat16 operands, float32 sums) on the
// CPU for matmul, linear and their gradients, against float64 products of the rounded operands.
#include <gtest/gtest.h>

#include "backend/cpu/dnnl_gemm.h"
#include "ember/ember.h"

namespace ember {
namespace {

// Restores "highest" however a test ends.
struct MediumPrecision {
  MediumPrecision() { set_float32_matmul_precision("medium"); }
  ~MediumPrecision() { set_float32_matmul_precision("highest"); }
};

Tensor rounded(const Tensor& x) {
  return x.to(kBFloat16).to(kFloat64);
}

// Largest |got - want| over the largest |want|.
double rel_err(const Tensor& got, const Tensor& want) {
  const Tensor w = want.to(kFloat64);
  return max(abs(got.to(kFloat64) - w)).item<double>() / max(abs(w)).item<double>();
}

TEST(MatmulPrecision, NamesAreValidated) {
  EXPECT_EQ(get_float32_matmul_precision(), "highest");
  set_float32_matmul_precision("high");
  EXPECT_EQ(get_float32_matmul_precision(), "high");
  EXPECT_EQ(float32_matmul_precision(), MatmulPrecision::High);
  try {
    set_float32_matmul_precision("fast");
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("got \"fast\""), std::string::npos) << e.what();
  }
  EXPECT_EQ(get_float32_matmul_precision(), "high");  // unchanged by the bad name
  set_float32_matmul_precision("highest");
}

TEST(MatmulPrecision, MediumRoundsOperandsToBfloat16InEveryLayout) {
  if (!cpu::bf16_gemm_available())
    GTEST_SKIP() << "no AVX512-BF16 or no oneDNN: medium runs float32 here";
  Generator g(3);
  // 160 x 200 x 160: above the 2^22 multiply-adds from which "medium" rounds (Note [GEMM
  // libraries]).
  const Tensor a = randn({160, 200}, kFloat32, &g), b = randn({200, 160}, kFloat32, &g);
  const Tensor want = matmul(rounded(a), rounded(b));
  const Tensor exact = matmul(a.to(kFloat64), b.to(kFloat64));
  MediumPrecision medium;
  // a b, a^T-stored, b^T-stored, both: the four BLAS layouts.
  const Tensor at = transpose(a, 0, 1).contiguous(), bt = transpose(b, 0, 1).contiguous();
  for (const Tensor& got :
       {matmul(a, b), matmul(transpose(at, 0, 1), b), matmul(a, transpose(bt, 0, 1)),
        matmul(transpose(at, 0, 1), transpose(bt, 0, 1))}) {
    EXPECT_LT(rel_err(got, want), 2e-6);   // float32 sums of the bfloat16 products
    EXPECT_GT(rel_err(got, exact), 1e-4);  // and not the float32 product
  }
}

TEST(MatmulPrecision, MediumBatchedMatmulAndLinearWithBias) {
  if (!cpu::bf16_gemm_available())
    GTEST_SKIP() << "no AVX512-BF16 or no oneDNN: medium runs float32 here";
  Generator g(5);
  const Tensor x = randn({3, 136, 128}, kFloat32, &g), y = randn({3, 128, 256}, kFloat32, &g);
  const Tensor w = randn({192, 128}, kFloat32, &g), bias = randn({192}, kFloat32, &g);
  const Tensor want_mm = matmul(rounded(x), rounded(y));
  const Tensor want_lin = matmul(rounded(x), transpose(rounded(w), 0, 1)) + bias.to(kFloat64);
  MediumPrecision medium;
  EXPECT_LT(rel_err(matmul(x, y), want_mm), 2e-6);
  EXPECT_LT(rel_err(linear(x, w, bias), want_lin), 2e-6);
}

TEST(MatmulPrecision, MediumGradientsOfLinear) {
  if (!cpu::bf16_gemm_available())
    GTEST_SKIP() << "no AVX512-BF16 or no oneDNN: medium runs float32 here";
  Generator g(9);
  const Tensor x = randn({256, 128}, kFloat32, &g).requires_grad_(true);
  const Tensor w = randn({160, 128}, kFloat32, &g).requires_grad_(true);
  const Tensor gy = randn({256, 160}, kFloat32, &g);
  {
    MediumPrecision medium;
    linear(x, w).backward(gy);
  }
  // dx = gy w, dw = gy^T x, each from bfloat16-rounded operands.
  EXPECT_LT(rel_err(x.grad(), matmul(rounded(gy), rounded(w))), 2e-6);
  EXPECT_LT(rel_err(w.grad(), matmul(transpose(rounded(gy), 0, 1), rounded(x))), 2e-6);
}

TEST(MatmulPrecision, MediumAttentionBackwardStaysCloseToFloat64) {
  Generator g(13);
  const Tensor q = randn({2, 3, 40, 16}, kFloat32, &g), k = randn({2, 3, 40, 16}, kFloat32, &g),
               v = randn({2, 3, 40, 16}, kFloat32, &g), gout = randn({2, 3, 40, 16}, kFloat32, &g);
  // Gradients of causal attention for inputs of the given dtype.
  const auto grads = [&](DType dt) {
    std::vector<Tensor> leaves = {q.to(dt).requires_grad_(true), k.to(dt).requires_grad_(true),
                                  v.to(dt).requires_grad_(true)};
    scaled_dot_product_attention(leaves[0], leaves[1], leaves[2], {}, 0.0, true)
        .backward(gout.to(dt));
    return std::vector<Tensor>{leaves[0].grad(), leaves[1].grad(), leaves[2].grad()};
  };
  const std::vector<Tensor> want = grads(kFloat64);
  MediumPrecision medium;
  const std::vector<Tensor> got = grads(kFloat32);  // the float32 backward
  for (size_t i = 0; i < 3; ++i) EXPECT_LT(rel_err(got[i], want[i]), 1e-5) << "input " << i;
}

TEST(MatmulPrecision, SmallProductsAndHighestStayFloat32) {
  Generator g(11);
  const Tensor a = randn({8, 8}, kFloat32, &g), b = randn({8, 8}, kFloat32, &g);
  // 320 x 320 x 400 goes to oneDNN's float32 matmul (Note [GEMM libraries]).
  const Tensor big_a = randn({320, 320}, kFloat32, &g), big_b = randn({320, 400}, kFloat32, &g);
  const Tensor small_f32 = matmul(a, b), big_f32 = matmul(big_a, big_b);
  {
    MediumPrecision medium;
    // 8x8x8 is far below the size where rounding pays: bit-identical to float32.
    EXPECT_TRUE(allclose(matmul(a, b), small_f32, 0, 0));
  }
  // Back at "highest", the large product is float32 again, and float32-accurate.
  EXPECT_TRUE(allclose(matmul(big_a, big_b), big_f32, 0, 0));
  EXPECT_LT(rel_err(big_f32, matmul(big_a.to(kFloat64), big_b.to(kFloat64))), 1e-6);
}

}  // namespace
}  // namespace ember
