// Module containers: Sequential (a chain), ModuleList (indexed), ModuleDict (keyed).
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "ember/nn/module.h"

namespace ember::nn {

using ModulePtr = std::shared_ptr<Module>;

namespace detail {
/// m cast to M, or a ValueError naming the container, position and actual type.
template <class M>
std::shared_ptr<M> module_as(const ModulePtr& m, const std::string& where) {
  auto out = std::dynamic_pointer_cast<M>(m);
  EMBER_CHECK(out != nullptr, where, ": module is a ", m->type_name(), ", not the requested type");
  return out;
}
}  // namespace detail

/// Runs its modules one after another: forward(x) = m_n(...m_1(x)). Children are named "0", "1",
/// ...
///   auto mlp = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8),
///                                               std::make_shared<nn::ReLU>());
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<ModulePtr> modules);
  template <class... Ms>
  requires(sizeof...(Ms) >= 1) explicit Sequential(std::shared_ptr<Ms>... modules)
      : Module("Sequential") {
    (push_back(std::move(modules)), ...);
  }

  /// Appends a module named by its position.
  void push_back(ModulePtr module);
  /// Appends a module with an explicit name (as Sequential(OrderedDict) in PyTorch).
  void push_back(const std::string& name, ModulePtr module);
  Tensor forward(const Tensor& x) override;

  size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  /// The i-th module (negative i counts from the end).
  ModulePtr operator[](int64_t i) const;
  template <class M>
  std::shared_ptr<M> at(int64_t i) const {
    return detail::module_as<M>((*this)[i], "Sequential[" + std::to_string(i) + "]");
  }
  std::vector<ModulePtr>::const_iterator begin() const { return modules_.begin(); }
  std::vector<ModulePtr>::const_iterator end() const { return modules_.end(); }

 private:
  std::vector<ModulePtr> modules_;
};

/// A list of submodules named "0", "1", ... with no forward of its own.
class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  ModuleList(std::initializer_list<ModulePtr> modules);

  void push_back(ModulePtr module);
  size_t size() const { return modules_.size(); }
  bool empty() const { return modules_.empty(); }
  /// The i-th module (negative i counts from the end).
  ModulePtr operator[](int64_t i) const;
  template <class M>
  std::shared_ptr<M> at(int64_t i) const {
    return detail::module_as<M>((*this)[i], "ModuleList[" + std::to_string(i) + "]");
  }
  std::vector<ModulePtr>::const_iterator begin() const { return modules_.begin(); }
  std::vector<ModulePtr>::const_iterator end() const { return modules_.end(); }

 private:
  std::vector<ModulePtr> modules_;
};

/// Submodules by string key, in insertion order, with no forward of its own.
class ModuleDict : public Module {
 public:
  ModuleDict() : Module("ModuleDict") {}
  ModuleDict(std::initializer_list<std::pair<std::string, ModulePtr>> modules);

  /// Adds a module under key (keys follow the same rules as register_module()).
  void insert(const std::string& key, ModulePtr module);
  bool contains(const std::string& key) const { return named_children().contains(key); }
  /// The module under key; throws IndexError when absent.
  ModulePtr operator[](const std::string& key) const { return named_children().at(key); }
  template <class M>
  std::shared_ptr<M> at(const std::string& key) const {
    return detail::module_as<M>((*this)[key], "ModuleDict['" + key + "']");
  }
  size_t size() const { return named_children().size(); }
  bool empty() const { return named_children().empty(); }
  std::vector<std::string> keys() const { return named_children().keys(); }
  OrderedDict<ModulePtr>::const_iterator begin() const { return named_children().begin(); }
  OrderedDict<ModulePtr>::const_iterator end() const { return named_children().end(); }
};

}  // namespace ember::nn
