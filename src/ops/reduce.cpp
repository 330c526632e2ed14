// Reductions: one (A, R, B) kernel call after bringing the reduced dims together; scans.
#include "ember/ops/reduce.h"

#include <algorithm>

#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/shape.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;
using backend::ReduceOp;

namespace {

// Sorted, unique, non-negative reduced dims (all dims when `dims` is empty).
Shape reduced_dims(const Tensor& x, IntList dims, const char* op) {
  Shape out;
  if (dims.empty()) {
    for (int64_t d = 0; d < x.dim(); ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(detail::wrap_dim(d, x.dim(), op));
  std::sort(out.begin(), out.end());
  EMBER_CHECK_SHAPE(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": dim ",
                    "appears more than once in ", detail::shape_to_string(dims));
  return out;
}

Shape reduced_shape(const Tensor& x, const Shape& rdims, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const bool reduced = std::binary_search(rdims.begin(), rdims.end(), d);
    if (!reduced) out.push_back(x.size(d));
    else if (keepdim) out.push_back(1);
  }
  return out;
}

int64_t reduced_count(const Tensor& x, const Shape& rdims) {
  int64_t n = 1;
  for (int64_t d : rdims) n *= x.dim() == 0 ? 1 : x.size(d);
  return n;
}

// Runs the reduction kernel with no autograd; result has the keepdim=false/true shape.
Tensor reduce_kernel(ReduceOp op, const Tensor& x_in, const Shape& rdims, bool keepdim,
                     DType out_dtype) {
  Tensor x = x_in;
  int64_t A = 1, R = 1, B = 1;
  const bool adjacent = rdims.empty() || rdims.back() - rdims.front() + 1 ==
                                             static_cast<int64_t>(rdims.size());
  if (adjacent) {
    if (!x.is_contiguous()) {
      Tensor c = detail::make_tensor(x.shape(), x.dtype(), x.device());
      ops::kernels(x).copy(x, c);
      x = c;
    }
    for (int64_t d = 0; d < x.dim(); ++d) {
      if (!rdims.empty() && d < rdims.front()) A *= x.size(d);
      else if (!rdims.empty() && d <= rdims.back()) R *= x.size(d);
      else B *= x.size(d);
    }
    if (rdims.empty()) { A = x.numel(); R = 1; B = 1; }
  } else {
    Shape perm;
    for (int64_t d = 0; d < x.dim(); ++d)
      if (!std::binary_search(rdims.begin(), rdims.end(), d)) perm.push_back(d);
    for (int64_t d : rdims) perm.push_back(d);
    Shape shape, strides;
    for (int64_t d : perm) {
      shape.push_back(x.size(d));
      strides.push_back(x.stride(d));
    }
    Tensor pv = detail::make_view(x, shape, strides, x.offset());
    Tensor c = detail::make_tensor(shape, x.dtype(), x.device());
    ops::kernels(x).copy(pv, c);
    x = c;
    R = reduced_count(x_in, rdims);
    A = R == 0 ? 0 : x.numel() / std::max<int64_t>(R, 1);
    if (R == 0) A = detail::shape_numel(reduced_shape(x_in, rdims, false));
  }
  Tensor out = detail::make_tensor(reduced_shape(x_in, rdims, keepdim), out_dtype, x.device());
  if (out.numel() == 0) return out;
  if (R == 0) {  // reducing an empty dim: the identity
    ops::kernels(out).fill(out, op == ReduceOp::Prod ? 1 : 0);
    if (op != ReduceOp::Sum && op != ReduceOp::Prod)
      EMBER_THROW(IndexError, "max/min/argmax/argmin: cannot reduce over a dimension of size 0 "
                  "(input shape ", x_in.shape_str(), ")");
    return out;
  }
  ops::kernels(x).reduce(op, x, A, R, B, out);
  return out;
}

DType sum_dtype(DType t) { return is_floating(t) ? t : kInt64; }

// g (reduced shape) brought back to x's shape: unsqueeze reduced dims, then expand.
Tensor expand_back(const Tensor& g, const Shape& x_shape, const Shape& rdims, bool keepdim) {
  Tensor r = g;
  if (!keepdim) {
    Shape ks = x_shape;
    for (int64_t d : rdims) ks[d] = 1;
    r = reshape(r, ks);
  }
  return expand(r, x_shape);
}

}  // namespace

Tensor sum(const Tensor& x, IntList dims, bool keepdim) {
  ops::check_defined(x, "sum");
  const Shape rdims = reduced_dims(x, dims, "sum");
  const DType t = sum_dtype(x.dtype());
  Tensor out = reduce_kernel(ReduceOp::Sum, ops::cast(x, t), rdims, keepdim, t);
  autograd::record("SumBackward", out, {x}, [shape = x.shape(), rdims, keepdim](const Tensor& g) {
    return std::vector<Tensor>{expand_back(g, shape, rdims, keepdim)};
  });
  return out;
}

Tensor mean(const Tensor& x, IntList dims, bool keepdim) {
  ops::check_defined(x, "mean");
  EMBER_CHECK_DTYPE(is_floating(x.dtype()), "mean: input dtype must be floating point, got ",
                    x.dtype(), "; convert with to(kFloat32)");
  const Shape rdims = reduced_dims(x, dims, "mean");
  const int64_t n = reduced_count(x, rdims);
  return sum(x, rdims.empty() ? Shape{} : rdims, keepdim) / static_cast<double>(n);
}

Tensor prod(const Tensor& x, IntList dims, bool keepdim) {
  ops::check_defined(x, "prod");
  const Shape rdims = reduced_dims(x, dims, "prod");
  const DType t = sum_dtype(x.dtype());
  Tensor out = reduce_kernel(ReduceOp::Prod, ops::cast(x, t), rdims, keepdim, t);
  // d prod / d x_i = prod / x_i (inputs with zeros get the product of the others only where
  // exactly one zero sits in the reduced slice; see ProdBackward).
  autograd::record("ProdBackward", out, {x},
                   [sx = SavedTensor(x), so = SavedTensor(out.detach()), rdims, keepdim,
                    shape = x.shape()](const Tensor& g) {
                     Tensor xv = sx.get("ProdBackward");
                     Tensor zero = xv == 0.0;
                     Tensor safe = where(zero, ones_like(xv), xv);
                     // product of the non-zero elements and count of zeros in each slice
                     Tensor pnz = prod(safe, rdims, true);
                     Tensor nz = sum(zero.to(kInt64), rdims, true);
                     Tensor others = where(zero, where(nz == 1.0, pnz, zeros_like(pnz)),
                                           where(nz == 0.0, pnz / safe, zeros_like(pnz)));
                     return std::vector<Tensor>{expand_back(g, shape, rdims, keepdim) * others};
                   });
  return out;
}

namespace {
// Value-reduction backward that spreads the gradient evenly over tied extremes. With nan_ties
// (max() and min() over everything, as torch's evenly_distribute_backward) a NaN result sends
// the gradient to the NaN inputs; amax/amin compare with == only, as torch does.
Tensor extreme_all_dims(const Tensor& x, IntList dims, bool keepdim, bool is_max, const char* op,
                        bool nan_ties = false) {
  ops::check_defined(x, op);
  const Shape rdims = reduced_dims(x, dims, op);
  Tensor out = reduce_kernel(is_max ? ReduceOp::Max : ReduceOp::Min, x, rdims, keepdim, x.dtype());
  const char* name = is_max ? "AmaxBackward" : "AminBackward";
  autograd::record(name, out, {x},
                   [sx = SavedTensor(x), so = SavedTensor(out.detach()), rdims, keepdim,
                    shape = x.shape(), name, nan_ties](const Tensor& g) {
                     Tensor xv = sx.get(name);
                     Tensor ov = expand_back(so.get(name), shape, rdims, keepdim);
                     Tensor hit = xv == ov;
                     if (nan_ties) hit = logical_or(hit, logical_and(isnan(xv), isnan(ov)));
                     Tensor mask = hit.to(g.dtype());
                     Tensor count = sum(mask, rdims, true);
                     return std::vector<Tensor>{expand_back(g, shape, rdims, keepdim) * mask /
                                                count};
                   });
  return out;
}
}  // namespace

Tensor amax(const Tensor& x, IntList dims, bool keepdim) {
  return extreme_all_dims(x, dims, keepdim, true, "amax");
}
Tensor amin(const Tensor& x, IntList dims, bool keepdim) {
  return extreme_all_dims(x, dims, keepdim, false, "amin");
}
Tensor max(const Tensor& x) { return extreme_all_dims(x, {}, false, true, "max", true); }
Tensor min(const Tensor& x) { return extreme_all_dims(x, {}, false, false, "min", true); }

namespace {
std::tuple<Tensor, Tensor> extreme_dim(const Tensor& x, int64_t dim, bool keepdim, bool is_max,
                                       const char* op) {
  ops::check_defined(x, op);
  const Shape rdims{detail::wrap_dim(dim, x.dim(), op)};
  const Shape r = x.dim() == 0 ? Shape{} : rdims;
  Tensor idx = reduce_kernel(is_max ? ReduceOp::ArgMax : ReduceOp::ArgMin, x, r, true, kInt64);
  Tensor values;
  {
    NoGradGuard no_grad;
    values = x.dim() == 0 ? x.clone() : gather(x, rdims[0], idx);
  }
  if (!keepdim && x.dim() > 0) {
    values = squeeze(values, rdims[0]);
    idx = squeeze(idx, rdims[0]);
  }
  values = values.detach();
  autograd::record(is_max ? "MaxBackward" : "MinBackward", values, {x},
                   [si = SavedTensor(idx), d = x.dim() == 0 ? 0 : rdims[0], keepdim,
                    shape = x.shape(), nd = x.dim()](const Tensor& g) {
                     if (nd == 0) return std::vector<Tensor>{g};
                     Tensor gi = keepdim ? g : unsqueeze(g, d);
                     Tensor ii = keepdim ? si.get("MaxBackward") : unsqueeze(si.get("MaxBackward"), d);
                     return std::vector<Tensor>{
                         scatter_add(zeros(shape, {g.dtype(), g.device()}), d, ii, gi)};
                   });
  return {values, idx};
}
}  // namespace

std::tuple<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim(x, dim, keepdim, true, "max");
}
std::tuple<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_dim(x, dim, keepdim, false, "min");
}

Tensor argmax(const Tensor& x) {
  ops::check_defined(x, "argmax");
  return reduce_kernel(ReduceOp::ArgMax, reshape(x.detach(), {-1}), {0}, false, kInt64);
}
Tensor argmin(const Tensor& x) {
  ops::check_defined(x, "argmin");
  return reduce_kernel(ReduceOp::ArgMin, reshape(x.detach(), {-1}), {0}, false, kInt64);
}
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return std::get<1>(extreme_dim(x.detach(), dim, keepdim, true, "argmax"));
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return std::get<1>(extreme_dim(x.detach(), dim, keepdim, false, "argmin"));
}

Tensor var(const Tensor& x, IntList dims, int64_t correction, bool keepdim) {
  ops::check_defined(x, "var");
  EMBER_CHECK_DTYPE(is_floating(x.dtype()), "var: input dtype must be floating point, got ",
                    x.dtype());
  const Shape rdims = reduced_dims(x, dims, "var");
  const int64_t n = reduced_count(x, rdims);
  Tensor mu = mean(x, rdims, true);
  Tensor d = x - mu;
  return sum(d * d, rdims, keepdim) / static_cast<double>(std::max<int64_t>(n - correction, 0));
}

Tensor std(const Tensor& x, IntList dims, int64_t correction, bool keepdim) {
  return sqrt(var(x, dims, correction, keepdim));
}

Tensor logsumexp(const Tensor& x, IntList dims, bool keepdim) {
  ops::check_defined(x, "logsumexp");
  const Shape rdims = reduced_dims(x, dims, "logsumexp");
  Tensor m;
  {
    NoGradGuard no_grad;
    if (x.numel() == 0) {  // the sum over an empty set is 0, its log -inf (as torch)
      m = zeros(reduced_shape(x, rdims, true), {x.dtype(), x.device()});
    } else {
      m = amax(x, rdims, true);
      m = where(isfinite(m), m, zeros_like(m));
    }
  }
  Tensor out = log(sum(exp(x - m), rdims, true)) + m;
  return keepdim ? out : reshape(out, reduced_shape(x, rdims, false));
}

Tensor cumsum(const Tensor& x, int64_t dim) {
  ops::check_defined(x, "cumsum");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "cumsum");
  const DType t = sum_dtype(x.dtype());
  Tensor xc = ops::cast(x, t);
  if (!xc.is_contiguous()) {
    Tensor c = detail::make_tensor(xc.shape(), t, xc.device());
    ops::kernels(xc).copy(xc, c);
    xc = c;
  }
  Tensor out = detail::make_tensor(x.shape(), t, x.device());
  int64_t A = 1, R = x.dim() == 0 ? 1 : x.size(d), B = 1;
  for (int64_t k = 0; k < x.dim(); ++k) {
    if (k < d) A *= x.size(k);
    if (k > d) B *= x.size(k);
  }
  if (out.numel() > 0) ops::kernels(x).cumsum(xc, A, R, B, out);
  autograd::record("CumsumBackward", out, {x}, [d](const Tensor& g) {
    // reverse cumulative sum: sum(g) - cumsum(g) + g
    return std::vector<Tensor>{sum(g, {d}, true) - cumsum(g, d) + g};
  });
  return out;
}

Tensor any(const Tensor& x) {
  ops::check_defined(x, "any");
  return sum((x != 0.0).to(kInt64)) > 0.0;
}

Tensor all(const Tensor& x) {
  ops::check_defined(x, "all");
  return sum((x != 0.0).to(kInt64)) == static_cast<double>(x.numel());
}

Tensor sum_to(const Tensor& x, IntList shape) {
  if (x.shape() == shape) return x;
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  EMBER_CHECK_SHAPE(lead >= 0, "sum_to: cannot reduce shape ", x.shape_str(), " to ",
                    detail::shape_to_string(shape));
  Shape dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
    } else if (shape[d - lead] == 1 && x.size(d) != 1) {
      dims.push_back(d);
    } else {
      EMBER_CHECK_SHAPE(shape[d - lead] == x.size(d), "sum_to: cannot reduce shape ",
                        x.shape_str(), " to ", detail::shape_to_string(shape));
    }
  }
  Tensor r = dims.empty() ? x : sum(x, dims, true);
  return reshape(r, shape);
}

}  // namespace ember
