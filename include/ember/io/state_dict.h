// Saving and loading a module's state_dict (and any named tensors) as safetensors files.
#pragma once

#include <map>
#include <string>

#include "ember/nn/module.h"

namespace ember::io {

/// Writes module.state_dict() to path as safetensors (atomically), with optional string metadata.
/// Names are PyTorch's dotted names ("layers.0.weight"), so the file loads in PyTorch too.
void save_state_dict(const nn::Module& module, const std::string& path,
                     const std::map<std::string, std::string>& metadata = {});

/// Reads a safetensors file into a StateDict (tensors share one copy-on-write mapping).
nn::StateDict load_state_dict_file(const std::string& path);

/// Loads a safetensors file into module's parameters and buffers (module.load_state_dict):
/// errors list missing, unexpected and mis-shaped keys and name the file.
nn::LoadStateDictResult load_state_dict(nn::Module& module, const std::string& path,
                                        bool strict = true);

}  // namespace ember::io
