// `ember launch`: runs `ember train CONFIG --distributed` on N ranks through mpirun.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace ember::cli {

/// What `ember launch` starts.
struct LaunchArgs {
  int ranks = 2;
  std::string hostfile;
  std::string config;
  std::vector<std::string> train_args;  ///< passed on to every rank's `ember train`
};
void add_launch_command(CLI::App& app, LaunchArgs& args);
/// Replaces this process with mpirun; returns only on failure (exit code).
int launch(const LaunchArgs& args);

}  // namespace ember::cli
