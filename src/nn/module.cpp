// nn::Module: registration, traversal with dotted names, train/eval, state_dict round trips.
#include "ember/nn/module.h"

#include <algorithm>
#include <ostream>
#include <sstream>
#include <unordered_set>

#include "ember/autograd/grad_mode.h"
#include "ember/autograd/sparse_grad.h"
#include "ember/core/strings.h"

namespace ember::nn {

namespace {

std::string join_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

std::string indent_lines(const std::string& s, int spaces) {
  const std::string pad(static_cast<size_t>(spaces), ' ');
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

}  // namespace

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}

Tensor Module::forward(const Tensor&) {
  EMBER_THROW(NotImplementedError, type_name_,
              ": this module does not implement forward(const Tensor&)");
}

// ---- registration ----

void Module::check_new_name(const std::string& name, const char* what) const {
  EMBER_CHECK(!name.empty(), what, ": name must not be empty (in ", type_name_, ")");
  EMBER_CHECK(name.find('.') == std::string::npos, what, ": name '", name,
              "' must not contain '.' (in ", type_name_, ")");
  EMBER_CHECK(!parameters_.contains(name) && !buffers_.contains(name) && !children_.contains(name),
              what, ": '", name, "' is already registered in ", type_name_);
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_new_name(name, "register_parameter");
  EMBER_CHECK(t.defined(), "register_parameter: tensor '", name, "' is undefined (in ", type_name_,
              ")");
  if (!t.is_leaf()) t = t.detach();
  t.requires_grad_(requires_grad);
  return parameters_.insert(name, t);
}

Tensor Module::replace_parameter(const std::string& name, Tensor t) {
  EMBER_CHECK(parameters_.contains(name), "replace_parameter: ", type_name_, " has no parameter '",
              name, "'");
  EMBER_CHECK(t.defined(), "replace_parameter: tensor '", name, "' is undefined (in ", type_name_,
              ")");
  if (!t.is_leaf()) t = t.detach().requires_grad_();
  return parameters_.insert_or_assign(name, t);
}

Tensor Module::register_buffer(const std::string& name, Tensor t, bool persistent) {
  check_new_name(name, "register_buffer");
  EMBER_CHECK(t.defined(), "register_buffer: tensor '", name, "' is undefined (in ", type_name_,
              ")");
  if (!persistent) non_persistent_.push_back(name);
  return buffers_.insert(name, t);
}

void Module::register_module_impl(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "register_module");
  EMBER_CHECK(module != nullptr, "register_module: module '", name, "' is null (in ", type_name_,
              ")");
  EMBER_CHECK(module.get() != this, "register_module: a module cannot be its own child");
  children_.insert(name, std::move(module));
}

Tensor Module::local_parameter(const std::string& name) const {
  const Tensor* t = parameters_.find(name);
  return t ? *t : Tensor();
}

Tensor Module::local_buffer(const std::string& name) const {
  const Tensor* t = buffers_.find(name);
  return t ? *t : Tensor();
}

// ---- traversal ----

std::shared_ptr<Module> Module::self_ptr() const {
  if (auto sp = weak_from_this().lock()) return std::const_pointer_cast<Module>(sp);
  // Not owned by a shared_ptr (e.g. on the stack): a non-owning handle (aliasing constructor).
  return std::shared_ptr<Module>(std::shared_ptr<Module>(), const_cast<Module*>(this));
}

void Module::collect_modules(
    const std::string& prefix, std::vector<const Module*>& seen,
    std::vector<std::pair<std::string, std::shared_ptr<Module>>>& out) const {
  if (std::find(seen.begin(), seen.end(), this) != seen.end()) return;
  seen.push_back(this);
  out.emplace_back(prefix, self_ptr());
  for (const auto& [name, child] : children_)
    child->collect_modules(join_name(prefix, name), seen, out);
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules(
    const std::string& prefix) const {
  std::vector<const Module*> seen;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  collect_modules(prefix, seen, out);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::modules() const {
  std::vector<std::shared_ptr<Module>> out;
  for (auto& [name, m] : named_modules()) out.push_back(m);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, child] : children_)
    if (std::find(out.begin(), out.end(), child) == out.end()) out.push_back(child);
  return out;
}

namespace {
// Tensors of one kind (parameters_ or buffers_) of m and, with recurse, its descendants, each once,
// with dotted names.
OrderedDict<Tensor> collect_named(
    const Module& root, bool recurse,
    const std::function<const OrderedDict<Tensor>&(const Module&)>& of) {
  OrderedDict<Tensor> out;
  std::unordered_set<const TensorImpl*> seen;
  auto add_from = [&](const std::string& prefix, const Module& m) {
    for (const auto& [name, t] : of(m))
      if (seen.insert(t.impl()).second) out.insert(join_name(prefix, name), t);
  };
  if (!recurse) {
    add_from("", root);
    return out;
  }
  for (const auto& [prefix, m] : root.named_modules()) add_from(prefix, *m);
  return out;
}
}  // namespace

OrderedDict<Tensor> Module::named_parameters(bool recurse) const {
  return collect_named(*this, recurse,
                       [](const Module& m) -> const OrderedDict<Tensor>& { return m.parameters_; });
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  return named_parameters(recurse).values();
}

OrderedDict<Tensor> Module::named_buffers(bool recurse) const {
  return collect_named(*this, recurse,
                       [](const Module& m) -> const OrderedDict<Tensor>& { return m.buffers_; });
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  return named_buffers(recurse).values();
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (const auto& child : children()) child->apply(fn);
  fn(*this);
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (const Tensor& p : parameters())
    if (!trainable_only || p.requires_grad()) n += p.numel();
  return n;
}

// ---- mode and gradients ----

void Module::train(bool on) {
  training_ = on;
  for (const auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad(bool set_to_none) {
  for (const Tensor& p : parameters()) autograd::zero_grad(p, set_to_none);
}

namespace {
// Makes t hold n's data in place, so every handle on the parameter (optimizers, tied modules)
// sees the converted tensor.
void adopt_data(const Tensor& t, const Tensor& n) {
  TensorImpl& impl = *t.impl();
  impl.storage = n.storage();
  impl.shape = n.shape();
  impl.strides = n.strides();
  impl.offset = n.offset();
  impl.dtype = n.dtype();
  impl.is_view = false;
}
}  // namespace

Module& Module::to(DType dtype) {
  NoGradGuard no_grad;
  auto convert = [dtype](const Tensor& t) {
    if (!t.is_floating_point() || t.dtype() == dtype) return;
    adopt_data(t, t.detach().to(dtype).contiguous());
    t.impl()->grad = Tensor();
  };
  for (const Tensor& p : parameters()) convert(p);
  for (const Tensor& b : buffers()) convert(b);
  return *this;
}

Module& Module::to(Device device) {
  NoGradGuard no_grad;
  auto move = [device](const Tensor& t) {
    if (t.device() == device) return;
    const Tensor g = t.grad();
    adopt_data(t, t.detach().to(device));
    if (g.defined()) t.impl()->grad = g.detach().to(device);
  };
  for (const Tensor& p : parameters()) move(p);
  for (const Tensor& b : buffers()) move(b);
  return *this;
}

// ---- state ----

StateDict Module::state_dict(const std::string& prefix) const {
  StateDict out;
  for (const auto& [name, t] : parameters_) out.insert(join_name(prefix, name), t.detach());
  for (const auto& [name, t] : buffers_) {
    if (std::find(non_persistent_.begin(), non_persistent_.end(), name) != non_persistent_.end())
      continue;
    out.insert(join_name(prefix, name), t.detach());
  }
  for (const auto& [name, child] : children_)
    for (auto& [key, t] : child->state_dict(join_name(prefix, name))) out.insert(key, t);
  return out;
}

LoadStateDictResult Module::load_state_dict(const StateDict& dict, bool strict) {
  const StateDict own = state_dict();
  LoadStateDictResult result;
  std::vector<std::string> mismatches;
  for (const auto& [key, dst] : own) {
    const Tensor* src = dict.find(key);
    if (src == nullptr) {
      result.missing_keys.push_back(key);
      continue;
    }
    EMBER_CHECK(src->defined(), "load_state_dict: tensor for key '", key, "' is undefined");
    if (src->shape() != dst.shape())
      mismatches.push_back(key + ": expected " + dst.shape_str() + ", got " + src->shape_str());
  }
  for (const auto& [key, src] : dict)
    if (!own.contains(key)) result.unexpected_keys.push_back(key);

  const bool key_errors =
      strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty());
  if (key_errors || !mismatches.empty()) {
    std::ostringstream msg;
    msg << "load_state_dict: error(s) in loading state_dict for " << type_name_ << ":";
    if (strict && !result.missing_keys.empty())
      msg << "\n  missing keys: " << join(result.missing_keys);
    if (strict && !result.unexpected_keys.empty())
      msg << "\n  unexpected keys: " << join(result.unexpected_keys);
    for (const std::string& m : mismatches) msg << "\n  shape mismatch for " << m;
    if (!key_errors) EMBER_THROW(ShapeError, msg.str());
    EMBER_THROW(ValueError, msg.str());
  }

  NoGradGuard no_grad;
  for (const auto& [key, dst] : own) {
    const Tensor* src = dict.find(key);
    if (src == nullptr) continue;
    Tensor target = dst;
    target.copy_(src->to(target.device()));  // a CPU checkpoint into a GPU model
  }
  return result;
}

// ---- printing ----

std::string Module::repr() const {
  std::vector<std::string> lines;
  const std::string extra = extra_repr();
  std::vector<std::string> extra_lines;
  if (!extra.empty()) {
    std::istringstream is(extra);
    for (std::string line; std::getline(is, line);) extra_lines.push_back(line);
  }
  lines = extra_lines;
  for (const auto& [name, child] : children_)
    lines.push_back("(" + name + "): " + indent_lines(child->repr(), 2));
  std::string s = type_name_ + "(";
  if (extra_lines.size() == 1 && children_.empty()) {
    s += extra_lines[0];
  } else if (!lines.empty()) {
    s += "\n";
    for (const std::string& l : lines) s += "  " + l + "\n";
  }
  return s + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& m) {
  return os << m.repr();
}

}  // namespace ember::nn
