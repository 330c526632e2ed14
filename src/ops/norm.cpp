// Normalization ops: batch_norm (fused kernels forward and backward, running statistics) and
// group_norm (composite).
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"
#include "ember/ops/vision.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;

namespace {

// A contiguous detached copy (or view) of t.
Tensor contiguous_detached(const Tensor& t) {
  Tensor c = t.detach();
  if (c.is_contiguous()) return c;
  Tensor d = detail::make_tensor(c.shape(), c.dtype(), c.device());
  ops::kernels(c).copy(c, d);
  return d;
}

// x viewed as (N, C, S) (x contiguous).
Tensor ncs(const Tensor& x) {
  const int64_t N = x.size(0), C = x.size(1), S = N * C == 0 ? 0 : x.numel() / (N * C);
  return detail::make_view(x, {N, C, S}, {C * S, S, 1}, x.offset());
}

void check_channel_param(const Tensor& t, int64_t C, const Tensor& x, const char* what) {
  if (!t.defined()) return;
  EMBER_CHECK_SHAPE(t.dim() == 1 && t.size(0) == C, "batch_norm: ", what, " must have shape (", C,
                    ") for input ", x.shape_str(), ", got ", t.shape_str());
  EMBER_CHECK_DTYPE(t.dtype() == x.dtype(), "batch_norm: ", what, " has dtype ", t.dtype(),
                    " but the input has ", x.dtype());
}

// Backward of batch_norm from ember ops, so that it can itself be differentiated
// (create_graph). mean / var: the running statistics in eval mode, unused in training.
std::vector<Tensor> batch_norm_grad_composite(const Tensor& g, const Tensor& x, const Tensor& w,
                                              const Tensor& mean_c, const Tensor& var_c,
                                              bool training, double eps) {
  Shape dims = {0}, cshape(static_cast<size_t>(x.dim()), 1);
  for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
  cshape[1] = x.size(1);
  Tensor mu, invstd;
  if (training) {
    mu = mean(x, dims, true);
    const Tensor d = x - mu;
    invstd = rsqrt(mean(d * d, dims, true) + eps);
  } else {
    mu = reshape(mean_c, cshape);
    invstd = rsqrt(reshape(var_c, cshape) + eps);
  }
  const Tensor xhat = (x - mu) * invstd;
  const Tensor a = w.defined() ? reshape(w, cshape) * invstd : invstd;
  Tensor gx = training ? a * (g - mean(g, dims, true) - xhat * mean(g * xhat, dims, true)) : a * g;
  return {gx, w.defined() ? sum(g * xhat, dims) : Tensor(), sum(g, dims)};
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum,
                  double eps) {
  ops::check_defined(x, "batch_norm");
  EMBER_CHECK_SHAPE(x.dim() >= 2, "batch_norm: expected an input (N, C, *) of 2 or more dims, got ",
                    x.shape_str());
  EMBER_CHECK_DTYPE(x.is_floating_point(), "batch_norm: input must be floating point, got ",
                    x.dtype());
  const int64_t C = x.size(1);
  check_channel_param(weight, C, x, "weight");
  check_channel_param(bias, C, x, "bias");
  check_channel_param(running_mean, C, x, "running_mean");
  check_channel_param(running_var, C, x, "running_var");
  EMBER_CHECK(running_mean.defined() == running_var.defined(),
              "batch_norm: running_mean and running_var must both be defined or both undefined");
  EMBER_CHECK(training || running_mean.defined(),
              "batch_norm: running_mean and running_var must be defined in evaluation mode");
  EMBER_CHECK(eps > 0, "batch_norm: eps must be > 0, got ", eps);
  const int64_t count = C == 0 ? 0 : x.numel() / C;  // values per channel
  EMBER_CHECK(!training || count > 1,
              "batch_norm: expected more than 1 value per channel when training, got input ",
              x.shape_str());

  const Tensor xc = contiguous_detached(x);
  backend::Backend& k = ops::kernels(x);
  Tensor mean_c, var_c;
  if (training) {
    mean_c = detail::make_tensor({C}, x.dtype(), x.device());
    var_c = detail::make_tensor({C}, x.dtype(), x.device());
    k.batch_norm_stats(ncs(xc), mean_c, var_c);
    if (running_mean.defined()) {
      NoGradGuard no_grad;
      const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
      Tensor rm = running_mean.detach(), rv = running_var.detach();
      rm.mul_(1 - momentum).add_(mean_c * momentum);
      rv.mul_(1 - momentum).add_(var_c * (momentum * unbias));
    }
  } else {  // copies: later in-place updates of the running stats must not change the backward
    mean_c = running_mean.detach().clone();
    var_c = running_var.detach().clone();
  }
  const Tensor w = weight.defined() ? contiguous_detached(weight) : Tensor();
  const Tensor b = bias.defined() ? contiguous_detached(bias) : Tensor();
  Tensor out = detail::make_tensor(x.shape(), x.dtype(), x.device());
  if (out.numel() > 0) k.batch_norm_forward(ncs(xc), mean_c, var_c, w, b, eps, ncs(out));

  autograd::record(
      "NativeBatchNormBackward", out, {x, weight, bias},
      [sx = SavedTensor(x), sw = SavedTensor(weight), mean_c, var_c, training, eps,
       has_bias = bias.defined()](const Tensor& g) {
        const Tensor xs = sx.get("NativeBatchNormBackward");
        const Tensor ws = sw.defined() ? sw.get("NativeBatchNormBackward") : Tensor();
        std::vector<Tensor> grads;
        if (GradMode::is_enabled()) {
          grads = batch_norm_grad_composite(g, xs, ws, mean_c, var_c, training, eps);
        } else {
          const int64_t C = xs.size(1);
          const Tensor gc = contiguous_detached(ops::cast(g, xs.dtype()));
          const Tensor xc2 = contiguous_detached(xs);
          Tensor gx = detail::make_tensor(xs.shape(), xs.dtype(), xs.device());
          Tensor gw = ws.defined() ? detail::make_tensor({C}, xs.dtype(), xs.device()) : Tensor();
          Tensor gb = has_bias ? detail::make_tensor({C}, xs.dtype(), xs.device()) : Tensor();
          if (xs.numel() > 0) {
            ops::kernels(xs).batch_norm_backward(ncs(gc), ncs(xc2), mean_c, var_c,
                                                 ws.defined() ? contiguous_detached(ws) : Tensor(),
                                                 eps, training, ncs(gx), gw, gb);
          } else {
            if (gw.defined()) gw.zero_();
            if (gb.defined()) gb.zero_();
          }
          grads = {gx, gw, gb};
        }
        if (!has_bias) grads[2] = Tensor();
        return grads;
      });
  return out;
}

Tensor group_norm(const Tensor& x, int64_t num_groups, const Tensor& weight, const Tensor& bias,
                  double eps) {
  ops::check_defined(x, "group_norm");
  EMBER_CHECK_SHAPE(x.dim() >= 2, "group_norm: expected an input (N, C, *) of 2 or more dims, got ",
                    x.shape_str());
  EMBER_CHECK_DTYPE(x.is_floating_point(), "group_norm: input must be floating point, got ",
                    x.dtype());
  const int64_t N = x.size(0), C = x.size(1);
  EMBER_CHECK(num_groups > 0 && C % num_groups == 0, "group_norm: expected the number of channels ",
              C, " to be divisible by num_groups, got num_groups = ", num_groups);
  for (const auto& [t, what] : {std::pair{weight, "weight"}, std::pair{bias, "bias"}}) {
    if (!t.defined()) continue;
    EMBER_CHECK_SHAPE(t.dim() == 1 && t.size(0) == C, "group_norm: ", what, " must have shape (", C,
                      ") for input ", x.shape_str(), ", got ", t.shape_str());
  }
  const Tensor xg = reshape(x, {N, num_groups, -1});
  const Tensor mu = mean(xg, {2}, true);
  const Tensor d = xg - mu;
  Tensor y = reshape(d * rsqrt(mean(d * d, {2}, true) + eps), x.shape());
  Shape cshape(static_cast<size_t>(x.dim()), 1);
  cshape[1] = C;
  if (weight.defined()) y = y * reshape(weight, cshape);
  if (bias.defined()) y = y + reshape(bias, cshape);
  return y;
}

}  // namespace ember
