// Large float32 GEMMs through oneDNN's matmul, with bfloat16 operands at "medium" precision.
#pragma once

#include <cstdint>

namespace ember::cpu {

/// Row-major c = alpha * op(a) op(b) + beta * c, where op transposes when ta / tb, through
/// oneDNN (Note [GEMM libraries]). bf16: a and b are rounded to bfloat16 and the products summed
/// in float32, on CPUs with AVX512-BF16 (elsewhere float32 is used). Returns false, touching
/// nothing, when oneDNN has no kernel for the call; the caller then runs OpenBLAS.
bool dnnl_gemm(bool bf16, bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc);

/// Whether dnnl_gemm(bf16 = true, ...) really rounds to bfloat16: Ember was built with oneDNN and
/// this CPU has AVX512-BF16.
bool bf16_gemm_available();

}  // namespace ember::cpu
