// Row-sparse gradients of leaves (Note [Row-sparse gradients]) and the one zero_grad helper.
#pragma once

#include <cstdint>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::autograd {

/// Resets a leaf's gradient, for nn::Module::zero_grad and optim::Optimizer::zero_grad.
/// A row-sparse grad has only its listed rows zeroed and the list cleared; the buffer stays (also
/// with set_to_none), so the cost is O(rows used). A dense grad becomes undefined (set_to_none)
/// or is zero-filled in place (detached first if it has history).
void zero_grad(const Tensor& param, bool set_to_none);

/// True when param's grad is row-sparse and no row has been written since the last zero_grad:
/// the gradient is known to be zero (optimizers skip such parameters, as torch skips None).
bool grad_is_empty_row_sparse(const Tensor& param);

/// Sorted, deduplicated copy of param.grad_rows() as a 1-d int64 tensor.
Tensor unique_grad_rows(const Tensor& param);

// ---- internal: the sparse backward and the engine ----

/// The buffer a sparse backward of `op` scatter-adds into: leaf's existing grad, or zeros of its
/// shape allocated on first use (then marked row-sparse). Throws NotImplementedError under
/// create_graph or autograd::grad (no leaf accumulation), naming op.
Tensor sparse_grad_buffer(const Tensor& leaf, const char* op);
/// Records that rows were written into leaf's grad (kept only while the grad is row-sparse).
void append_grad_rows(const Tensor& leaf, const std::vector<int64_t>& rows);

/// True while backward() runs (gradients go into the leaves' .grad); false under
/// autograd::grad, which captures gradients instead.
bool accumulating_into_leaves();
/// Sets accumulating_into_leaves() for a scope (the backward engine).
class AccumulateModeGuard {
 public:
  explicit AccumulateModeGuard(bool accumulate);
  ~AccumulateModeGuard();
  AccumulateModeGuard(const AccumulateModeGuard&) = delete;
  AccumulateModeGuard& operator=(const AccumulateModeGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace ember::autograd
