// `ember prepare`: the exact tensors a config feeds its model, written for inspection or other
// tools.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ember::cli {

/// What `ember prepare` reads and where it writes.
struct PrepareArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string out;
};
void add_prepare_command(CLI::App& app, PrepareArgs& args);
int prepare(const PrepareArgs& args);

}  // namespace ember::cli
