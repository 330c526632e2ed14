// nn::Module: the base of every layer, holding named parameters, buffers and submodules.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "ember/core/tensor.h"
#include "ember/nn/ordered_dict.h"

namespace ember::nn {

/// Parameters and persistent buffers by dotted name ("layers.0.weight"), in registration order.
using StateDict = OrderedDict<Tensor>;

/// What a non-strict load_state_dict() skipped.
struct LoadStateDictResult {
  std::vector<std::string> missing_keys;     ///< expected by the module, absent from the dict
  std::vector<std::string> unexpected_keys;  ///< in the dict, not in the module
};

/// Note [Module ownership]: modules are held by std::shared_ptr (std::make_shared<nn::Linear>(4,
/// 3)) and submodules are shared with their parent, as in libtorch. Parameters are tensor handles:
/// the member `weight` of a Linear and the registered "weight" entry are the same tensor, so
/// loading a state dict (an in-place copy) updates both. Assigning a new tensor to the member does
/// not re-register it; use replace_parameter() to replace it.
class Module : public std::enable_shared_from_this<Module> {
 public:
  /// type_name is what repr() prints, e.g. "Linear".
  explicit Module(std::string type_name = "Module");
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// The computation of a single-input module. The default throws NotImplementedError.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // ---- registration (names are non-empty, contain no '.', and are unique in this module) ----

  /// Registers t (made a leaf if it has history) as a parameter; sets requires_grad.
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  /// Registers a buffer: state that is not trained (running statistics, masks, class weights).
  /// Non-persistent buffers are left out of state_dict().
  Tensor register_buffer(const std::string& name, Tensor t, bool persistent = true);
  /// Replaces the registered parameter name with t and returns it; the caller reassigns its member.
  /// For weight tying, pass another module's parameter: the same tensor then appears once in
  /// parameters() (and so is updated once by an optimizer, its gradient accumulating from both
  /// uses) and under both names in state_dict(), as in PyTorch:
  ///   lm_head->weight = lm_head->replace_parameter("weight", wte->weight);
  Tensor replace_parameter(const std::string& name, Tensor t);
  /// Registers a submodule and returns it with its own type.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    register_module_impl(name, module);
    return module;
  }

  // ---- traversal ----

  /// Parameters of this module and (with recurse) its descendants, each tensor once.
  std::vector<Tensor> parameters(bool recurse = true) const;
  /// Same, with dotted names ("0.weight").
  OrderedDict<Tensor> named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  OrderedDict<Tensor> named_buffers(bool recurse = true) const;
  /// Direct submodules in registration order.
  std::vector<std::shared_ptr<Module>> children() const;
  const OrderedDict<std::shared_ptr<Module>>& named_children() const { return children_; }
  /// This module (named "" or prefix) and every descendant, pre-order, each module once.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules(
      const std::string& prefix = "") const;
  std::vector<std::shared_ptr<Module>> modules() const;
  /// Calls fn on every module (children first, then this one), e.g. for custom initialisation.
  void apply(const std::function<void(Module&)>& fn);

  /// Total number of elements over parameters() (only those requiring grad if trainable_only).
  int64_t num_parameters(bool trainable_only = false) const;

  // ---- mode ----

  /// Training mode (dropout active) for this module and its descendants.
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// Clears parameter gradients: set to undefined (set_to_none) or filled with zeros.
  void zero_grad(bool set_to_none = true);

  /// Converts every floating parameter and buffer to dtype in place (the handles stay the same,
  /// so references held by layers see the new data). Gradients are cleared.
  Module& to(DType dtype);
  /// Moves every parameter, buffer and existing gradient to device in place (the handles stay
  /// the same, as for to(DType)). Optimizers made before the move keep state on the old device.
  Module& to(Device device);

  // ---- state ----

  /// Parameters and persistent buffers (this module's own, then each child's, recursively) as
  /// detached tensors that share storage with the module.
  StateDict state_dict(const std::string& prefix = "") const;
  /// Copies values from dict into the parameters and buffers in place (without recording history).
  /// Throws ValueError/ShapeError listing all missing and unexpected keys (when strict) and every
  /// shape mismatch ("fc.weight: expected (4, 3), got (3, 4)"); nothing is copied on error.
  LoadStateDictResult load_state_dict(const StateDict& dict, bool strict = true);

  // ---- printing ----

  const std::string& type_name() const { return type_name_; }
  /// The arguments shown between the parentheses of repr(), e.g. "in_features=4, out_features=3".
  virtual std::string extra_repr() const { return ""; }
  /// PyTorch-style multi-line description of the module tree.
  std::string repr() const;

 protected:
  /// The registered parameter / buffer named name (undefined when absent).
  Tensor local_parameter(const std::string& name) const;
  Tensor local_buffer(const std::string& name) const;

 private:
  void register_module_impl(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name, const char* what) const;
  void collect_modules(const std::string& prefix, std::vector<const Module*>& seen,
                       std::vector<std::pair<std::string, std::shared_ptr<Module>>>& out) const;
  std::shared_ptr<Module> self_ptr() const;

  std::string type_name_;
  bool training_ = true;
  OrderedDict<Tensor> parameters_;
  OrderedDict<Tensor> buffers_;
  std::vector<std::string> non_persistent_;
  OrderedDict<std::shared_ptr<Module>> children_;
};

std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace ember::nn
