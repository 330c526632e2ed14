// Autograd entry points: backward over several roots, grad() for higher-order gradients, gradcheck.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::autograd {

/// Accumulates d(sum of roots·grads)/d(leaf) into the .grad of every leaf that requires grad.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads = {},
              bool retain_graph = false, bool create_graph = false);

/// Gradients of outputs with respect to inputs, returned instead of accumulated. With
/// create_graph the results have history, so they can be differentiated again.
/// allow_unused: inputs the outputs don't depend on get an undefined tensor instead of an error.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool retain_graph = false,
                         bool create_graph = false, bool allow_unused = false);

/// Activation recomputation (torch.utils.checkpoint, Note [Activation checkpointing]): returns
/// fn(x) without keeping the activations inside fn; backward runs fn(x) again, with the random
/// numbers of the first run (dropout masks match), and backpropagates through it, so the
/// parameters fn uses get their gradients as usual. Saves memory for compute: about one more
/// forward per backward. Without grad mode, or when x needs no gradient, it is just fn(x).
Tensor checkpoint(const std::function<Tensor(const Tensor&)>& fn, const Tensor& x);

/// Result of a gradient check: the worst absolute and relative error and where it was.
struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  double max_rel_error = 0;
  std::string detail;  ///< which input and element disagreed most
};

/// Compares analytic gradients of sum(f(inputs) * r) (r random, fixed) against float64 central
/// differences. Inputs must be float64 tensors that require grad.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, double eps = 1e-6,
                          double atol = 1e-5, double rtol = 1e-3);

}  // namespace ember::autograd
