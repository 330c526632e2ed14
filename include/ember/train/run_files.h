// The files of a run directory (Note [Run directory]): written by train, read by eval and predict.
#pragma once

#include <memory>
#include <string>

#include "ember/nn/containers.h"
#include "ember/train/config.h"
#include "ember/train/history.h"
#include "ember/train/pipeline.h"

namespace ember::train {

struct TrainResult;

/// Writes config.toml, run.json and preprocess.json at the start of a run (atomically).
void write_run_files(const std::string& run_dir, const TrainConfig& cfg, const PreparedData& data,
                     const std::string& loss);
/// Writes metrics.json, the plots and report.html at the end of a run (as cfg.output asks).
void write_run_outputs(const std::string& run_dir, const TrainConfig& cfg, const PreparedData& data,
                       const std::string& loss, nn::Module& model, const History& history,
                       const TrainResult& result);
/// The config a run was trained with (its config.toml).
TrainConfig load_run_config(const std::string& run_dir);

/// model.init: copies into model every tensor of source whose name matches, and returns the
/// names loaded. source is a run directory (its best checkpoint, else its last) or a Hugging Face
/// BERT directory (config.json + model.safetensors). A matching name with another shape is a
/// ShapeError naming the tensor and both shapes (e.g. another tokenizer's vocabulary); a source
/// with no matching tensor at all is a ConfigError.
std::vector<std::string> init_from(nn::Module& model, const std::string& source);

/// A trained model ready for eval and predict.
struct LoadedRun {
  std::string run_dir;
  data::Preprocessor pre;
  std::string loss;
  std::shared_ptr<nn::Module> model;  ///< with the best checkpoint's weights (else the last)
  std::string checkpoint;             ///< "best" or "last"
  int64_t step = 0;                   ///< the checkpoint's step
  std::shared_ptr<const data::Tokenizer> tokenizer;  ///< text runs: saved in the run directory
};
/// Loads run_dir's preprocessor and model. ConfigError naming the path when it is not a run.
LoadedRun load_run(const std::string& run_dir);

}  // namespace ember::train
