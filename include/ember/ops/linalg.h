// Matrix products through BLAS: matmul (1-d, 2-d, batched with broadcast batch dims) and linear.
#pragma once

#include "ember/core/tensor.h"

namespace ember {

/// torch.matmul semantics: 1-d·1-d dot, 2-d·2-d, and batched with broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);
/// a: (N, K), b: (K, M) -> (N, M).
Tensor mm(const Tensor& a, const Tensor& b);
/// a: (B, N, K), b: (B, K, M) -> (B, N, M).
Tensor bmm(const Tensor& a, const Tensor& b);
/// x: (*, in), weight: (out, in), bias: (out) or undefined -> (*, out). y = x W^T + b, fused.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
/// Dot product of two 1-d tensors.
Tensor dot(const Tensor& a, const Tensor& b);

}  // namespace ember

namespace ember::linalg {

/// Least-squares solution x of min ||a x - b||₂ (LAPACK gels): a: (m, n) with m >= n and full
/// rank, b: (m) or (m, k) -> x: (n) or (n, k). float32 or float64; no gradient.
Tensor lstsq(const Tensor& a, const Tensor& b);

}  // namespace ember::linalg
