// Module containers: Sequential, ModuleList, ModuleDict.
#include "ember/nn/containers.h"

namespace ember::nn {

namespace {
ModulePtr checked_at(const std::vector<ModulePtr>& modules, int64_t i, const char* what) {
  const auto n = static_cast<int64_t>(modules.size());
  const int64_t k = i < 0 ? i + n : i;
  EMBER_CHECK_INDEX(k >= 0 && k < n, what, ": index ", i, " is out of range for ", n, " modules");
  return modules[static_cast<size_t>(k)];
}
}  // namespace

// ---- Sequential ----

Sequential::Sequential(std::initializer_list<ModulePtr> modules) : Module("Sequential") {
  for (const ModulePtr& m : modules) push_back(m);
}

void Sequential::push_back(ModulePtr module) {
  push_back(std::to_string(modules_.size()), module);
}

void Sequential::push_back(const std::string& name, ModulePtr module) {
  modules_.push_back(register_module(name, std::move(module)));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const ModulePtr& m : modules_) y = (*m)(y);
  return y;
}

ModulePtr Sequential::operator[](int64_t i) const {
  return checked_at(modules_, i, "Sequential");
}

// ---- ModuleList ----

ModuleList::ModuleList(std::initializer_list<ModulePtr> modules) : Module("ModuleList") {
  for (const ModulePtr& m : modules) push_back(m);
}

void ModuleList::push_back(ModulePtr module) {
  modules_.push_back(register_module(std::to_string(modules_.size()), std::move(module)));
}

ModulePtr ModuleList::operator[](int64_t i) const {
  return checked_at(modules_, i, "ModuleList");
}

// ---- ModuleDict ----

ModuleDict::ModuleDict(std::initializer_list<std::pair<std::string, ModulePtr>> modules)
    : Module("ModuleDict") {
  for (const auto& [key, m] : modules) insert(key, m);
}

void ModuleDict::insert(const std::string& key, ModulePtr module) {
  register_module(key, std::move(module));
}

}  // namespace ember::nn
