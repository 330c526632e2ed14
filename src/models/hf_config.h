// Reading a Hugging Face model directory: where its files are, and config.json values with errors
// naming the file, the key and the value (shared by the GPT-2 and BERT importers).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ember/core/error.h"
#include "ember/core/tensor.h"
#include "ember/io/json.h"

namespace ember::models::hf {

/// The paths of dir's config.json and model.safetensors, after checking that both exist (an
/// IOError from `who` names what is missing, and says why sharded or pickled weights are not read).
struct ModelFiles {
  std::string config, weights;
};
inline ModelFiles model_files(const std::string& dir, const char* who) {
  namespace fs = std::filesystem;
  const fs::path d(dir);
  EMBER_CHECK_IO(fs::is_directory(d), who, ": ", dir, " is not a directory");
  ModelFiles f{(d / "config.json").string(), (d / "model.safetensors").string()};
  EMBER_CHECK_IO(fs::is_regular_file(f.config), who, ": ", f.config, " not found");
  if (!fs::is_regular_file(f.weights)) {
    const bool sharded = fs::exists(d / "model.safetensors.index.json");
    const bool pickle = fs::exists(d / "pytorch_model.bin");
    EMBER_THROW(IOError, who, ": ", f.weights, " not found",
                sharded ? " (sharded checkpoints are not supported; merge the shards into one file)"
                : pickle ? " (pytorch_model.bin is a pickle, which Ember does not read; convert it "
                           "with transformers' save_pretrained(safe_serialization=True))"
                         : "");
  }
  return f;
}

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
