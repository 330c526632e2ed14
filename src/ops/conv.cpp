// Convolutions: conv2d and conv_transpose2d (shape rules, kernel calls, backward).
#include "ember/ops/conv.h"

#include <sstream>

#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;
using ConvParams = backend::Backend::ConvParams;

namespace {

// A one- or two-element list as {h, w}.
std::pair<int64_t, int64_t> pair_arg(IntList v, const char* op, const char* what) {
  EMBER_CHECK(v.size() == 1 || v.size() == 2, op, ": ", what, " must have one or two values, got ",
              detail::shape_to_string(v));
  return {v[0], v.size() == 2 ? v[1] : v[0]};
}

// Convolution geometry (the arguments of the forward conv2d; for conv_transpose2d, of the conv
// whose input gradient it is).
struct Geometry {
  int64_t SH, SW, PH, PW, DH, DW, groups;
};

Geometry geometry(IntList stride, IntList padding, IntList dilation, int64_t groups,
                  const char* op) {
  const auto [sh, sw] = pair_arg(stride, op, "stride");
  const auto [ph, pw] = pair_arg(padding, op, "padding");
  const auto [dh, dw] = pair_arg(dilation, op, "dilation");
  EMBER_CHECK(sh > 0 && sw > 0, op, ": stride must be positive, got (", sh, ", ", sw, ")");
  EMBER_CHECK(ph >= 0 && pw >= 0, op, ": padding must be non-negative, got (", ph, ", ", pw, ")");
  EMBER_CHECK(dh > 0 && dw > 0, op, ": dilation must be positive, got (", dh, ", ", dw, ")");
  EMBER_CHECK(groups > 0, op, ": groups must be positive, got ", groups);
  return {sh, sw, ph, pw, dh, dw, groups};
}

void check_tensors(const Tensor& x, const Tensor& w, const Tensor& b, const char* op) {
  ops::check_defined(x, op);
  ops::check_defined(w, op, "weight");
  ops::check_same_device(x, w, op);
  EMBER_CHECK_DTYPE(is_floating(x.dtype()) && x.dtype() == w.dtype(), op,
                    ": expected floating input and weight of one dtype, got ", x.dtype(), " and ",
                    w.dtype());
  EMBER_CHECK_SHAPE(x.dim() == 3 || x.dim() == 4, op,
                    ": expected a 3-d (unbatched) or 4-d (batched) input, got input ",
                    x.shape_str());
  EMBER_CHECK_SHAPE(w.dim() == 4, op, ": expected a 4-d weight, got weight ", w.shape_str());
  if (b.defined()) {
    ops::check_same_device(x, b, op);
    EMBER_CHECK_DTYPE(b.dtype() == x.dtype(), op, ": bias dtype ", b.dtype(),
                      " does not match input dtype ", x.dtype());
  }
}

Tensor contiguous_data(const Tensor& t) {
  return t.is_contiguous() ? t.detach() : t.detach().clone();
}

// The dims of a (N, C, H, W) tensor as the first four fields of ConvParams.
ConvParams params(const Shape& in, const Shape& out, const Shape& w, const Geometry& g) {
  return {in[0], in[1], in[2], in[3], out[1], out[2], out[3], w[2],
          w[3],  g.SH,  g.SW,  g.PH,  g.PW,   g.DH,   g.DW,   g.groups};
}

Tensor conv2d_impl(const Tensor& x, const Tensor& w, const Tensor& b, const Geometry& g);
Tensor conv_transpose2d_impl(const Tensor& x, const Tensor& w, const Tensor& b, const Geometry& g,
                             int64_t oph, int64_t opw);

// d conv(x, w) / d w applied to gy, written with differentiable convolutions (for double
// backward): the weight gradient is a convolution of x with gy as the kernel, stride and dilation
// swapped. x: (N, C, H, W), gy: (N, OC, OH, OW) -> (OC, C / groups, KH, KW).
Tensor weight_grad_composite(const Tensor& x, const Tensor& gy, const Geometry& g, int64_t KH,
                             int64_t KW) {
  const int64_t N = x.size(0), G = g.groups, Cg = x.size(1) / G;
  // xt: (Cg, G*N, H, W) with channel j*N + n = x[n, j*Cg + c]; gt: (OC, N, OH, OW) as the kernel.
  const Tensor xt = reshape(permute(reshape(x, {N, G, Cg, x.size(2), x.size(3)}), {2, 1, 0, 3, 4}),
                            {Cg, G * N, x.size(2), x.size(3)});
  const Tensor gt = transpose(gy, 0, 1);
  Tensor r = conv2d_impl(xt, gt, Tensor(), {g.DH, g.DW, g.PH, g.PW, g.SH, g.SW, G});
  r = narrow(narrow(r, 2, 0, KH), 3, 0, KW);  // (Cg, OC, KH, KW)
  return transpose(r, 0, 1);
}

// Output padding that makes conv_transpose2d reproduce an input of size `in` from `out`.
int64_t output_padding_for(int64_t in, int64_t out, int64_t k, int64_t s, int64_t p, int64_t d) {
  return in - ((out - 1) * s - 2 * p + d * (k - 1) + 1);
}

// x: (N, C, H, W), w: (OC, C / groups, KH, KW), b: (OC) or undefined -> (N, OC, OH, OW).
Tensor conv2d_impl(const Tensor& x, const Tensor& w, const Tensor& b, const Geometry& g) {
  const char* op = "conv2d";
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t OC = w.size(0), KH = w.size(2), KW = w.size(3);
  EMBER_CHECK_SHAPE(OC % g.groups == 0, op, ": weight ", w.shape_str(), " has ", OC,
                    " output channels, not divisible by groups ", g.groups);
  EMBER_CHECK_SHAPE(C == w.size(1) * g.groups, op, ": expected input with ", w.size(1) * g.groups,
                    " channels (weight ", w.shape_str(), ", groups ", g.groups, "), got input ",
                    x.shape_str());
  if (b.defined())
    EMBER_CHECK_SHAPE(b.dim() == 1 && b.size(0) == OC, op, ": expected bias (", OC, ") for weight ",
                      w.shape_str(), ", got bias ", b.shape_str());
  const int64_t eh = H + 2 * g.PH - g.DH * (KH - 1), ew = W + 2 * g.PW - g.DW * (KW - 1);
  EMBER_CHECK_SHAPE(eh > 0 && ew > 0, op, ": kernel ", KH, "x", KW, " (dilation ", g.DH, "x", g.DW,
                    ") is larger than the padded input ", H + 2 * g.PH, "x", W + 2 * g.PW,
                    " (input ", x.shape_str(), ", padding ", g.PH, "x", g.PW, ")");
  const int64_t OH = (eh - 1) / g.SH + 1, OW = (ew - 1) / g.SW + 1;
  Tensor y = detail::make_tensor({N, OC, OH, OW}, x.dtype(), x.device());
  const ConvParams p = params(x.shape(), y.shape(), w.shape(), g);
  const Tensor bd = b.defined() ? contiguous_data(b) : Tensor();
  if (C == 0 || KH * KW == 0) {
    ops::kernels(y).fill(y, 0);
    if (bd.defined() && y.numel() > 0)
      ops::kernels(y).binary(math::BinaryOp::Add, y,
                             ops::broadcast_view(reshape(bd, {OC, 1, 1}), y.shape()), y, 1.0);
  } else {
    ops::kernels(y).conv2d_forward(contiguous_data(x), contiguous_data(w), bd, y, p);
  }
  autograd::record(
      "ConvolutionBackward0", y, {x, w, b},
      [sx = SavedTensor(x), sw = SavedTensor(w), gx = x.requires_grad(), gw = w.requires_grad(),
       gb = b.defined() && b.requires_grad(), g, p](const Tensor& gy) {
        const char* node = "ConvolutionBackward0";
        std::vector<Tensor> grads(3);
        const Tensor xs = sx.get(node), ws = sw.get(node);
        if (GradMode::is_enabled()) {  // differentiable formulas: double backward works
          if (gx)
            grads[0] = conv_transpose2d_impl(gy, ws, Tensor(), g,
                                             output_padding_for(p.H, p.OH, p.KH, g.SH, g.PH, g.DH),
                                             output_padding_for(p.W, p.OW, p.KW, g.SW, g.PW, g.DW));
          if (gw) grads[1] = weight_grad_composite(xs, gy, g, p.KH, p.KW);
        } else {
          const Tensor gyc = contiguous_data(gy);
          if (gx) {
            grads[0] = detail::make_tensor(xs.shape(), xs.dtype(), xs.device());
            ops::kernels(gyc).conv2d_backward_input(gyc, contiguous_data(ws), grads[0], p);
          }
          if (gw) {
            grads[1] = detail::make_tensor(ws.shape(), ws.dtype(), ws.device());
            ops::kernels(gyc).conv2d_backward_weight(gyc, contiguous_data(xs), grads[1], p);
          }
        }
        if (gb) grads[2] = sum(gy, {0, 2, 3});
        return grads;
      });
  return y;
}

// x: (N, C_in, H, W), w: (C_in, C_out / groups, KH, KW) -> (N, C_out, OH, OW).
Tensor conv_transpose2d_impl(const Tensor& x, const Tensor& w, const Tensor& b, const Geometry& g,
                             int64_t oph, int64_t opw) {
  const char* op = "conv_transpose2d";
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t KH = w.size(2), KW = w.size(3), OC = w.size(1) * g.groups;
  EMBER_CHECK_SHAPE(C == w.size(0), op, ": expected input with ", w.size(0), " channels (weight ",
                    w.shape_str(), ", groups ", g.groups, "), got input ", x.shape_str());
  EMBER_CHECK_SHAPE(C % g.groups == 0, op, ": weight ", w.shape_str(), " has ", C,
                    " input channels, not divisible by groups ", g.groups);
  if (b.defined())
    EMBER_CHECK_SHAPE(b.dim() == 1 && b.size(0) == OC, op, ": expected bias (", OC, ") for weight ",
                      w.shape_str(), " and groups ", g.groups, ", got bias ", b.shape_str());
  EMBER_CHECK(oph >= 0 && opw >= 0 && (oph < g.SH || oph < g.DH) && (opw < g.SW || opw < g.DW), op,
              ": output_padding (", oph, ", ", opw,
              ") must be non-negative and smaller than either stride (", g.SH, ", ", g.SW,
              ") or dilation (", g.DH, ", ", g.DW, ")");
  const int64_t OH = (H - 1) * g.SH - 2 * g.PH + g.DH * (KH - 1) + oph + 1;
  const int64_t OW = (W - 1) * g.SW - 2 * g.PW + g.DW * (KW - 1) + opw + 1;
  EMBER_CHECK_SHAPE(OH > 0 && OW > 0, op, ": output size ", OH, "x", OW, " is too small (input ",
                    x.shape_str(), ", weight ", w.shape_str(), ", padding ", g.PH, "x", g.PW, ")");
  Tensor y = detail::make_tensor({N, OC, OH, OW}, x.dtype(), x.device());
  // The conv whose input gradient this is: input y's shape, output x's shape.
  const ConvParams p = params(y.shape(), x.shape(), w.shape(), g);
  if (C == 0 || y.numel() == 0 || x.numel() == 0) {
    ops::kernels(y).fill(y, 0);
  } else {
    ops::kernels(y).conv2d_backward_input(contiguous_data(x), contiguous_data(w), y, p);
  }
  if (b.defined() && y.numel() > 0)
    ops::kernels(y).binary(math::BinaryOp::Add, y,
                           ops::broadcast_view(reshape(contiguous_data(b), {OC, 1, 1}), y.shape()),
                           y, 1.0);
  autograd::record(
      "ConvolutionBackward0", y, {x, w, b},
      [sx = SavedTensor(x), sw = SavedTensor(w), gx = x.requires_grad(), gw = w.requires_grad(),
       gb = b.defined() && b.requires_grad(), g, p](const Tensor& gy) {
        const char* node = "ConvolutionBackward0";
        std::vector<Tensor> grads(3);
        const Tensor xs = sx.get(node), ws = sw.get(node);
        if (GradMode::is_enabled()) {
          if (gx) {  // an output_padding >= stride adds rows that no input reaches: drop them
            grads[0] = conv2d_impl(gy, ws, Tensor(), g);
            grads[0] = narrow(narrow(grads[0], 2, 0, p.OH), 3, 0, p.OW);
          }
          if (gw) grads[1] = weight_grad_composite(gy, xs, g, p.KH, p.KW);
        } else {
          const Tensor gyc = contiguous_data(gy);
          if (gx) {
            grads[0] = detail::make_tensor(xs.shape(), xs.dtype(), xs.device());
            ops::kernels(gyc).conv2d_forward(gyc, contiguous_data(ws), Tensor(), grads[0], p);
          }
          if (gw) {
            grads[1] = detail::make_tensor(ws.shape(), ws.dtype(), ws.device());
            ops::kernels(gyc).conv2d_backward_weight(contiguous_data(xs), gyc, grads[1], p);
          }
        }
        if (gb) grads[2] = sum(gy, {0, 2, 3});
        return grads;
      });
  return y;
}

// Runs f on a 4-d view of x (unbatched inputs get a batch dim of 1, removed again).
template <class F>
Tensor batched(const Tensor& x, const F& f) {
  if (x.dim() == 4) return f(x);
  return squeeze(f(unsqueeze(x, 0)), 0);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, IntList stride,
              IntList padding, IntList dilation, int64_t groups) {
  check_tensors(x, weight, bias, "conv2d");
  const Geometry g = geometry(stride, padding, dilation, groups, "conv2d");
  return batched(x, [&](const Tensor& x4) { return conv2d_impl(x4, weight, bias, g); });
}

Tensor conv2d_padding_mode(const Tensor& x, const Tensor& weight, const Tensor& bias,
                           IntList stride, const std::string& padding, IntList dilation,
                           int64_t groups) {
  EMBER_CHECK(padding == "valid" || padding == "same",
              "conv2d: padding must be \"valid\" or \"same\", got \"", padding, "\"");
  if (padding == "valid") return conv2d(x, weight, bias, stride, {0, 0}, dilation, groups);
  check_tensors(x, weight, bias, "conv2d");
  const auto [sh, sw] = pair_arg(stride, "conv2d", "stride");
  EMBER_CHECK(sh == 1 && sw == 1,
              "conv2d: padding=\"same\" is not supported for strided convolutions, got stride (",
              sh, ", ", sw, ")");
  const auto [dh, dw] = pair_arg(dilation, "conv2d", "dilation");
  // Total padding d (k - 1) per dim; an odd total gets its extra row/column at the end. That is
  // a symmetric padding of (total + 1) / 2 with the first output row/column dropped.
  const int64_t th = dh * (weight.size(2) - 1), tw = dw * (weight.size(3) - 1);
  Tensor y = conv2d(x, weight, bias, stride, {(th + 1) / 2, (tw + 1) / 2}, dilation, groups);
  const int64_t hd = y.dim() - 2, wd = y.dim() - 1;
  if (th % 2) y = narrow(y, hd, 1, y.size(hd) - 1);
  if (tw % 2) y = narrow(y, wd, 1, y.size(wd) - 1);
  return y;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, IntList stride,
                        IntList padding, IntList output_padding, int64_t groups, IntList dilation) {
  check_tensors(x, weight, bias, "conv_transpose2d");
  const Geometry g = geometry(stride, padding, dilation, groups, "conv_transpose2d");
  const auto [oph, opw] = pair_arg(output_padding, "conv_transpose2d", "output_padding");
  return batched(
      x, [&](const Tensor& x4) { return conv_transpose2d_impl(x4, weight, bias, g, oph, opw); });
}

}  // namespace ember
