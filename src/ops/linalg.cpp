// Matrix products: matmul/mm/bmm/linear through the backend GEMM (BLAS), backward with matmul.
#include "ember/ops/linalg.h"

#include "backend/cpu/lapack.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;

namespace {

// A (B, R, C) operand view for the GEMM kernel: copied unless BLAS can read it as it is (unit
// stride in one of the last two dims and a leading dimension at least as long as the other;
// the same test as the kernel's blas_layout). Broadcast rows (stride 0) are copied.
Tensor gemm_operand(const Tensor& t) {
  const int64_t rows = t.size(-2), cols = t.size(-1), rs = t.stride(-2), cs = t.stride(-1);
  const bool row_major = (cs == 1 || cols == 1) && (rs >= std::max<int64_t>(1, cols) || rows == 1);
  const bool col_major = (rs == 1 || rows == 1) && (cs >= std::max<int64_t>(1, rows) || cols == 1);
  if (row_major || col_major) return t;
  Tensor c = detail::make_tensor(t.shape(), t.dtype(), t.device());
  ops::kernels(t).copy(t, c);
  return c;
}

// (batch..., N, K) @ (batch..., K, M) with broadcast batch dims; no autograd.
Tensor batched_gemm(const Tensor& a, const Tensor& b, const Tensor& bias = Tensor()) {
  const Shape ab(a.shape().begin(), a.shape().end() - 2);
  const Shape bb(b.shape().begin(), b.shape().end() - 2);
  const Shape batch = broadcast_shapes(ab, bb, "matmul");
  const int64_t N = a.size(-2), K = a.size(-1), M = b.size(-1);
  Shape as = batch, bs = batch, os = batch;
  as.insert(as.end(), {N, K});
  bs.insert(bs.end(), {K, M});
  os.insert(os.end(), {N, M});
  Tensor out = detail::make_tensor(os, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  double beta = 0;
  if (bias.defined()) {
    ops::kernels(out).copy(ops::broadcast_view(bias, os), out);
    beta = 1;
  } else if (K == 0) {
    ops::kernels(out).fill(out, 0);
    return out;
  }
  // Flatten batch dims into one; broadcast operands keep stride 0 where possible.
  Tensor a3 = gemm_operand(ops::broadcast_view(a, as));
  Tensor b3 = gemm_operand(ops::broadcast_view(b, bs));
  auto as_3d = [&](const Tensor& t) {
    if (t.dim() == 3) return t;
    if (t.dim() == 2)
      return detail::make_view(t, {1, t.size(0), t.size(1)}, {0, t.stride(0), t.stride(1)},
                               t.offset());
    // Merge batch dims: needs a single batch stride; copy if they don't merge.
    int64_t nb = 1;
    for (int64_t d = 0; d < t.dim() - 2; ++d) nb *= t.size(d);
    bool uniform = true;
    for (int64_t d = 0; d + 1 < t.dim() - 2; ++d)
      uniform = uniform && (t.size(d) == 1 || t.stride(d) == t.stride(d + 1) * t.size(d + 1));
    Tensor src = t;
    if (!uniform) {
      src = detail::make_tensor(t.shape(), t.dtype(), t.device());
      ops::kernels(t).copy(t, src);
    }
    return detail::make_view(src, {nb, t.size(-2), t.size(-1)},
                             {src.stride(-3), src.stride(-2), src.stride(-1)}, src.offset());
  };
  Tensor o3 = detail::make_view(out, {out.numel() / (N * M), N, M}, {N * M, M, 1}, 0);
  ops::kernels(out).gemm(as_3d(a3), as_3d(b3), o3, 1.0, beta);
  return out;
}

void check_matmul_dtypes(const Tensor& a, const Tensor& b, const char* op) {
  ops::check_defined(a, op, "first operand");
  ops::check_defined(b, op, "second operand");
  ops::check_same_device(a, b, op);
  EMBER_CHECK_DTYPE(a.dtype() == b.dtype(), op, ": expected both operands to have the same dtype, ",
                    "got ", a.dtype(), " and ", b.dtype());
  EMBER_CHECK_DTYPE(is_floating(a.dtype()) && a.dtype() != kBFloat16, op,
                    ": only float32 and float64 are supported on the CPU, got ", a.dtype());
}

// The common layer call goes straight to the backend's fused linear kernel (no transposed views,
// no broadcasting): a 2-d input with unit column stride, a contiguous weight and bias.
bool linear_kernel_fits(const Tensor& x, const Tensor& w, const Tensor& bias) {
  const int64_t K = w.size(1);
  return x.dim() == 2 && K > 0 && x.size(0) > 0 && x.stride(1) == 1 &&
         (x.stride(0) >= K || x.size(0) == 1) && w.is_contiguous() &&
         (!bias.defined() || (bias.is_contiguous() && bias.dtype() == x.dtype()));
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_matmul_dtypes(a, b, "matmul");
  EMBER_CHECK_SHAPE(a.dim() >= 1 && b.dim() >= 1, "matmul: both arguments need at least 1 dim, ",
                    "got shapes ", a.shape_str(), " and ", b.shape_str());
  const Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
  const Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
  EMBER_CHECK_SHAPE(a2.size(-1) == b2.size(-2), "matmul: shapes ", a.shape_str(), " and ",
                    b.shape_str(), " cannot be multiplied (", a2.size(-1), " != ", b2.size(-2),
                    ")");
  Tensor out = batched_gemm(a2.detach(), b2.detach());
  autograd::record("MmBackward", out, {a2, b2},
                   [sa = SavedTensor(a2), sb = SavedTensor(b2), ga = a2.requires_grad(),
                    gb = b2.requires_grad()](const Tensor& g) -> std::vector<Tensor> {
                     Tensor da, db;
                     if (ga) da = matmul(g, transpose(sb.get("MmBackward"), -1, -2));
                     if (gb) db = matmul(transpose(sa.get("MmBackward"), -1, -2), g);
                     return {da, db};  // the engine sums broadcast batch dims
                   });
  if (a.dim() == 1) out = squeeze(out, -2);
  if (b.dim() == 1) out = squeeze(out, -1);
  return out;
}

Tensor mm(const Tensor& a, const Tensor& b) {
  EMBER_CHECK_SHAPE(a.dim() == 2 && b.dim() == 2, "mm: expected 2-d tensors, got shapes ",
                    a.shape_str(), " and ", b.shape_str());
  return matmul(a, b);
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  EMBER_CHECK_SHAPE(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0),
                    "bmm: expected 3-d tensors with the same batch size, got shapes ",
                    a.shape_str(), " and ", b.shape_str());
  return matmul(a, b);
}

Tensor dot(const Tensor& a, const Tensor& b) {
  EMBER_CHECK_SHAPE(a.dim() == 1 && b.dim() == 1 && a.size(0) == b.size(0),
                    "dot: expected 1-d tensors of the same size, got shapes ", a.shape_str(),
                    " and ", b.shape_str());
  return matmul(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_matmul_dtypes(x, weight, "linear");
  EMBER_CHECK_SHAPE(weight.dim() == 2 && x.dim() >= 1 && x.size(-1) == weight.size(1),
                    "linear: input of shape ", x.shape_str(), " does not match weight of shape ",
                    weight.shape_str(), " (expected input (*, ",
                    weight.dim() == 2 ? weight.size(1) : -1, "))");
  if (bias.defined())
    EMBER_CHECK_SHAPE(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear: bias of shape ",
                      bias.shape_str(), " does not match weight of shape ", weight.shape_str());
  // x: (*, in) viewed as (N, in); y = x W^T + b with the bias fused into GEMM's beta.
  // Rows counted explicitly: a -1 can't be inferred when in_features is 0.
  const int64_t rows =
      x.dim() == 2 ? x.size(0) : detail::shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
  Tensor out;
  // (B, T, in) activations are one (B T, in) matrix when contiguous: the fused kernel takes them.
  const Tensor x2 = x.dim() == 2 ? x.detach() : reshape(x.detach(), {rows, x.size(-1)});
  if (linear_kernel_fits(x2, weight, bias)) {
    out = detail::make_tensor({rows, weight.size(0)}, x.dtype(), x.device());
    ops::kernels(out).linear(x2, weight, bias, out);
  } else {
    out = batched_gemm(x2, transpose(weight.detach(), 0, 1),
                       bias.defined() ? bias.detach() : Tensor());
  }
  if (x.dim() != 2) {
    Shape os(x.shape().begin(), x.shape().end() - 1);
    os.push_back(weight.size(0));
    out = detail::make_view(out, os, detail::contiguous_strides(os), 0);
    out.impl()->is_view = false;  // the only tensor over this fresh storage
  }
  autograd::record("LinearBackward", out, {x, weight, bias},
                   [sx = SavedTensor(x), sw = SavedTensor(weight), gx = x.requires_grad(),
                    gw = weight.requires_grad(), gb = bias.defined() && bias.requires_grad(),
                    rows](const Tensor& g) {
                     std::vector<Tensor> grads(3);
                     const Tensor w = sw.get("LinearBackward");
                     const Tensor g2 = reshape(g, {rows, g.size(-1)});
                     if (gx) grads[0] = reshape(matmul(g2, w), sx.get("LinearBackward").shape());
                     if (gw) {
                       const Tensor xv = sx.get("LinearBackward");
                       grads[1] = matmul(transpose(g2, 0, 1), reshape(xv, {rows, xv.size(-1)}));
                     }
                     if (gb) grads[2] = sum(g2, {0});
                     return grads;
                   });
  return out;
}

}  // namespace ember

namespace ember::linalg {

Tensor lstsq(const Tensor& a, const Tensor& b) {
  ops::check_defined(a, "lstsq");
  ops::check_defined(b, "lstsq", "b");
  EMBER_CHECK_T(DeviceError, a.device().is_cpu() && b.device().is_cpu(),
                "lstsq: only CPU tensors are supported");
  EMBER_CHECK_SHAPE(a.dim() == 2 && (b.dim() == 1 || b.dim() == 2) && b.size(0) == a.size(0),
                    "lstsq: expected a (m, n) and b (m) or (m, k), got ", a.shape_str(), " and ",
                    b.shape_str());
  const int64_t m = a.size(0), n = a.size(1), k = b.dim() == 1 ? 1 : b.size(1);
  EMBER_CHECK_SHAPE(m >= n, "lstsq: needs at least as many rows as columns, got ", a.shape_str());
  EMBER_CHECK_DTYPE(is_floating(a.dtype()) && a.dtype() == b.dtype(),
                    "lstsq: expected float tensors of one dtype, got ", a.dtype(), " and ",
                    b.dtype());
  NoGradGuard no_grad;
  Tensor a64 = a.to(kFloat64).contiguous().clone();
  // b as column-major (m, k): the row-major transpose (k, m).
  Tensor b64 = (b.dim() == 1 ? b.unsqueeze(1) : b).to(kFloat64).t().contiguous().clone();
  cpu::lstsq_f64(static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
                 a64.data_ptr<double>(), b64.data_ptr<double>());
  Tensor x = b64.narrow(1, 0, n).t().contiguous();  // (n, k)
  if (b.dim() == 1) x = x.reshape({n});
  return x.to(a.dtype());
}

}  // namespace ember::linalg
