// Optimizer base: parameter groups with per-group hyperparameters, per-parameter state, step,
// zero_grad and a flat, safetensors-ready state_dict.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::optim {

/// An ordered list of (name, tensor) pairs, e.g. `state.3.exp_avg`, `param_groups.0.lr`.
/// Scalars are 0-d float64 tensors, so the whole list can be written to safetensors as is.
using StateDict = std::vector<std::pair<std::string, Tensor>>;

/// A set of parameters and the hyperparameters that update them (a PyTorch param group).
///
/// `lr` and `weight_decay` left unset, and optimizer-specific hyperparameters missing from
/// `options`, inherit the optimizer's defaults when the group is added; after that every field is
/// set. Hyperparameters use PyTorch's names ("momentum", "nesterov", "beta1", "beta2", "eps", ...);
/// booleans are stored as 0 or 1. Schedulers write `lr` between steps.
///
///     optim::SGD opt({{.params = {w1, w2}, .lr = 0.1},
///                     {.params = {b1, b2}, .weight_decay = 0.0, .options = {{"momentum", 0.5}}}},
///                    {.lr = 0.01, .momentum = 0.9, .weight_decay = 1e-4});
struct ParamGroup {
  std::vector<Tensor> params = {};
  std::optional<double> lr = std::nullopt;
  std::optional<double> weight_decay = std::nullopt;
  /// Optimizer-specific hyperparameters by name (see each optimizer's Options struct).
  std::map<std::string, double> options = {};
  /// The learning rate the first LR scheduler saw (PyTorch's group['initial_lr']).
  std::optional<double> initial_lr = std::nullopt;

  /// "lr", "weight_decay", "initial_lr" or an entry of options; throws ValueError when unset.
  double get(const std::string& name) const;
  /// Sets "lr", "weight_decay", "initial_lr" or an entry of options.
  void set(const std::string& name, double value);
};

/// Per-parameter optimizer state: the step count and the buffers named by
/// Optimizer::state_names() (same order; undefined where a buffer is not in use).
struct ParamState {
  int64_t step = 0;
  std::vector<Tensor> buffers;
};

/// Base of all optimizers. Parameters must be contiguous floating-point leaf tensors; each
/// parameter belongs to exactly one group. step() skips parameters whose grad is undefined and
/// updates the others in place under NoGradGuard (bumping their version counters).
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// The optimizer's name as in PyTorch ("SGD", "Adam", ...), used in error messages.
  const std::string& name() const { return name_; }

  /// One update of every parameter that has a gradient.
  void step();
  /// Re-evaluates the model (closure runs with grad enabled and returns the loss), then steps.
  Tensor step(const std::function<Tensor()>& closure);
  /// Resets gradients: undefined (set_to_none, the default) or zero-filled in place.
  void zero_grad(bool set_to_none = true);

  /// Adds a group; unset hyperparameters inherit the defaults. Throws ValueError on an empty or
  /// repeated parameter, a non-leaf or non-contiguous parameter, an unknown hyperparameter name or
  /// an invalid value.
  void add_param_group(ParamGroup group);
  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  /// Default hyperparameters by name, in order: "lr", "weight_decay", then the optimizer's own.
  const std::vector<std::pair<std::string, double>>& defaults() const { return defaults_; }
  /// True when the optimizer has a hyperparameter of that name ("momentum", "beta1", ...).
  bool has_option(const std::string& name) const;

  /// Names of the per-parameter state buffers (e.g. {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}).
  const std::vector<std::string>& state_names() const { return state_names_; }
  /// The state of a parameter, or nullptr before its first update.
  const ParamState* state(const Tensor& param) const;
  /// A named state buffer of a parameter (undefined when absent).
  Tensor state_buffer(const Tensor& param, const std::string& name) const;

  /// A snapshot (cloned tensors) of the optimizer state. Parameters are numbered 0.. across
  /// groups in order, as in PyTorch. Keys, in order:
  ///   state.<i>.step (optimizers with a step count), state.<i>.<buffer> for each buffer in use,
  ///   then per group g: param_groups.<g>.params (int64 indices), .lr, .weight_decay, each
  ///   option, and .initial_lr when set.
  StateDict state_dict() const;
  /// Restores a state_dict() taken from an optimizer of the same type with the same group sizes.
  /// Replaces all state and the groups' hyperparameters. Validates everything first and throws
  /// ValueError (ShapeError for shape mismatches) naming the offending key; on error nothing
  /// changes.
  void load_state_dict(const StateDict& state_dict);

 protected:
  /// defaults: "lr" and "weight_decay" first, then the optimizer's own hyperparameters.
  Optimizer(std::string name, std::vector<std::pair<std::string, double>> defaults,
            std::vector<std::string> state_names, bool has_step);
  /// Adds each group (called by derived constructors, once validate() is usable). Throws when
  /// there are no parameters at all.
  void init_groups(std::vector<ParamGroup> groups);

  /// Checks a group's resolved hyperparameters (throws ValueError).
  virtual void validate(const ParamGroup& group) const = 0;
  /// Creates the buffers a parameter needs before its first update (state.buffers is sized).
  virtual void init_state(ParamState& state, const Tensor& param,
                          const ParamGroup& group) const = 0;
  /// Updates every parameter of the group that has a gradient.
  virtual void step_group(ParamGroup& group) = 0;

  /// Calls f(param, grad, state) for each parameter of the group with a defined gradient (grad
  /// contiguous, same shape/dtype/device as param; state initialised), then bumps its version.
  /// A row-sparse grad with no rows written since zero_grad counts as no gradient (as torch's
  /// None; Note [Row-sparse gradients]); other row-sparse grads are read as dense buffers.
  template <class F>
  void for_each_param(ParamGroup& group, F&& f) {
    for (const Tensor& p : group.params) {
      Tensor grad = p.grad();
      if (!grad.defined() || (p.grad_is_row_sparse() && p.grad_rows().empty())) continue;
      ParamState& s = prepare(p, grad, group);
      f(p, grad, s);
      p.storage()->bump_version();
    }
  }
  /// One group holding params with every hyperparameter inherited.
  static std::vector<ParamGroup> single_group(std::vector<Tensor> params);

 private:
  ParamState& prepare(const Tensor& param, Tensor& grad, const ParamGroup& group);
  void resolve(ParamGroup& group) const;

  std::string name_;
  std::vector<std::pair<std::string, double>> defaults_;
  std::vector<std::string> state_names_;
  bool has_step_;
  std::vector<ParamGroup> groups_;
  std::unordered_map<const TensorImpl*, ParamState> state_;
};

}  // namespace ember::optim
