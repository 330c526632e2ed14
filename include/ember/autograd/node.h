// Autograd graph nodes: one node per differentiable op output, with edges to its inputs' nodes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::autograd {

/// A tensor saved for backward, with the version it had when saved (see Note [Versions]).
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t);
  /// The saved tensor; throws if it was modified in place since it was saved.
  Tensor get(const char* node_name) const;
  bool defined() const { return tensor_.defined(); }

 private:
  Tensor tensor_;
  uint64_t version_ = 0;
};

/// What the engine needs to know of each input of a node: its shape and dtype, so that
/// incoming gradients can be reduced over broadcast dims and cast back.
struct InputMeta {
  Shape shape;
  DType dtype = kFloat32;
};

/// A backward function. Every node has exactly one output (the tensor it made); multi-output ops
/// (split, max with indices) give each differentiable output its own node.
class Node {
 public:
  virtual ~Node() = default;
  /// Gradients with respect to each input, given the gradient of the output. An undefined
  /// tensor means "no gradient" for that input.
  virtual std::vector<Tensor> apply(const Tensor& grad_output) = 0;
  virtual std::string name() const = 0;
  /// Frees saved tensors after a backward pass without retain_graph.
  virtual void release() {}

  /// Nodes of the inputs (null where the input needs no gradient) and their metadata.
  std::vector<std::shared_ptr<Node>> next;
  std::vector<InputMeta> input_meta;
  uint64_t sequence_nr = 0;  ///< creation order: later nodes run first when both are ready
  /// The non-leaf output whose .grad is kept (retain_grad()), if any.
  std::weak_ptr<TensorImpl> retained_output;
};

/// A node whose backward is a lambda. Ops build these with make_node().
class FunctionNode : public Node {
 public:
  using Backward = std::function<std::vector<Tensor>(const Tensor&)>;
  FunctionNode(std::string name, Backward fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::vector<Tensor> apply(const Tensor& grad_output) override;
  std::string name() const override { return name_; }
  void release() override { fn_ = nullptr; }

 private:
  std::string name_;
  Backward fn_;
};

/// Sink for a leaf tensor: adds the incoming gradient into its .grad. It refers to the leaf
/// weakly: with create_graph, the leaf's .grad holds a graph that reaches this node, and a strong
/// reference would make a cycle that is never freed. A leaf that died gets no gradient.
class AccumulateGrad : public Node {
 public:
  /// Runs as soon as its gradient is complete (the highest sequence number), as in PyTorch, so
  /// that post-accumulate-grad hooks (DDP's buckets) fire during backward, not after it.
  explicit AccumulateGrad(const Tensor& variable) : variable_(variable.impl_ptr()) {
    sequence_nr = UINT64_MAX;
  }
  std::vector<Tensor> apply(const Tensor& grad_output) override;
  std::string name() const override { return "AccumulateGrad"; }
  /// The leaf, or an undefined tensor if it no longer exists.
  Tensor variable() const { return Tensor(variable_.lock()); }

 private:
  std::weak_ptr<TensorImpl> variable_;
};

/// True when grad mode is on and any input requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);
/// The node that receives gradient for t: its grad_fn, its accumulator (leaves), or null.
std::shared_ptr<Node> gradient_edge(const Tensor& t);

/// Records out = op(inputs) in the graph when any input requires grad (and grad mode is on).
/// backward maps the output's gradient to one gradient per input.
void record(const char* name, const Tensor& out, const std::vector<Tensor>& inputs,
            FunctionNode::Backward backward);

}  // namespace ember::autograd
