// Pooling ops: max_pool2d (with indices), avg_pool2d, adaptive_avg_pool2d; shape rules, kernel
// calls and backward (kernels, or composite / self-adjoint recursion under create_graph).
#include "ember/ops/creation.h"
#include "ember/ops/index.h"
#include "ember/ops/shape.h"
#include "ember/ops/vision.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;
using Window2d = backend::Backend::Window2d;

namespace {

// One value (both dims) or two (H, W).
std::pair<int64_t, int64_t> pair_arg(IntList v, const char* op, const char* what) {
  EMBER_CHECK(v.size() == 1 || v.size() == 2, op, ": ", what, " must have one or two values, got ",
              v.size());
  return {v[0], v.size() == 2 ? v[1] : v[0]};
}

// x: (N, C, H, W) or (C, H, W), floating.
void check_pool_input(const Tensor& x, const char* op) {
  ops::check_defined(x, op);
  EMBER_CHECK_SHAPE(x.dim() == 3 || x.dim() == 4, op,
                    ": expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got ", x.shape_str());
  EMBER_CHECK_DTYPE(x.is_floating_point(), op, ": input must be floating point, got ", x.dtype());
  EMBER_CHECK_SHAPE(x.size(-1) > 0 && x.size(-2) > 0 && x.size(-3) > 0, op,
                    ": expected non-empty C, H and W, got ", x.shape_str());
}

// torch's pooling_output_shape (div_rtn rounds towards negative infinity).
int64_t pooled_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d, bool ceil_mode) {
  const int64_t num = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
  int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

Window2d make_window(IntList kernel, IntList stride, IntList padding, IntList dilation,
                     const char* op) {
  const auto [kh, kw] = pair_arg(kernel, op, "kernel_size");
  const auto [sh, sw] = stride.empty() ? std::pair{kh, kw} : pair_arg(stride, op, "stride");
  const auto [ph, pw] = pair_arg(padding, op, "padding");
  const auto [dh, dw] = pair_arg(dilation, op, "dilation");
  EMBER_CHECK(kh > 0 && kw > 0, op, ": kernel_size must be positive, got (", kh, ", ", kw, ")");
  EMBER_CHECK(sh > 0 && sw > 0, op, ": stride must be positive, got (", sh, ", ", sw, ")");
  EMBER_CHECK(dh > 0 && dw > 0, op, ": dilation must be positive, got (", dh, ", ", dw, ")");
  EMBER_CHECK(ph >= 0 && pw >= 0 && ph <= kh / 2 && pw <= kw / 2, op,
              ": padding must be non-negative and at most half the kernel size, got padding (", ph,
              ", ", pw, ") for kernel (", kh, ", ", kw, ")");
  return {kh, kw, sh, sw, ph, pw, dh, dw};
}

// The output shape of pooling x with window w.
Shape pooled_shape(const Tensor& x, const Window2d& w, bool ceil_mode, const char* op) {
  const int64_t H = x.size(-2), W = x.size(-1);
  const int64_t oh = pooled_size(H, w.kh, w.sh, w.ph, w.dh, ceil_mode);
  const int64_t ow = pooled_size(W, w.kw, w.sw, w.pw, w.dw, ceil_mode);
  EMBER_CHECK_SHAPE(oh >= 1 && ow >= 1, op, ": output size is too small: input ", x.shape_str(),
                    " with kernel (", w.kh, ", ", w.kw, "), padding (", w.ph, ", ", w.pw,
                    ") and dilation (", w.dh, ", ", w.dw, ") gives (", oh, ", ", ow, ")");
  Shape s = x.shape();
  s[s.size() - 2] = oh;
  s[s.size() - 1] = ow;
  return s;
}

// A contiguous, detached copy (or view) of t viewed as (P, H, W) planes.
Tensor planes(const Tensor& t) {
  Tensor c = t.detach();
  if (!c.is_contiguous()) {
    Tensor d = detail::make_tensor(c.shape(), c.dtype(), c.device());
    ops::kernels(c).copy(c, d);
    c = d;
  }
  const int64_t H = c.size(-2), W = c.size(-1);
  return detail::make_view(c, {c.numel() / std::max<int64_t>(1, H * W), H, W}, {H * W, W, 1},
                           c.offset());
}

Tensor planes_of(const Tensor& out) {
  const int64_t H = out.size(-2), W = out.size(-1);
  return detail::make_view(out, {out.numel() / std::max<int64_t>(1, H * W), H, W}, {H * W, W, 1},
                           out.offset());
}

// Gradient of max pooling: grad_out scattered to the saved indices of an input of shape in.
Tensor max_pool_grad(const Tensor& g_in, const Tensor& indices, const Shape& in, DType dtype) {
  const Tensor g = g_in.dtype() == dtype ? g_in : g_in.to(dtype);
  if (GradMode::is_enabled()) {  // composite, so that higher-order gradients work
    const int64_t HW = in[in.size() - 1] * in[in.size() - 2];
    const int64_t P = detail::shape_numel(in) / HW;
    Tensor flat = zeros({P, HW}, g.dtype());
    return reshape(scatter_add(flat, 1, reshape(indices, {P, -1}), reshape(g, {P, -1})), in);
  }
  Tensor grad_in = detail::make_tensor(in, g.dtype(), g.device());
  if (grad_in.numel() > 0)
    ops::kernels(g).max_pool2d_backward(planes(g), planes(indices), planes_of(grad_in));
  return grad_in;
}

// Note [Linear pooling]: average and adaptive pooling are linear maps A; their backward is the
// adjoint A^T, whose own backward is A again. linear_pool applies A (adjoint = false) or A^T
// and records the other as its backward, so gradients of any order use the kernels.
struct LinearPool {
  bool adaptive = false;
  Window2d w{};
  bool count_include_pad = true;
  int64_t divisor = 0;
};

Tensor linear_pool(const Tensor& x, const LinearPool& p, const Shape& out_shape, bool adjoint) {
  Tensor out = detail::make_tensor(out_shape, x.dtype(), x.device());
  if (out.numel() > 0) {
    const Tensor xp = planes(x), op = planes_of(out);
    backend::Backend& k = ops::kernels(x);
    if (p.adaptive) {
      adjoint ? k.adaptive_avg_pool2d_backward(xp, op) : k.adaptive_avg_pool2d(xp, op);
    } else if (adjoint) {
      k.avg_pool2d_backward(xp, p.w, p.count_include_pad, p.divisor, op);
    } else {
      k.avg_pool2d(xp, p.w, p.count_include_pad, p.divisor, op);
    }
  }
  const char* name =
      p.adaptive ? (adjoint ? "AdaptiveAvgPool2DBackwardBackward" : "AdaptiveAvgPool2DBackward")
                 : (adjoint ? "AvgPool2DBackwardBackward" : "AvgPool2DBackward");
  autograd::record(name, out, {x},
                   [p, in = x.shape(), dtype = x.dtype(), adjoint](const Tensor& g) {
                     return std::vector<Tensor>{
                         linear_pool(g.dtype() == dtype ? g : g.to(dtype), p, in, !adjoint)};
                   });
  return out;
}

}  // namespace

std::tuple<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, IntList kernel_size,
                                                   IntList stride, IntList padding,
                                                   IntList dilation, bool ceil_mode) {
  const char* op = "max_pool2d";
  check_pool_input(x, op);
  const Window2d w = make_window(kernel_size, stride, padding, dilation, op);
  const Shape out_shape = pooled_shape(x, w, ceil_mode, op);
  Tensor out = detail::make_tensor(out_shape, x.dtype(), x.device());
  Tensor indices = detail::make_tensor(out_shape, kInt64, x.device());
  if (out.numel() > 0) ops::kernels(x).max_pool2d(planes(x), w, planes_of(out), planes_of(indices));
  autograd::record("MaxPool2DWithIndicesBackward", out, {x},
                   [indices, in = x.shape(), dtype = x.dtype()](const Tensor& g) {
                     return std::vector<Tensor>{max_pool_grad(g, indices, in, dtype)};
                   });
  return {out, indices};
}

Tensor max_pool2d(const Tensor& x, IntList kernel_size, IntList stride, IntList padding,
                  IntList dilation, bool ceil_mode) {
  return std::get<0>(max_pool2d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode));
}

Tensor avg_pool2d(const Tensor& x, IntList kernel_size, IntList stride, IntList padding,
                  bool ceil_mode, bool count_include_pad, std::optional<int64_t> divisor_override) {
  const char* op = "avg_pool2d";
  check_pool_input(x, op);
  EMBER_CHECK(!divisor_override || *divisor_override != 0,
              "avg_pool2d: divisor_override must be non-zero");
  LinearPool p;
  p.w = make_window(kernel_size, stride, padding, {1}, op);
  p.count_include_pad = count_include_pad;
  p.divisor = divisor_override.value_or(0);
  return linear_pool(x, p, pooled_shape(x, p.w, ceil_mode, op), false);
}

Tensor adaptive_avg_pool2d(const Tensor& x, IntList output_size) {
  const char* op = "adaptive_avg_pool2d";
  ops::check_defined(x, op);
  EMBER_CHECK_SHAPE(x.dim() == 3 || x.dim() == 4, op,
                    ": expected a 3-d (C, H, W) or 4-d (N, C, H, W) input, got ", x.shape_str());
  EMBER_CHECK_DTYPE(x.is_floating_point(), op, ": input must be floating point, got ", x.dtype());
  EMBER_CHECK_SHAPE(x.size(-1) > 0 && x.size(-2) > 0, op, ": expected non-empty H and W, got ",
                    x.shape_str());
  const auto [oh, ow] = pair_arg(output_size, op, "output_size");
  EMBER_CHECK(oh >= 0 && ow >= 0, op, ": output_size must be non-negative, got (", oh, ", ", ow,
              ")");
  Shape s = x.shape();
  s[s.size() - 2] = oh;
  s[s.size() - 1] = ow;
  LinearPool p;
  p.adaptive = true;
  return linear_pool(x, p, s, false);
}

}  // namespace ember
