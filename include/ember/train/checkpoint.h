// Training checkpoints: tensors in safetensors plus a JSON sidecar, committed atomically as a pair.
#pragma once

#include <string>

#include "ember/core/generator.h"
#include "ember/io/json.h"
#include "ember/io/safetensors.h"

namespace ember::train {

/// A checkpoint: named tensors (model, optimizer and scheduler state) and a JSON object (step,
/// epoch, config, RNG state, history, ...).
struct Checkpoint {
  io::NamedTensors tensors;
  json::Value state;
};

// Note [Atomic checkpoints]
// A checkpoint is two files that must agree: DIR/<tag>-<step>.safetensors (the tensors) and
// DIR/<tag>.json (the state, naming that tensor file). Each is written atomically (temporary
// file, fsync, rename), the tensors first; the JSON's rename is the commit point. Older tensor
// files of the tag are deleted only after it. A crash (even kill -9) at any moment therefore
// leaves either the previous pair or the new one, never a mix or a half-written file.

/// Saves a checkpoint under dir (created if missing) as <tag>.json + <tag>-<step>.safetensors.
void save_checkpoint(const std::string& dir, const std::string& tag, int64_t step,
                     const Checkpoint& checkpoint);
/// True when dir holds a committed checkpoint called tag.
bool has_checkpoint(const std::string& dir, const std::string& tag);
/// Loads the checkpoint tag from dir; ember::IOError naming the file when it is missing or bad.
Checkpoint load_checkpoint(const std::string& dir, const std::string& tag);

/// A generator's full state as JSON (state words as hex strings, so every bit survives).
json::Value generator_state_to_json(const Generator::State& state);
Generator::State generator_state_from_json(const json::Value& value);

}  // namespace ember::train
