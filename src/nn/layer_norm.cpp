// functional::layer_norm: forward and a closed-form backward written with ember ops.
#include <tuple>
#include <utility>

#include "ember/autograd/grad_mode.h"
#include "ember/autograd/node.h"
#include "ember/nn/functional.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"

namespace ember::nn::functional {

namespace {

// Row statistics over dims: mean and rstd = 1 / sqrt(var + eps) (biased variance), keepdim.
std::pair<Tensor, Tensor> moments(const Tensor& x, IntList dims, double eps) {
  const Tensor mu = mean(x, dims, true);
  const Tensor d = x - mu;
  return {mu, rsqrt(mean(d * d, dims, true) + eps)};
}

// Sum over the leading (batch) dims, or t itself when there are none.
Tensor sum_batch(const Tensor& t, IntList batch_dims) {
  return batch_dims.empty() ? t : sum(t, batch_dims);
}

}  // namespace

// Note [LayerNorm numerics]: the formulas and their evaluation order follow PyTorch's CPU kernel
// so that float32 results agree to a few ulps:
//   y  = (x * rstd + (-rstd * mean)) * weight + bias
//   dx = rstd * dy * w + b * x + c, with ds = sum(dy w x), db = sum(dy w) over the row,
//        b = (db * mean - ds) * rstd^3 / N, c = -b * mean - db * rstd / N
//   dweight = sum over rows of dy * (rstd * x - rstd * mean), dbias = sum over rows of dy.
// Under create_graph the statistics are recomputed with history, so higher-order gradients are
// exact as well.
Tensor layer_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  EMBER_CHECK(x.defined(), "layer_norm: input is undefined");
  EMBER_CHECK_DTYPE(x.is_floating_point(), "layer_norm: input must be floating point, got ",
                    x.dtype());
  const auto k = static_cast<int64_t>(normalized_shape.size());
  bool match = k >= 1 && k <= x.dim();
  for (int64_t i = 0; match && i < k; ++i) match = x.size(x.dim() - k + i) == normalized_shape[i];
  EMBER_CHECK_SHAPE(match, "layer_norm: input of shape ", x.shape_str(),
                    " does not end with normalized_shape ",
                    ember::detail::shape_to_string(normalized_shape));
  for (const Tensor* p : {&weight, &bias})
    if (p->defined())
      EMBER_CHECK_SHAPE(p->shape() == normalized_shape,
                        "layer_norm: ", p == &weight ? "weight" : "bias", " of shape ",
                        p->shape_str(), " does not match normalized_shape ",
                        ember::detail::shape_to_string(normalized_shape));
  Shape dims, batch_dims;
  for (int64_t d = 0; d < x.dim(); ++d) (d < x.dim() - k ? batch_dims : dims).push_back(d);
  int64_t n = 1;
  for (int64_t s : normalized_shape) n *= s;

  Tensor y, mu, rstd;
  {
    NoGradGuard no_grad;
    const Tensor xd = x.detach();
    std::tie(mu, rstd) = moments(xd, dims, eps);
    y = xd * rstd + (-rstd * mu);
    if (weight.defined()) y = y * weight.detach();
    if (bias.defined()) y = y + bias.detach();
  }
  autograd::record("LayerNormBackward", y, {x, weight, bias},
                   [sx = autograd::SavedTensor(x), sw = autograd::SavedTensor(weight), mu, rstd,
                    dims, batch_dims, n, eps, need_x = x.requires_grad(),
                    need_w = weight.defined() && weight.requires_grad(),
                    need_b = bias.defined() && bias.requires_grad()](const Tensor& g) {
                     const Tensor xv = sx.get("LayerNormBackward");
                     const Tensor w = sw.defined() ? sw.get("LayerNormBackward") : Tensor();
                     Tensor m = mu, r = rstd;
                     if (GradMode::is_enabled())
                       std::tie(m, r) = moments(xv, dims, eps);  // create_graph
                     std::vector<Tensor> grads(3);
                     if (need_x) {
                       const Tensor gw = w.defined() ? g * w : g;
                       const Tensor ds = sum(gw * xv, dims, true), db = sum(gw, dims, true);
                       const Tensor b = (db * m - ds) * r * r * r / static_cast<double>(n);
                       const Tensor c = -b * m - db * r / static_cast<double>(n);
                       grads[0] = (w.defined() ? r * g * w : r * g) + b * xv + c;
                     }
                     if (need_w) grads[1] = sum_batch(g * (r * xv + (-r * m)), batch_dims);
                     if (need_b) grads[2] = sum_batch(g, batch_dims);
                     return grads;
                   });
  return y;
}

}  // namespace ember::nn::functional
