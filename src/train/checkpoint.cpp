// Training checkpoints: versioned safetensors files committed by an atomically written JSON.
#include "ember/train/checkpoint.h"

#include <bit>
#include <cstdio>
#include <filesystem>

#include "ember/core/error.h"

namespace ember::train {

namespace fs = std::filesystem;

namespace {

std::string tensor_file_name(const std::string& tag, int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%09lld.safetensors", static_cast<long long>(step));
  return tag + buf;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t from_hex(const json::Value& v) {
  const std::string& s = v.as_string();
  EMBER_CHECK_IO(s.size() == 16 && s.find_first_not_of("0123456789abcdef") == std::string::npos,
                 "checkpoint: bad RNG state word '", s, "' (expected 16 hex digits)");
  return std::stoull(s, nullptr, 16);
}

}  // namespace

void save_checkpoint(const std::string& dir, const std::string& tag, int64_t step,
                     const Checkpoint& checkpoint) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  EMBER_CHECK_IO(!ec, dir, ": cannot create the checkpoint directory: ", ec.message());
  const std::string tensors = tensor_file_name(tag, step);
  io::save_safetensors((fs::path(dir) / tensors).string(), checkpoint.tensors);
  json::Value state = checkpoint.state;
  state["tensors"] = tensors;
  state["step"] = step;
  json::write_file((fs::path(dir) / (tag + ".json")).string(), state);  // the commit point
  // Only now may older tensor files of this tag go (Note [Atomic checkpoints]).
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name != tensors && name.starts_with(tag + "-") && name.ends_with(".safetensors"))
      fs::remove(entry.path(), ec);
  }
}

bool has_checkpoint(const std::string& dir, const std::string& tag) {
  return fs::exists(fs::path(dir) / (tag + ".json"));
}

Checkpoint load_checkpoint(const std::string& dir, const std::string& tag) {
  const std::string json_path = (fs::path(dir) / (tag + ".json")).string();
  EMBER_CHECK_IO(fs::exists(json_path), json_path, ": no checkpoint '", tag, "' in ", dir);
  Checkpoint c;
  c.state = json::parse_file(json_path);
  const json::Value* file = c.state.find("tensors");
  EMBER_CHECK_IO(c.state.is_object() && file && file->is_string() &&
                     file->as_string().find('/') == std::string::npos,
                 json_path, ": key 'tensors' must name the checkpoint's safetensors file");
  c.tensors = io::load_safetensors((fs::path(dir) / file->as_string()).string(), /*mmap=*/false);
  return c;
}

json::Value generator_state_to_json(const Generator::State& state) {
  json::Value words = json::Value::array();
  for (uint64_t w : state.s) words.push_back(hex(w));
  json::Value v = json::Value::object();
  v["s"] = words;
  v["seed"] = hex(state.seed);
  v["has_spare"] = state.has_spare;
  v["spare"] = hex(std::bit_cast<uint64_t>(state.spare));
  return v;
}

Generator::State generator_state_from_json(const json::Value& v) {
  Generator::State st;
  EMBER_CHECK_IO(v.is_object() && v.contains("s") && v["s"].is_array() && v["s"].size() == 4,
                 "checkpoint: bad RNG state (expected an object with 4 state words)");
  for (size_t i = 0; i < 4; ++i) st.s[i] = from_hex(v["s"][i]);
  st.seed = from_hex(v["seed"]);
  st.has_spare = v["has_spare"].as_bool();
  st.spare = std::bit_cast<double>(from_hex(v["spare"]));
  return st;
}

}  // namespace ember::train
