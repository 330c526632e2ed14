// The backward engine: runs graph nodes in dependency order, summing gradients at each node.
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "ember/autograd/functional.h"
#include "ember/autograd/grad_mode.h"
#include "ember/autograd/node.h"
#include "ember/autograd/sparse_grad.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"

namespace ember::autograd {

namespace {

struct ByNewestFirst {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

// Brings an incoming gradient to the input's shape and dtype (broadcast dims are summed).
Tensor conform(const Tensor& g, const InputMeta& meta, const Node& from) {
  Tensor out = g;
  if (out.shape() != meta.shape) {
    EMBER_CHECK_SHAPE(out.numel() >= detail::shape_numel(meta.shape) || out.numel() == 0 ||
                          detail::shape_numel(meta.shape) == 0,
                      "autograd: ", from.name(), " returned a gradient of shape ", out.shape_str(),
                      " for an input of shape ", detail::shape_to_string(meta.shape));
    out = sum_to(out, meta.shape);
  }
  if (out.dtype() != meta.dtype) out = out.to(meta.dtype);
  return out;
}

// Note [In-place gradient sums]
// A node reached by several edges (a residual stream, the q/k/v slices of one projection) gets
// the sum of its incoming gradients. When the partial sum held in the buffer is the only handle
// on its memory (no other buffer, saved tensor, view or caller shares its storage), the next
// gradient is added into it in place: the same sum, element for element, without a fresh
// activation-sized tensor per edge. Under create_graph the sum must be recorded, so it stays
// out of place.
bool sole_owner(const Tensor& acc, const Tensor& g, bool create_graph) {
  return !create_graph && !acc.requires_grad() && acc.impl_ptr().use_count() == 1 &&
         acc.storage().use_count() == 1 && acc.is_contiguous() && acc.shape() == g.shape() &&
         acc.dtype() == g.dtype() && acc.device() == g.device() && acc.storage() != g.storage();
}

// Runs backward from the given root nodes. With `capture`, gradients arriving at the captured
// nodes are returned instead of being accumulated into leaves (autograd::grad).
std::vector<Tensor> run_backward(const std::vector<std::pair<std::shared_ptr<Node>, Tensor>>& roots,
                                 bool retain_graph, bool create_graph,
                                 const std::vector<Node*>& capture) {
  GradModeGuard mode(create_graph);
  const bool accumulate = capture.empty();
  AccumulateModeGuard accumulate_mode(accumulate);  // Note [Row-sparse gradients]

  // Count, for every reachable node, how many edges lead into it.
  std::unordered_map<Node*, int> deps;
  std::vector<Node*> stack;
  std::unordered_set<Node*> seen;
  for (const auto& [node, g] : roots)
    if (seen.insert(node.get()).second) stack.push_back(node.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const auto& nx : n->next) {
      if (!nx) continue;
      ++deps[nx.get()];
      if (seen.insert(nx.get()).second) stack.push_back(nx.get());
    }
  }

  std::unordered_map<Node*, Tensor> buffers;
  auto add_to_buffer = [&](Node* n, const Tensor& g) {
    auto [it, inserted] = buffers.try_emplace(n, g);
    if (inserted) return;
    Tensor& acc = it->second;
    if (sole_owner(acc, g, create_graph)) {
      acc.add_(g);  // Note [In-place gradient sums]
    } else {
      acc = acc + g;
    }
  };
  std::priority_queue<Node*, std::vector<Node*>, ByNewestFirst> ready;
  std::unordered_set<Node*> queued;
  for (const auto& [node, g] : roots) {
    add_to_buffer(node.get(), g);
    if (deps[node.get()] == 0 && queued.insert(node.get()).second) ready.push(node.get());
  }

  std::vector<Tensor> captured(capture.size());
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    Tensor grad;
    if (auto it = buffers.find(node); it != buffers.end()) {
      grad = std::move(it->second);
      buffers.erase(it);
    }
    std::vector<Tensor> outs;
    if (grad.defined()) {
      for (size_t i = 0; i < capture.size(); ++i)
        if (capture[i] == node) captured[i] = grad;
      if (auto kept = node->retained_output.lock(); kept && accumulate) {
        kept->grad = kept->grad.defined() ? kept->grad + grad : grad.detach().clone();
      }
      const bool is_leaf_sink = dynamic_cast<AccumulateGrad*>(node) != nullptr;
      if (!is_leaf_sink || accumulate) outs = node->apply(grad);
      if (!retain_graph) node->release();
    }
    for (size_t i = 0; i < node->next.size(); ++i) {
      Node* nx = node->next[i].get();
      if (!nx) continue;
      if (i < outs.size() && outs[i].defined())
        add_to_buffer(nx, conform(outs[i], node->input_meta[i], *node));
      if (--deps[nx] == 0) ready.push(nx);
    }
  }
  return captured;
}

Tensor default_root_grad(const Tensor& root, const Tensor& given, size_t i) {
  if (given.defined()) {
    EMBER_CHECK_SHAPE(given.shape() == root.shape(), "backward: gradient ", i, " has shape ",
                      given.shape_str(), " but its output has shape ", root.shape_str());
    return given;
  }
  EMBER_CHECK(root.numel() == 1,
              "backward: grad can be implicitly created only for scalar outputs, but output ", i,
              " has shape ", root.shape_str(), "; pass a gradient tensor of that shape");
  return ones_like(root);
}

std::vector<std::pair<std::shared_ptr<Node>, Tensor>> make_roots(const std::vector<Tensor>& roots,
                                                                 const std::vector<Tensor>& grads) {
  EMBER_CHECK(grads.empty() || grads.size() == roots.size(), "backward: got ", grads.size(),
              " gradients for ", roots.size(), " outputs");
  std::vector<std::pair<std::shared_ptr<Node>, Tensor>> out;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& r = roots[i];
    EMBER_CHECK(r.defined() && r.requires_grad(), "backward: output ", i,
                " does not require grad and has no grad_fn (was it computed under no_grad, or "
                "from tensors that don't require grad?)");
    out.emplace_back(gradient_edge(r),
                     default_root_grad(r, grads.empty() ? Tensor() : grads[i], i));
  }
  return out;
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph,
              bool create_graph) {
  run_backward(make_roots(roots, grads), retain_graph || create_graph, create_graph, {});
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool retain_graph,
                         bool create_graph, bool allow_unused) {
  std::vector<Node*> capture;
  std::vector<std::shared_ptr<Node>> keep;
  for (size_t i = 0; i < inputs.size(); ++i) {
    EMBER_CHECK(inputs[i].defined() && inputs[i].requires_grad(), "grad: input ", i,
                " does not require grad");
    keep.push_back(gradient_edge(inputs[i]));
    capture.push_back(keep.back().get());
  }
  std::vector<Tensor> result = run_backward(make_roots(outputs, grad_outputs),
                                            retain_graph || create_graph, create_graph, capture);
  for (size_t i = 0; i < result.size(); ++i) {
    EMBER_CHECK(result[i].defined() || allow_unused, "grad: input ", i, " (shape ",
                inputs[i].shape_str(),
                ") was not used to compute the outputs; pass allow_unused=true to get an "
                "undefined gradient for it");
    if (result[i].defined() && !create_graph) result[i] = result[i].detach();
  }
  return result;
}

}  // namespace ember::autograd

namespace ember {
void Tensor::backward(const Tensor& gradient, bool retain_graph, bool create_graph) const {
  autograd::backward({*this},
                     gradient.defined() ? std::vector<Tensor>{gradient} : std::vector<Tensor>{},
                     retain_graph, create_graph);
}
}  // namespace ember
