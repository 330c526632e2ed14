// The Transformer's row norms as fused ops: layer_norm and rms_norm (kernels forward and
// backward; ember-op backward formulas under create_graph).
#include <limits>
#include <tuple>

#include "ember/ops/attention.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;

namespace {

// Checks x: (*, normalized_shape) and the affine parameters; returns the number of rows M and
// the row length N, and the normalized and the batch dims.
struct RowNorm {
  int64_t M, N;
  Shape dims, batch_dims;
};

RowNorm check_row_norm(const char* op, const Tensor& x, IntList normalized_shape,
                       std::initializer_list<std::pair<const Tensor*, const char*>> params) {
  ops::check_defined(x, op);
  EMBER_CHECK_DTYPE(x.is_floating_point(), op, ": input must be floating point, got ", x.dtype());
  const auto k = static_cast<int64_t>(normalized_shape.size());
  bool match = k >= 1 && k <= x.dim();
  for (int64_t i = 0; match && i < k; ++i) match = x.size(x.dim() - k + i) == normalized_shape[i];
  EMBER_CHECK_SHAPE(match, op, ": input of shape ", x.shape_str(),
                    " does not end with normalized_shape ",
                    detail::shape_to_string(normalized_shape));
  for (const auto& [t, what] : params) {
    if (!t->defined()) continue;
    EMBER_CHECK_SHAPE(t->shape() == normalized_shape, op, ": ", what, " of shape ", t->shape_str(),
                      " does not match normalized_shape ",
                      detail::shape_to_string(normalized_shape));
    EMBER_CHECK_DTYPE(t->dtype() == x.dtype(), op, ": ", what, " has dtype ", t->dtype(),
                      " but the input has ", x.dtype());
    ops::check_same_device(x, *t, op);
  }
  RowNorm r{1, 1, {}, {}};
  for (int64_t d = 0; d < x.dim(); ++d) {
    (d < x.dim() - k ? r.batch_dims : r.dims).push_back(d);
    (d < x.dim() - k ? r.M : r.N) *= x.size(d);
  }
  return r;
}

Tensor contiguous_detached(const Tensor& t) {
  Tensor d = t.detach();
  return d.is_contiguous() ? d : contiguous(d);
}
// Contiguous t viewed as (M, N).
Tensor rows(const Tensor& t, int64_t M, int64_t N) {
  return detail::make_view(t, {M, N}, {N, 1}, t.offset());
}
Tensor flat(const Tensor& t, int64_t n) {
  return detail::make_view(t, {n}, {1}, t.offset());
}
Tensor sum_batch(const Tensor& t, IntList batch_dims) {
  return batch_dims.empty() ? t : sum(t, batch_dims);
}

// Row statistics with history: mean and rstd = 1 / sqrt(var + eps) (biased variance), keepdim.
std::pair<Tensor, Tensor> moments(const Tensor& x, IntList dims, double eps) {
  const Tensor mu = mean(x, dims, true);
  const Tensor d = x - mu;
  return {mu, rsqrt(mean(d * d, dims, true) + eps)};
}

}  // namespace

// Note [LayerNorm numerics]: the formulas and their evaluation order follow PyTorch's CPU kernel
// so that float32 results agree to a few ulps (the statistics are accumulated in double):
//   y  = (x * rstd + (-rstd * mean)) * weight + bias
//   dx = rstd * dy * w + b * x + c, with ds = sum(dy w x), db = sum(dy w) over the row,
//        b = (db * mean - ds) * rstd^3 / N, c = -b * mean - db * rstd / N
//   dweight = sum over rows of dy * (rstd * x - rstd * mean), dbias = sum over rows of dy.
// Under create_graph the statistics are recomputed with history and the same formulas are
// written with ember ops, so higher-order gradients are exact as well.
Tensor layer_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const RowNorm rn =
      check_row_norm("layer_norm", x, normalized_shape, {{&weight, "weight"}, {&bias, "bias"}});
  const Tensor xc = contiguous_detached(x);
  const Tensor w = weight.defined() ? contiguous_detached(weight) : Tensor();
  const Tensor b = bias.defined() ? contiguous_detached(bias) : Tensor();
  Tensor y = detail::make_tensor(x.shape(), x.dtype(), x.device());
  Shape stat_shape(x.shape().begin(), x.shape().end());
  for (int64_t d : rn.dims) stat_shape[static_cast<size_t>(d)] = 1;
  Tensor mu = detail::make_tensor(stat_shape, x.dtype(), x.device());
  Tensor rstd = detail::make_tensor(stat_shape, x.dtype(), x.device());
  if (x.numel() > 0)
    ops::kernels(x).layer_norm_forward(rows(xc, rn.M, rn.N), w.defined() ? flat(w, rn.N) : w,
                                       b.defined() ? flat(b, rn.N) : b, eps, rows(y, rn.M, rn.N),
                                       flat(mu, rn.M), flat(rstd, rn.M));
  autograd::record(
      "LayerNormBackward", y, {x, weight, bias},
      [sx = SavedTensor(x), sw = SavedTensor(weight), mu, rstd, rn, eps, need_x = x.requires_grad(),
       need_w = weight.defined() && weight.requires_grad(),
       need_b = bias.defined() && bias.requires_grad()](const Tensor& g) {
        const Tensor xv = sx.get("LayerNormBackward");
        const Tensor wv = sw.defined() ? sw.get("LayerNormBackward") : Tensor();
        std::vector<Tensor> grads(3);
        if (GradMode::is_enabled()) {  // create_graph: Note [LayerNorm numerics] with ember ops
          const auto [m, r] = moments(xv, rn.dims, eps);
          const double n = static_cast<double>(rn.N);
          if (need_x) {
            const Tensor gw = wv.defined() ? g * wv : g;
            const Tensor ds = sum(gw * xv, rn.dims, true), db = sum(gw, rn.dims, true);
            const Tensor bb = (db * m - ds) * r * r * r / n;
            const Tensor c = -bb * m - db * r / n;
            grads[0] = (wv.defined() ? r * g * wv : r * g) + bb * xv + c;
          }
          if (need_w) grads[1] = sum_batch(g * (r * xv + (-r * m)), rn.batch_dims);
          if (need_b) grads[2] = sum_batch(g, rn.batch_dims);
          return grads;
        }
        const Tensor gc = contiguous_detached(ops::cast(g, xv.dtype()));
        const Tensor xc2 = contiguous_detached(xv);
        const Shape& ns = wv.defined() ? wv.shape() : Shape();
        Tensor gx = need_x ? detail::make_tensor(xv.shape(), xv.dtype(), xv.device()) : Tensor();
        Tensor gwt = need_w ? detail::make_tensor(ns, xv.dtype(), xv.device()) : Tensor();
        Tensor gb;
        if (need_b) {
          Shape bs(xv.shape().begin() + static_cast<int64_t>(rn.batch_dims.size()),
                   xv.shape().end());
          gb = detail::make_tensor(bs, xv.dtype(), xv.device());
        }
        if (rn.M * rn.N > 0) {
          ops::kernels(xv).layer_norm_backward(
              rows(gc, rn.M, rn.N), rows(xc2, rn.M, rn.N), flat(mu, rn.M), flat(rstd, rn.M),
              wv.defined() ? flat(contiguous_detached(wv), rn.N) : Tensor(),
              need_x ? rows(gx, rn.M, rn.N) : Tensor(), need_w ? flat(gwt, rn.N) : Tensor(),
              need_b ? flat(gb, rn.N) : Tensor());
        } else {
          if (gwt.defined()) gwt.zero_();
          if (gb.defined()) gb.zero_();
        }
        return std::vector<Tensor>{gx, gwt, gb};
      });
  return y;
}

// rms_norm: y = x * rstd * w with rstd = 1 / sqrt(mean(x^2) + eps) per row;
//   dx = rstd * g w - x * rstd^3 * mean(g w x),  dweight = sum over rows of g * x * rstd.
Tensor rms_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight,
                std::optional<double> eps_opt) {
  const RowNorm rn = check_row_norm("rms_norm", x, normalized_shape, {{&weight, "weight"}});
  const double eps = eps_opt                 ? *eps_opt
                     : x.dtype() == kFloat64 ? std::numeric_limits<double>::epsilon()
                                             : std::numeric_limits<float>::epsilon();
  EMBER_CHECK(eps >= 0, "rms_norm: eps must be >= 0, got ", eps);
  const Tensor xc = contiguous_detached(x);
  const Tensor w = weight.defined() ? contiguous_detached(weight) : Tensor();
  Tensor y = detail::make_tensor(x.shape(), x.dtype(), x.device());
  Shape stat_shape(x.shape().begin(), x.shape().end());
  for (int64_t d : rn.dims) stat_shape[static_cast<size_t>(d)] = 1;
  Tensor rstd = detail::make_tensor(stat_shape, x.dtype(), x.device());
  if (x.numel() > 0)
    ops::kernels(x).rms_norm_forward(rows(xc, rn.M, rn.N), w.defined() ? flat(w, rn.N) : w, eps,
                                     rows(y, rn.M, rn.N), flat(rstd, rn.M));
  autograd::record(
      "RmsNormBackward", y, {x, weight},
      [sx = SavedTensor(x), sw = SavedTensor(weight), rstd, rn, eps, need_x = x.requires_grad(),
       need_w = weight.defined() && weight.requires_grad()](const Tensor& g) {
        const Tensor xv = sx.get("RmsNormBackward");
        const Tensor wv = sw.defined() ? sw.get("RmsNormBackward") : Tensor();
        std::vector<Tensor> grads(2);
        if (GradMode::is_enabled()) {  // create_graph: the same formulas with ember ops
          const Tensor r = rsqrt(mean(xv * xv, rn.dims, true) + eps);
          if (need_x) {
            const Tensor gw = wv.defined() ? g * wv : g;
            grads[0] = r * gw - xv * (r * r * r) * mean(gw * xv, rn.dims, true);
          }
          if (need_w) grads[1] = sum_batch(g * (xv * r), rn.batch_dims);
          return grads;
        }
        const Tensor gc = contiguous_detached(ops::cast(g, xv.dtype()));
        const Tensor xc2 = contiguous_detached(xv);
        Tensor gx = need_x ? detail::make_tensor(xv.shape(), xv.dtype(), xv.device()) : Tensor();
        Tensor gwt = need_w ? detail::make_tensor(wv.shape(), xv.dtype(), xv.device()) : Tensor();
        if (rn.M * rn.N > 0) {
          ops::kernels(xv).rms_norm_backward(
              rows(gc, rn.M, rn.N), rows(xc2, rn.M, rn.N), flat(rstd, rn.M),
              wv.defined() ? flat(contiguous_detached(wv), rn.N) : Tensor(),
              need_x ? rows(gx, rn.M, rn.N) : Tensor(), need_w ? flat(gwt, rn.N) : Tensor());
        } else if (gwt.defined()) {
          gwt.zero_();
        }
        return std::vector<Tensor>{gx, gwt};
      });
  return y;
}

}  // namespace ember
