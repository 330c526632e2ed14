// OrderedDict: a string-keyed map that remembers insertion order (parameters, state dicts).
#pragma once

#include <initializer_list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ember/core/error.h"

namespace ember::nn {

/// Insertion-ordered map from string keys to values, as Python's dict. Iterating yields
/// `std::pair<std::string, V>` in insertion order, so `for (auto& [name, value] : dict)` works.
template <class V>
class OrderedDict {
 public:
  using Item = std::pair<std::string, V>;
  using iterator = typename std::vector<Item>::iterator;
  using const_iterator = typename std::vector<Item>::const_iterator;

  OrderedDict() = default;
  OrderedDict(std::initializer_list<Item> items) {
    for (const Item& it : items) insert(it.first, it.second);
  }
  /// From (key, value) pairs; later duplicates overwrite earlier ones (keeping the first position).
  explicit OrderedDict(const std::vector<Item>& items) {
    for (const Item& it : items) insert_or_assign(it.first, it.second);
  }

  /// Adds a new key; throws ValueError if it is already present.
  V& insert(const std::string& key, V value) {
    EMBER_CHECK(!contains(key), "OrderedDict: key '", key, "' already exists");
    index_.emplace(key, items_.size());
    items_.emplace_back(key, std::move(value));
    return items_.back().second;
  }
  /// Adds a key, or replaces the value of an existing one (keeping its position).
  V& insert_or_assign(const std::string& key, V value) {
    auto it = index_.find(key);
    if (it == index_.end()) return insert(key, std::move(value));
    items_[it->second].second = std::move(value);
    return items_[it->second].second;
  }

  bool contains(const std::string& key) const { return index_.count(key) != 0; }
  /// Pointer to the value, or nullptr when the key is absent.
  const V* find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
  }
  V* find(const std::string& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].second;
  }
  /// The value for key; throws IndexError naming the key when it is absent.
  const V& at(const std::string& key) const {
    const V* v = find(key);
    EMBER_CHECK_INDEX(v != nullptr, "OrderedDict: no key '", key, "'");
    return *v;
  }
  V& at(const std::string& key) {
    V* v = find(key);
    EMBER_CHECK_INDEX(v != nullptr, "OrderedDict: no key '", key, "'");
    return *v;
  }
  const V& operator[](const std::string& key) const { return at(key); }
  V& operator[](const std::string& key) { return at(key); }
  /// The i-th item in insertion order.
  const Item& item(size_t i) const { return items_.at(i); }

  /// Removes key (no-op when absent). Linear in the size.
  void erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(it->second));
    rebuild_index();
  }
  void clear() {
    items_.clear();
    index_.clear();
  }

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    out.reserve(items_.size());
    for (const Item& it : items_) out.push_back(it.first);
    return out;
  }
  std::vector<V> values() const {
    std::vector<V> out;
    out.reserve(items_.size());
    for (const Item& it : items_) out.push_back(it.second);
    return out;
  }
  /// The (key, value) pairs in insertion order.
  const std::vector<Item>& items() const { return items_; }

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }

 private:
  void rebuild_index() {
    index_.clear();
    for (size_t i = 0; i < items_.size(); ++i) index_.emplace(items_[i].first, i);
  }

  std::vector<Item> items_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace ember::nn
