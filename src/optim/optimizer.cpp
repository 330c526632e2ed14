// Optimizer base: group bookkeeping, state creation, zero_grad and state_dict save/load.
#include "ember/optim/optimizer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <unordered_set>

#include "ember/autograd/grad_mode.h"
#include "ember/autograd/sparse_grad.h"
#include "ember/ops/creation.h"

namespace ember::optim {

double ParamGroup::get(const std::string& name) const {
  std::optional<double> v;
  if (name == "lr") {
    v = lr;
  } else if (name == "weight_decay") {
    v = weight_decay;
  } else if (name == "initial_lr") {
    v = initial_lr;
  } else if (auto it = options.find(name); it != options.end()) {
    v = it->second;
  }
  EMBER_CHECK(v.has_value(), "param group: hyperparameter '", name, "' is not set");
  return *v;
}

void ParamGroup::set(const std::string& name, double value) {
  if (name == "lr") {
    lr = value;
  } else if (name == "weight_decay") {
    weight_decay = value;
  } else if (name == "initial_lr") {
    initial_lr = value;
  } else {
    options[name] = value;
  }
}

Optimizer::Optimizer(std::string name, std::vector<std::pair<std::string, double>> defaults,
                     std::vector<std::string> state_names, bool has_step)
    : name_(std::move(name)),
      defaults_(std::move(defaults)),
      state_names_(std::move(state_names)),
      has_step_(has_step) {
  EMBER_ASSERT(defaults_.size() >= 2 && defaults_[0].first == "lr" &&
               defaults_[1].first == "weight_decay");
}

void Optimizer::init_groups(std::vector<ParamGroup> groups) {
  size_t n = 0;
  for (const ParamGroup& g : groups) n += g.params.size();
  EMBER_CHECK(n > 0, name_, ": optimizer got an empty parameter list");
  for (ParamGroup& g : groups) add_param_group(std::move(g));
}

bool Optimizer::has_option(const std::string& name) const {
  return std::any_of(defaults_.begin(), defaults_.end(),
                     [&](const auto& kv) { return kv.first == name; });
}

void Optimizer::resolve(ParamGroup& group) const {
  for (const auto& [key, value] : group.options) {
    EMBER_CHECK(key != "lr" && key != "weight_decay" && key != "initial_lr" && has_option(key),
                name_, ": unknown hyperparameter '", key, "' in a param group");
  }
  if (!group.lr) group.lr = defaults_[0].second;
  if (!group.weight_decay) group.weight_decay = defaults_[1].second;
  for (size_t i = 2; i < defaults_.size(); ++i)
    group.options.try_emplace(defaults_[i].first, defaults_[i].second);
}

void Optimizer::add_param_group(ParamGroup group) {
  EMBER_CHECK(!group.params.empty(), name_, ": a param group has no parameters");
  std::unordered_set<const TensorImpl*> seen;
  for (const ParamGroup& g : groups_)
    for (const Tensor& p : g.params) seen.insert(p.impl());
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    EMBER_CHECK(p.defined(), name_, ": parameter ", i, " of a param group is undefined");
    EMBER_CHECK(p.is_leaf(), name_, ": can't optimize a non-leaf tensor (parameter ", i, ", shape ",
                p.shape_str(), "); pass the leaf itself or a detached copy");
    EMBER_CHECK(p.is_floating_point(), name_, ": parameter ", i, " has dtype ", p.dtype(),
                "; only floating-point tensors can be optimized");
    EMBER_CHECK(p.is_contiguous(), name_, ": parameter ", i, " (shape ", p.shape_str(),
                ") is not contiguous; optimizers update contiguous parameters in place");
    EMBER_CHECK(seen.insert(p.impl()).second, name_, ": parameter ", i, " (shape ", p.shape_str(),
                ") appears more than once among the param groups");
  }
  resolve(group);
  validate(group);
  groups_.push_back(std::move(group));
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (ParamGroup& g : groups_) step_group(g);
}

Tensor Optimizer::step(const std::function<Tensor()>& closure) {
  Tensor loss;
  {
    GradModeGuard enable(true);
    loss = closure();
  }
  step();
  return loss;
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (ParamGroup& g : groups_)
    for (const Tensor& p : g.params) autograd::zero_grad(p, set_to_none);
}

ParamState& Optimizer::prepare(const Tensor& param, Tensor& grad, const ParamGroup& group) {
  EMBER_CHECK_SHAPE(grad.shape() == param.shape(), name_, ": gradient shape ", grad.shape_str(),
                    " does not match its parameter's shape ", param.shape_str());
  EMBER_CHECK_DTYPE(grad.dtype() == param.dtype(), name_, ": gradient dtype ", grad.dtype(),
                    " does not match its parameter's dtype ", param.dtype());
  EMBER_CHECK_T(DeviceError, grad.device() == param.device(), name_, ": gradient on ",
                grad.device(), " but its parameter is on ", param.device());
  if (!grad.is_contiguous()) grad = grad.contiguous();
  auto [it, inserted] = state_.try_emplace(param.impl());
  ParamState& s = it->second;
  if (inserted) {
    s.buffers.assign(state_names_.size(), Tensor());
    init_state(s, param, group);
  }
  return s;
}

std::vector<ParamGroup> Optimizer::single_group(std::vector<Tensor> params) {
  std::vector<ParamGroup> groups(1);
  groups[0].params = std::move(params);
  return groups;
}

const ParamState* Optimizer::state(const Tensor& param) const {
  auto it = state_.find(param.impl());
  return it == state_.end() ? nullptr : &it->second;
}

Tensor Optimizer::state_buffer(const Tensor& param, const std::string& name) const {
  const ParamState* s = state(param);
  auto it = std::find(state_names_.begin(), state_names_.end(), name);
  if (!s || it == state_names_.end()) return Tensor();
  return s->buffers[static_cast<size_t>(it - state_names_.begin())];
}

namespace {

Tensor scalar64(double v) {
  return scalar_tensor(v, kFloat64);
}

std::string group_key(size_t g, const std::string& name) {
  return "param_groups." + std::to_string(g) + "." + name;
}

// Parses "<prefix>.<int>.<rest>"; false when the key does not have that form.
bool split_key(const std::string& key, const std::string& prefix, size_t& index,
               std::string& rest) {
  if (key.rfind(prefix + ".", 0) != 0) return false;
  const size_t begin = prefix.size() + 1, dot = key.find('.', begin);
  if (dot == std::string::npos || dot == begin || dot + 1 == key.size()) return false;
  auto [ptr, ec] = std::from_chars(key.data() + begin, key.data() + dot, index);
  if (ec != std::errc() || ptr != key.data() + dot) return false;
  rest = key.substr(dot + 1);
  return true;
}

double scalar_value(const std::string& key, const Tensor& t) {
  EMBER_CHECK(t.defined() && t.numel() == 1, "load_state_dict: '", key,
              "' should hold one number, got a tensor of shape ",
              t.defined() ? t.shape_str() : std::string("(undefined)"));
  return t.item<double>();
}

}  // namespace

StateDict Optimizer::state_dict() const {
  StateDict out;
  size_t index = 0;
  for (const ParamGroup& g : groups_) {
    for (const Tensor& p : g.params) {
      const ParamState* s = state(p);
      const std::string prefix = "state." + std::to_string(index++) + ".";
      if (!s) continue;
      if (has_step_) out.emplace_back(prefix + "step", scalar64(static_cast<double>(s->step)));
      for (size_t b = 0; b < state_names_.size(); ++b)
        if (s->buffers[b].defined())
          out.emplace_back(prefix + state_names_[b], s->buffers[b].clone());
    }
  }
  index = 0;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const ParamGroup& g = groups_[gi];
    std::vector<int64_t> ids(g.params.size());
    for (int64_t& id : ids) id = static_cast<int64_t>(index++);
    out.emplace_back(group_key(gi, "params"), from_vector(ids));
    for (const auto& [name, unused] : defaults_)
      out.emplace_back(group_key(gi, name), scalar64(g.get(name)));
    if (g.initial_lr) out.emplace_back(group_key(gi, "initial_lr"), scalar64(*g.initial_lr));
  }
  return out;
}

void Optimizer::load_state_dict(const StateDict& sd) {
  // Every parameter in order, with its group.
  std::vector<std::pair<const Tensor*, size_t>> params;
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (const Tensor& p : groups_[gi].params) params.emplace_back(&p, gi);

  // Key syntax, duplicates and the number of groups first.
  std::set<std::string> seen;
  size_t loaded_groups = 0;
  for (const auto& [key, t] : sd) {
    EMBER_CHECK(seen.insert(key).second, "load_state_dict: key '", key, "' appears twice");
    size_t index = 0;
    std::string rest;
    if (split_key(key, "param_groups", index, rest)) {
      loaded_groups = std::max(loaded_groups, index + 1);
    } else {
      EMBER_CHECK(split_key(key, "state", index, rest), "load_state_dict: unexpected key '", key,
                  "' (expected state.<i>.<name> or param_groups.<g>.<name>)");
    }
  }
  EMBER_CHECK(loaded_groups == groups_.size(), "load_state_dict: the state dict has ",
              loaded_groups, " param group(s) but ", name_, " has ", groups_.size());

  std::vector<ParamGroup> groups = groups_;
  for (ParamGroup& g : groups) g.initial_lr.reset();  // present only if the loaded dict has it
  std::vector<std::set<std::string>> group_keys(groups.size());
  for (const auto& [key, t] : sd) {
    size_t index = 0;
    std::string rest;
    if (!split_key(key, "param_groups", index, rest)) continue;
    ParamGroup& g = groups[index];
    group_keys[index].insert(rest);
    if (rest == "params") {
      EMBER_CHECK(t.defined() && t.dim() == 1, "load_state_dict: '", key,
                  "' should be a 1-d tensor of parameter indices");
      EMBER_CHECK(t.numel() == static_cast<int64_t>(g.params.size()),
                  "load_state_dict: loaded "
                  "param group ",
                  index, " has ", t.numel(), " parameter(s) but ", name_, "'s group ", index,
                  " has ", g.params.size());
      continue;
    }
    EMBER_CHECK(rest == "lr" || rest == "weight_decay" || rest == "initial_lr" || has_option(rest),
                "load_state_dict: unexpected key '", key, "' (", name_, " has no hyperparameter '",
                rest, "')");
    g.set(rest, scalar_value(key, t));
  }

  std::map<size_t, ParamState> states;
  std::map<size_t, bool> has_step;
  for (const auto& [key, t] : sd) {
    size_t index = 0;
    std::string rest;
    if (!split_key(key, "state", index, rest)) continue;
    EMBER_CHECK(index < params.size(), "load_state_dict: '", key, "' names parameter ", index,
                " but ", name_, " has ", params.size(), " parameter(s)");
    ParamState& s = states[index];
    s.buffers.resize(state_names_.size());
    if (rest == "step" && has_step_) {
      const double v = scalar_value(key, t);
      EMBER_CHECK(v >= 0 && v == std::floor(v) && v < 9.0e15, "load_state_dict: '", key,
                  "' should be a non-negative whole number, got ", v);
      s.step = static_cast<int64_t>(v);
      has_step[index] = true;
      continue;
    }
    auto it = std::find(state_names_.begin(), state_names_.end(), rest);
    EMBER_CHECK(it != state_names_.end(), "load_state_dict: unexpected key '", key, "' (", name_,
                " keeps no state named '", rest, "')");
    const Tensor& p = *params[index].first;
    EMBER_CHECK(t.defined() && t.is_floating_point(), "load_state_dict: '", key,
                "' should be a floating-point tensor");
    EMBER_CHECK_SHAPE(t.shape() == p.shape(), "load_state_dict: '", key, "' has shape ",
                      t.shape_str(), " but parameter ", index, " has shape ", p.shape_str());
    s.buffers[static_cast<size_t>(it - state_names_.begin())] =
        t.detach().to(p.dtype()).to(p.device()).contiguous().clone();
  }
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    EMBER_CHECK(group_keys[gi].count("params"), "load_state_dict: missing key '",
                group_key(gi, "params"), "'");
    for (const auto& [name, unused] : defaults_)
      EMBER_CHECK(group_keys[gi].count(name), "load_state_dict: missing key '", group_key(gi, name),
                  "'");
    validate(groups[gi]);
  }
  for (auto& [index, s] : states) {
    const auto& [p, gi] = params[index];
    const std::string prefix = "state." + std::to_string(index) + ".";
    EMBER_CHECK(!has_step_ || has_step.count(index), "load_state_dict: missing key '", prefix,
                "step'");
    ParamState fresh;
    fresh.buffers.resize(state_names_.size());
    init_state(fresh, *p, groups[gi]);
    for (size_t b = 0; b < state_names_.size(); ++b)
      EMBER_CHECK(!fresh.buffers[b].defined() || s.buffers[b].defined(),
                  "load_state_dict: missing key '", prefix, state_names_[b], "'");
  }
  // Commit.
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    ParamGroup& g = groups_[gi];
    g.lr = groups[gi].lr;
    g.weight_decay = groups[gi].weight_decay;
    g.options = groups[gi].options;
    g.initial_lr = groups[gi].initial_lr;
  }
  state_.clear();
  for (auto& [index, s] : states) state_[params[index].first->impl()] = std::move(s);
}

}  // namespace ember::optim
