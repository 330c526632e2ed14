// Reading Hugging Face config.json values, with errors naming the file, the key and the value
// (shared by the GPT-2 and BERT importers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ember/core/error.h"
#include "ember/core/tensor.h"
#include "ember/io/json.h"

namespace ember::models::hf {

/// The value of key, or null when it is absent or JSON null.
inline const json::Value* member(const json::Value& cfg, const char* key) {
  const json::Value* v = cfg.find(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

/// The integer at key (or at alias when key is absent), at least min. Absent: fallback, or a
/// ConfigError when there is none.
inline int64_t int_key(const json::Value& cfg, const char* key, const std::string& path,
                       std::optional<int64_t> fallback = std::nullopt, int64_t min = 1,
                       const char* alias = nullptr) {
  const json::Value* v = member(cfg, key);
  if (v == nullptr && alias != nullptr) v = member(cfg, alias);
  if (v == nullptr && fallback) return *fallback;
  EMBER_CHECK_T(ConfigError, v != nullptr, path, ": missing key \"", key, "\"",
                alias ? std::string(" (or \"") + alias + "\")" : std::string());
  EMBER_CHECK_T(ConfigError, v->is_int() && v->as_int() >= min, path, ": \"", key,
                "\" must be an integer >= ", min, ", got ", v->dump());
  return v->as_int();
}

inline double number_key(const json::Value& cfg, const char* key, double fallback,
                         const std::string& path) {
  const json::Value* v = member(cfg, key);
  if (v == nullptr) return fallback;
  EMBER_CHECK_T(ConfigError, v->is_number(), path, ": \"", key, "\" must be a number, got ",
                v->dump());
  return v->as_double();
}

inline bool bool_key(const json::Value& cfg, const char* key, bool fallback,
                     const std::string& path) {
  const json::Value* v = member(cfg, key);
  if (v == nullptr) return fallback;
  EMBER_CHECK_T(ConfigError, v->is_bool(), path, ": \"", key, "\" must be true or false, got ",
                v->dump());
  return v->as_bool();
}

/// PyTorch's way of printing a shape: "(3, 4)", "(5,)".
inline std::string shape_string(const Shape& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + (s.size() == 1 ? ",)" : ")");
}

}  // namespace ember::models::hf
