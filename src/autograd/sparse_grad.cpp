// Row-sparse gradients of leaves: the buffer a sparse backward writes into, and zero_grad.
#include "ember/autograd/sparse_grad.h"

#include <algorithm>

#include "backend/backend.h"
#include "ember/autograd/grad_mode.h"
#include "ember/ops/creation.h"

namespace ember::autograd {

// Note [Row-sparse gradients]
// An embedding table of V rows used by a batch touches a few hundred rows. Its backward
// (embedding_bag(sparse=true)) scatter-adds straight into the leaf's dense .grad buffer,
// allocated with zeros once, and lists the rows it wrote in TensorImpl::grad_rows; it sends no
// gradient through the engine. zero_grad then zeroes only those rows, and SparseAdam / Adagrad
// update only those rows, so a step costs O(rows used), not O(V). Any dense gradient arriving at
// the same leaf (a tied weight, set_grad) clears the flag: the buffer is then an ordinary dense
// gradient, which every optimizer handles. Dense optimizers given a row-sparse grad read the
// buffer as is: the other rows are zero.

namespace {
thread_local bool t_accumulating = false;
}

bool accumulating_into_leaves() {
  return t_accumulating;
}

AccumulateModeGuard::AccumulateModeGuard(bool accumulate) : previous_(t_accumulating) {
  t_accumulating = accumulate;
}
AccumulateModeGuard::~AccumulateModeGuard() {
  t_accumulating = previous_;
}

Tensor sparse_grad_buffer(const Tensor& leaf, const char* op) {
  EMBER_CHECK_T(NotImplementedError, !GradMode::is_enabled(), op,
                ": the sparse (row-sparse) gradient of the weight cannot be differentiated "
                "again (create_graph=true); use sparse=false");
  EMBER_CHECK_T(NotImplementedError, accumulating_into_leaves(), op,
                ": the sparse (row-sparse) gradient of the weight goes into weight.grad() and "
                "cannot be returned by autograd::grad; use backward() or sparse=false");
  TensorImpl* impl = leaf.impl();
  if (!impl->grad.defined()) {
    impl->grad = zeros(leaf.shape(), Options(leaf.dtype(), leaf.device()));
    impl->grad_row_sparse = true;
    impl->grad_rows.clear();
  } else if (impl->grad.requires_grad() || !impl->grad.is_contiguous() ||
             impl->grad.storage().use_count() > 1) {
    // A gradient with history, a view, or one whose memory the caller also holds: write into a
    // private copy instead (AccumulateGrad's rule for in-place sums).
    const bool sparse = impl->grad_row_sparse;
    std::vector<int64_t> rows = std::move(impl->grad_rows);
    impl->grad = impl->grad.detach().clone();
    impl->grad_row_sparse = sparse;
    impl->grad_rows = std::move(rows);
  }
  return impl->grad;
}

void append_grad_rows(const Tensor& leaf, const std::vector<int64_t>& rows) {
  TensorImpl* impl = leaf.impl();
  if (impl->grad_row_sparse)
    impl->grad_rows.insert(impl->grad_rows.end(), rows.begin(), rows.end());
}

void zero_grad(const Tensor& param, bool set_to_none) {
  TensorImpl* impl = param.impl();
  if (impl == nullptr || !impl->grad.defined()) return;
  NoGradGuard no_grad;
  if (impl->grad_row_sparse && !impl->grad.requires_grad() && impl->grad.is_contiguous() &&
      impl->grad.dim() >= 1) {
    if (!impl->grad_rows.empty()) {
      backend::backend_for(impl->grad.device()).zero_rows(impl->grad, unique_grad_rows(param));
      impl->grad_rows.clear();
    }
    return;
  }
  if (set_to_none) {
    param.set_grad(Tensor());
    return;
  }
  Tensor g = impl->grad.grad_fn() ? impl->grad.detach() : impl->grad;
  g.zero_();
  param.set_grad(g);
}

bool grad_is_empty_row_sparse(const Tensor& param) {
  return param.grad_is_row_sparse() && param.grad_rows().empty();
}

Tensor unique_grad_rows(const Tensor& param) {
  std::vector<int64_t> rows = param.grad_rows();
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  return from_vector(rows);
}

}  // namespace ember::autograd
