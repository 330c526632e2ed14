// `ember launch -n N CONFIG [train options]`: mpirun -np N ember train CONFIG --distributed ...
#include "launch_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

namespace ember::cli {

void add_launch_command(CLI::App& app, LaunchArgs& args) {
  CLI::App* cmd = app.add_subcommand(
      "launch",
      "Train CONFIG data-parallel on N processes: runs `mpirun -np N ember train CONFIG "
      "--distributed [train options]` (OpenMPI). training.batch_size is the global batch, split "
      "over the ranks; rank 0 writes the run directory. On several machines give --hostfile "
      "(one `host slots=K` line per machine; the run directory must be on a shared filesystem "
      "for --resume).");
  cmd->add_option("-n,--ranks", args.ranks, "Number of processes (ranks)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--hostfile", args.hostfile, "OpenMPI hostfile for several machines")
      ->check(CLI::ExistingFile);
  cmd->add_option("config", args.config, "TOML config")->required()->check(CLI::ExistingFile);
  cmd->add_option("train_args", args.train_args,
                  "Options for every rank's `ember train` after `--`, e.g. -- --zero --out runs/x");
  cmd->footer(
      "Examples:\n"
      "  ember launch -n 2 examples/fmnist_mlp.toml\n"
      "  ember launch -n 4 examples/austen_char.toml -- --zero --dist-timeout 60\n"
      "  ember launch -n 16 --hostfile hosts.txt examples/austen_char.toml -- --out /shared/run");
}

int launch(const LaunchArgs& a) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::vector<std::string> argv = {"mpirun", "-np", std::to_string(a.ranks)};
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (a.hostfile.empty() && static_cast<unsigned>(a.ranks) > cores)
    argv.emplace_back("--oversubscribe");
  if (!a.hostfile.empty()) argv.insert(argv.end(), {"--hostfile", a.hostfile});
  if (geteuid() == 0) argv.emplace_back("--allow-run-as-root");
  // Each rank's OpenMP pool gets its share of the cores (as torchrun does), unless set already.
  if (!std::getenv("OMP_NUM_THREADS")) {
    const unsigned per_rank = a.hostfile.empty() ? std::max(1u, cores / a.ranks) : 1u;
    setenv("OMP_NUM_THREADS", std::to_string(per_rank).c_str(), 1);
  }
  argv.insert(argv.end(), {"-x", "OMP_NUM_THREADS", self, "train", a.config, "--distributed"});
  argv.insert(argv.end(), a.train_args.begin(), a.train_args.end());

  std::vector<char*> c_argv;
  for (std::string& s : argv) c_argv.push_back(s.data());
  c_argv.push_back(nullptr);
  std::fflush(stdout);
  execvp("mpirun", c_argv.data());
  std::fprintf(stderr,
               "ember launch: cannot run mpirun (%s): install OpenMPI (apt-get install "
               "openmpi-bin), or start the ranks yourself: mpirun -np %d %s train %s "
               "--distributed\n",
               std::strerror(errno), a.ranks, self.c_str(), a.config.c_str());
  return 2;
}

}  // namespace ember::cli
