// Module state_dict <-> safetensors files.
#include "ember/io/state_dict.h"

#include "ember/io/safetensors.h"

namespace ember::io {

void save_state_dict(const nn::Module& module, const std::string& path,
                     const std::map<std::string, std::string>& metadata) {
  const nn::StateDict dict = module.state_dict();
  save_safetensors(path, NamedTensors(dict.begin(), dict.end()), metadata);
}

nn::StateDict load_state_dict_file(const std::string& path) {
  nn::StateDict dict;
  for (auto& [name, t] : load_safetensors(path)) dict.insert(name, t);
  return dict;
}

nn::LoadStateDictResult load_state_dict(nn::Module& module, const std::string& path,
                                        bool strict) {
  const nn::StateDict dict = load_state_dict_file(path);
  try {
    return module.load_state_dict(dict, strict);
  } catch (const Error& e) {
    EMBER_THROW(ValueError, "load_state_dict from '", path, "': ", e.message());
  }
}

}  // namespace ember::io
