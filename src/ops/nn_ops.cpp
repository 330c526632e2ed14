// Fused neural-network primitives: softmax and log_softmax (row kernels), dropout.
#include "ember/ops/nn_ops.h"

#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;

namespace {

// Moves dim to the end and makes it contiguous: the row layout the softmax kernels take.
Tensor rows_last(const Tensor& x, int64_t d) {
  Tensor t = d == x.dim() - 1 || x.dim() == 0 ? x : transpose(x, d, -1);
  if (t.is_contiguous()) return t;
  Tensor c = detail::make_tensor(t.shape(), t.dtype(), t.device());
  ops::kernels(t).copy(t, c);
  return c;
}

Tensor from_rows(const Tensor& t, int64_t d, int64_t ndim) {
  return d == ndim - 1 || ndim == 0 ? t : transpose(t, d, -1);
}

Tensor softmax_impl(const Tensor& x_in, int64_t dim, bool log);

// Backward of (log-)softmax: a fused row kernel, or the composite formula under create_graph.
Tensor softmax_grad(const Tensor& y, const Tensor& g, int64_t d, bool log) {
  if (GradMode::is_enabled()) {
    if (log) return g - exp(y) * sum(g, {d}, true);
    return y * (g - sum(g * y, {d}, true));
  }
  if (y.dim() == 0) return zeros_like(g);  // one element: (log-)softmax is constant
  Tensor yr = rows_last(y, d), gr = rows_last(g, d);
  Tensor out = detail::make_tensor(yr.shape(), y.dtype(), y.device());
  ops::kernels(y).softmax_backward(yr, gr, out, log);
  return from_rows(out, d, y.dim());
}

Tensor softmax_impl(const Tensor& x_in, int64_t dim, bool log) {
  const char* op = log ? "log_softmax" : "softmax";
  ops::check_defined(x_in, op);
  const Tensor x = ops::cast(x_in, ops::float_result(x_in.dtype()));
  const int64_t d = detail::wrap_dim(dim, x.dim(), op);
  Tensor xr = rows_last(x.detach(), d);
  if (xr.dim() == 0) xr = detail::make_view(xr, {1}, {1}, xr.offset());  // one row of one
  Tensor out = detail::make_tensor(xr.shape(), x.dtype(), x.device());
  if (out.numel() > 0) ops::kernels(x).softmax(xr, out, log);
  if (x.dim() == 0) out = detail::make_view(out, {}, {}, 0);
  out.impl()->is_view = false;
  out = from_rows(out, d, x.dim());
  if (!out.is_contiguous()) out = out.clone();
  autograd::record(log ? "LogSoftmaxBackward" : "SoftmaxBackward", out, {x_in},
                   [sy = SavedTensor(out.detach()), sx = SavedTensor(x), d, log](const Tensor& g) {
                     Tensor y = GradMode::is_enabled() ? softmax_impl(sx.get("SoftmaxBackward"), d, log)
                                                       : sy.get("SoftmaxBackward");
                     return std::vector<Tensor>{softmax_grad(y, g, d, log)};
                   });
  return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, true); }

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  ops::check_defined(x, "dropout");
  EMBER_CHECK(p >= 0 && p <= 1, "dropout: probability must be in [0, 1], got ", p);
  if (!training || p == 0) return x;
  if (p == 1) return x * 0.0;
  Tensor xc = x.is_contiguous() ? x.detach() : x.detach().clone();
  Tensor out = detail::make_tensor(x.shape(), x.dtype(), x.device());
  Tensor mask = detail::make_tensor(x.shape(), x.dtype(), x.device());
  ops::kernels(x).dropout(xc, p, gen ? *gen : default_generator(), out, mask);
  autograd::record("DropoutBackward", out, {x}, [mask](const Tensor& g) {
    return std::vector<Tensor>{g * mask};
  });
  return out;
}

}  // namespace ember
