// Attention and the Transformer's normalizations as fused ops: scaled_dot_product_attention,
// layer_norm, rms_norm (src/ops/attention.cpp, src/ops/row_norm.cpp).
#pragma once

#include <optional>

#include "ember/core/generator.h"
#include "ember/core/tensor.h"

namespace ember {

/// softmax(q k^T * scale + mask) v, as torch.nn.functional.scaled_dot_product_attention.
/// q: (*, T, D), k: (*, S, D), v: (*, S, Dv), leading dims equal (e.g. (B, H)) -> (*, T, Dv).
/// attn_mask (optional) broadcasts to (*, T, S): bool (true = may attend) or a float added to the
/// scores. is_causal masks key j > query i (top-left aligned, as PyTorch); it may not be combined
/// with attn_mask. scale defaults to 1 / sqrt(D). dropout_p drops attention probabilities (only
/// when > 0; pass 0 in eval). A query row whose keys are all masked gives zeros.
/// The forward keeps only the row log-sum-exp, not the (T, S) probabilities, when dropout_p == 0.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0.0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt,
                                    Generator* gen = nullptr);

/// Layer normalisation over the trailing dims normalized_shape (fused kernels):
/// y = (x - mean) / sqrt(var + eps) * weight + bias, biased variance.
/// x: (*, normalized_shape); weight, bias: normalized_shape or undefined.
/// Backward: a fused kernel, or ember ops under create_graph (exact higher-order gradients).
Tensor layer_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

/// RMS normalisation over the trailing dims normalized_shape (fused kernels):
/// y = x / sqrt(mean(x^2) + eps) * weight, as torch.nn.functional.rms_norm (PyTorch 2.4+).
/// x: (*, normalized_shape); weight: normalized_shape or undefined. eps defaults, as in PyTorch,
/// to the machine epsilon of x's dtype (1.19e-7 for float32).
Tensor rms_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight = Tensor(),
                std::optional<double> eps = std::nullopt);

}  // namespace ember
