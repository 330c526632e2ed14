// Graph nodes, saved tensors and history recording.
#include "ember/autograd/node.h"

#include <atomic>

#include "ember/autograd/grad_mode.h"
#include "ember/ops/elementwise.h"

namespace ember::autograd {

// Note [Versions]: every storage carries a version counter that in-place ops bump. A tensor saved
// for backward remembers the version it had; if the version changed before backward reads it, the
// saved value is stale and backward raises an error instead of computing a wrong gradient.
SavedTensor::SavedTensor(const Tensor& t) : tensor_(t) {
  if (t.defined()) version_ = t.version();
}

Tensor SavedTensor::get(const char* node_name) const {
  if (tensor_.defined()) {
    EMBER_CHECK(tensor_.version() == version_,
                "one of the tensors needed for gradient computation has been modified by an "
                "in-place operation: ",
                node_name, " saved a tensor of shape ", tensor_.shape_str(), " at version ",
                version_, ", but it is now at version ", tensor_.version(),
                ". Use an out-of-place op or clone() the tensor before modifying it");
  }
  return tensor_;
}

std::vector<Tensor> FunctionNode::apply(const Tensor& grad_output) {
  EMBER_CHECK(fn_ != nullptr, "trying to backward through the graph a second time (", name_,
              "): its saved tensors were freed after the first backward. Pass retain_graph=true "
              "to the first backward() if you need to backward twice");
  return fn_(grad_output);
}

std::vector<Tensor> AccumulateGrad::apply(const Tensor& g) {
  const std::shared_ptr<TensorImpl> alive = variable_.lock();
  if (!alive) return {};
  TensorImpl* var = alive.get();
  // A dense gradient makes the sum dense (Note [Row-sparse gradients]).
  var->grad_row_sparse = false;
  var->grad_rows.clear();
  if (!var->grad.defined()) {
    if (GradMode::is_enabled()) {
      var->grad = g;  // create_graph: keep history so the gradient can be differentiated
    } else if (g.impl_ptr().use_count() <= 2 && g.storage().use_count() == 1 &&
               g.is_contiguous() && g.grad_fn() == nullptr) {
      var->grad = g.detach();  // nobody else sees this buffer: take it without a copy
    } else {
      var->grad = g.detach().clone();
    }
  } else if (GradMode::is_enabled()) {
    var->grad = var->grad + g;
  } else {
    var->grad.add_(g);
  }
  if (!var->post_accumulate_grad_hooks.empty()) {
    const Tensor leaf(alive);
    for (const auto& hook : var->post_accumulate_grad_hooks) hook(leaf);
  }
  return {};
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

std::shared_ptr<Node> gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return nullptr;
  if (t.grad_fn()) return t.grad_fn();
  TensorImpl* impl = t.impl();
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t);
    impl->grad_accumulator = acc;
  }
  return acc;
}

namespace {
std::atomic<uint64_t> g_sequence{0};
}

void record(const char* name, const Tensor& out, const std::vector<Tensor>& inputs,
            FunctionNode::Backward backward) {
  if (!any_requires_grad(inputs)) return;
  auto node = std::make_shared<FunctionNode>(name, std::move(backward));
  node->next.reserve(inputs.size());
  node->input_meta.reserve(inputs.size());
  for (const Tensor& in : inputs) {
    node->next.push_back(gradient_edge(in));
    if (in.defined()) {
      node->input_meta.push_back({in.shape(), in.dtype()});
    } else {
      node->input_meta.push_back({});
    }
  }
  node->sequence_nr = g_sequence.fetch_add(1, std::memory_order_relaxed);
  TensorImpl* impl = out.impl();
  impl->grad_fn = std::move(node);
  impl->requires_grad = true;
}

}  // namespace ember::autograd
