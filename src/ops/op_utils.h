// Helpers shared by the op implementations: kernel calls, broadcasting views, dtype rules and
// in-place bookkeeping. Internal to src/ops.
#pragma once

#include <vector>

#include "backend/backend.h"
#include "ember/autograd/grad_mode.h"
#include "ember/autograd/node.h"
#include "ember/core/tensor.h"

namespace ember::ops {

using math::BinaryOp;
using math::UnaryOp;

inline backend::Backend& kernels(const Tensor& t) { return backend::backend_for(t.device()); }

/// Throws DeviceError unless a and b live on the same device.
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
/// Throws unless t is defined.
void check_defined(const Tensor& t, const char* op, const char* what = "input");
/// x's dtype if floating, else the default float dtype (float32): what exp(int) returns.
DType float_result(DType t);
/// Dtype of a binary op's result, as torch.result_type: 0-d tensors (scalars) don't widen a
/// floating tensor's dtype.
DType result_type(const Tensor& a, const Tensor& b);
/// A view of t broadcast to shape (stride 0 on broadcast dims), without autograd.
Tensor broadcast_view(const Tensor& t, IntList shape);
/// t converted to dtype (no autograd), or t itself.
Tensor cast(const Tensor& t, DType dtype);

/// out = f(x; a, b) into a new tensor (x converted to compute first); no autograd.
Tensor unary_kernel(UnaryOp op, const Tensor& x, double a = 0, double b = 0,
                    DType out_dtype = kFloat32, bool same_dtype = true);
/// out = f(a, b; alpha) with broadcasting, computed in `compute`; no autograd.
Tensor binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, double alpha, const char* name,
                     DType compute, DType out_dtype);

/// Runs an in-place update of self. Without autograd, `kernel` writes into self directly.
/// With autograd, self's new value is `out_of_place(old_self)` computed with history, copied
/// into self, and self takes over that history (see Note [In-place and autograd]).
void inplace(Tensor& self, const std::vector<Tensor>& others, const char* op,
             const std::function<void()>& kernel,
             const std::function<Tensor(const Tensor& old_self)>& out_of_place);

/// A scalar as a 0-d tensor of dtype.
Tensor scalar_like(double v, DType dtype, Device device);

}  // namespace ember::ops
