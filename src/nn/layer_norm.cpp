// functional::layer_norm and functional::rms_norm: the fused ops of ember/ops/attention.h.
#include "ember/nn/functional.h"
#include "ember/ops/attention.h"

namespace ember::nn::functional {

// The fused kernels and the create_graph backward live in src/ops/row_norm.cpp
// (Note [LayerNorm numerics]).
Tensor layer_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  return ember::layer_norm(x, normalized_shape, weight, bias, eps);
}

Tensor rms_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight,
                std::optional<double> eps) {
  return ember::rms_norm(x, normalized_shape, weight, eps);
}

}  // namespace ember::nn::functional
