// Shared helpers of the op layer.
#include "ops/op_utils.h"

#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"

namespace ember::ops {

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  EMBER_CHECK_T(DeviceError, a.device() == b.device(), op,
                ": expected all tensors on the same device, got ", a.device(), " and ",
                b.device());
}

void check_defined(const Tensor& t, const char* op, const char* what) {
  EMBER_CHECK(t.defined(), op, ": ", what, " is an undefined tensor");
}

DType float_result(DType t) { return is_floating(t) ? t : kFloat32; }

namespace {
int category(DType t) { return t == kBool ? 0 : is_integral(t) ? 1 : 2; }
// The dtype of tensor op scalar (a 0-d tensor acting like a Python number).
DType with_scalar(DType tensor, DType scalar) {
  if (category(scalar) <= category(tensor)) return tensor;
  return category(scalar) == 2 ? kFloat32 : kInt64;
}
}  // namespace

DType result_type(const Tensor& a, const Tensor& b) {
  // Undefined operands are reported by the op's own checks, with its name.
  if (!a.defined() || !b.defined()) return kFloat32;
  const bool sa = a.dim() == 0, sb = b.dim() == 0;
  if (sb && !sa) return with_scalar(a.dtype(), b.dtype());
  if (sa && !sb) return with_scalar(b.dtype(), a.dtype());
  return promote_types(a.dtype(), b.dtype());
}

Tensor broadcast_view(const Tensor& t, IntList shape) {
  if (t.shape() == shape) return t;
  const int64_t nd = static_cast<int64_t>(shape.size());
  const int64_t off = nd - t.dim();
  Shape strides(shape.size(), 0);
  for (int64_t d = 0; d < t.dim(); ++d)
    strides[d + off] = t.size(d) == 1 && shape[d + off] != 1 ? 0 : t.stride(d);
  return detail::make_view(t, shape, strides, t.offset());
}

Tensor cast(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = detail::make_tensor(t.shape(), dtype, t.device());
  kernels(t).copy(t, out);
  return out;
}

Tensor unary_kernel(UnaryOp op, const Tensor& x, double a, double b, DType out_dtype,
                    bool same_dtype) {
  Tensor out = detail::make_tensor(x.shape(), same_dtype ? x.dtype() : out_dtype, x.device());
  kernels(x).unary(op, x, out, a, b);
  return out;
}

Tensor binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, double alpha, const char* name,
                     DType compute, DType out_dtype) {
  check_defined(a, name, "first operand");
  check_defined(b, name, "second operand");
  check_same_device(a, b, name);
  if (a.shape() == b.shape()) {
    Tensor out = detail::make_tensor(a.shape(), out_dtype, a.device());
    kernels(a).binary(op, cast(a, compute), cast(b, compute), out, alpha);
    return out;
  }
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = detail::make_tensor(shape, out_dtype, a.device());
  kernels(a).binary(op, broadcast_view(cast(a, compute), shape),
                    broadcast_view(cast(b, compute), shape), out, alpha);
  return out;
}

Tensor scalar_like(double v, DType dtype, Device device) {
  Tensor t = detail::make_tensor({}, dtype, device);
  backend::backend_for(device).fill(t, v);
  return t;
}

// Note [In-place and autograd]: an in-place op on a tensor that takes part in autograd is run as
// the out-of-place op on a differentiable copy of the old value; the result is written into the
// tensor, which then takes the result's grad_fn. Saved copies of the old value stay valid, and
// anything that saved the tensor itself sees the version bump. In-place ops on leaves that
// require grad, and on views of tensors in a graph, are errors.
void inplace(Tensor& self, const std::vector<Tensor>& others, const char* op,
             const std::function<void()>& kernel,
             const std::function<Tensor(const Tensor& old_self)>& out_of_place) {
  check_defined(self, op, "self");
  // As torch: no writes through broadcast (stride 0) dims; an empty tensor has no element to clash.
  for (int64_t d = 0; d < self.dim() && self.numel() > 0; ++d)
    EMBER_CHECK(self.stride(d) != 0 || self.size(d) <= 1, op,
                ": more than one element of the written-to tensor (shape ", self.shape_str(),
                ", strides ", detail::shape_to_string(self.strides()),
                ") refers to a single memory location; clone() it first");
  bool needs_grad = GradMode::is_enabled() && self.requires_grad();
  for (const Tensor& o : others) needs_grad = needs_grad || autograd::any_requires_grad({&o});
  if (!needs_grad) {
    kernel();
    self.storage()->bump_version();
    return;
  }
  EMBER_CHECK(!(self.is_leaf() && self.requires_grad()), op,
              ": a leaf tensor that requires grad (shape ", self.shape_str(),
              ") is being used in an in-place operation; wrap it in NoGradGuard or use the "
              "out-of-place op");
  EMBER_CHECK_T(NotImplementedError, !self.impl()->is_view, op,
                ": in-place operation on a view of a tensor that takes part in autograd is not "
                "supported; use the out-of-place op");
  Tensor old = Tensor(std::make_shared<TensorImpl>(*self.impl()));  // same data, old history
  Tensor result = out_of_place(old.clone());
  EMBER_CHECK_SHAPE(result.shape() == self.shape(), op, ": result shape ", result.shape_str(),
                    " does not match the in-place target's shape ", self.shape_str());
  {
    NoGradGuard no_grad;
    kernels(self).copy(cast(result, self.dtype()), self);
  }
  self.storage()->bump_version();
  self.impl()->grad_fn = result.grad_fn();
  self.impl()->requires_grad = result.requires_grad();  // false when cast to an integer dtype
}

}  // namespace ember::ops
