// `ember prepare CONFIG --out DIR`: data.safetensors (every split's x and y) and preprocess.json.
#include "prepare_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "ember/io/file.h"
#include "ember/io/safetensors.h"
#include "ember/train/pipeline.h"

namespace ember::cli {

void add_prepare_command(CLI::App& app, PrepareArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "prepare",
      "Read, split and preprocess CONFIG's data as ember train does, and write the result: "
      "DIR/data.safetensors with train.x, train.y, val.x, val.y, test.x, test.y (the exact "
      "tensors the model sees) and DIR/preprocess.json (the fitted preprocessing)");
  cmd->add_option("config", a.config, "TOML config")->required()->check(CLI::ExistingFile);
  cmd->add_option("--set", a.overrides, "Override a config key (repeatable)");
  cmd->add_option("--out", a.out, "Output directory")->required();
}

int prepare(const PrepareArgs& a) {
  const train::TrainConfig cfg = train::load_train_config(a.config, a.overrides);
  const train::PreparedData d = train::prepare_data(cfg);
  io::NamedTensors tensors;
  for (const auto& [name, split] :
       {std::pair{"train", &d.train}, std::pair{"val", &d.val}, std::pair{"test", &d.test}}) {
    if (split->size() == 0) continue;
    tensors.emplace_back(std::string(name) + ".x", split->x.contiguous());
    tensors.emplace_back(std::string(name) + ".y", split->y.contiguous());
  }
  std::filesystem::create_directories(a.out);
  io::save_safetensors(a.out + "/data.safetensors", tensors);
  io::write_file_atomic(a.out + "/preprocess.json", d.pre.to_json().dump(2) + "\n");
  std::printf("%s: train %lld, val %lld, test %lld rows -> %s/data.safetensors, preprocess.json\n",
              a.config.c_str(), static_cast<long long>(d.train.size()),
              static_cast<long long>(d.val.size()), static_cast<long long>(d.test.size()),
              a.out.c_str());
  return 0;
}

}  // namespace ember::cli
