// The Trainer: runs a TrainConfig end to end — data, model, the training loop with evaluation,
// checkpoints, early stopping and resume — and writes the run directory.
#pragma once

#include <string>

#include "ember/core/error.h"
#include "ember/dist/ddp.h"
#include "ember/train/config.h"
#include "ember/train/metrics.h"
#include "ember/train/progress.h"

namespace ember::train {

/// A failure while a run trains (e.g. a NaN loss), as opposed to bad input (ConfigError etc.).
class RunError : public Error {
  using Error::Error;
};

/// How one `ember train` process runs.
struct TrainOptions {
  std::string run_dir = "";                     ///< where the run's files go
  bool resume = false;                          ///< continue from run_dir's last checkpoint
  ProgressMode progress = ProgressMode::Lines;  ///< bar, lines or quiet
  bool verbose = false;                         ///< also print every evaluation
  /// Stop (after writing a checkpoint) once this process has made this many optimizer steps; 0:
  /// no limit. For time-boxed jobs and for testing resume.
  int64_t stop_after_steps = 0;
  /// Data-parallel training (Note [Distributed training]) over this group; null: one process.
  /// Every rank calls fit() with the same config; training.batch_size stays the global batch.
  std::shared_ptr<dist::ProcessGroup> group = nullptr;
  /// Where the model trains (Device::cuda(i): issue 7's backend; batches move there, metrics and
  /// checkpoints come back to the CPU).
  Device device = Device::cpu();
  bool zero = false;          ///< ZeRO stage 1: optimizer state sharded over the ranks
  double bucket_cap_mb = 25;  ///< DDP gradient bucket size
};

/// What a finished run reports.
struct TrainResult {
  std::string run_dir;
  int64_t steps = 0;               ///< optimizer steps in the whole run
  int64_t epochs = 0;              ///< epochs started
  int64_t best_step = -1;          ///< step of the best checkpoint (-1: none)
  bool stopped_early = false;      ///< early stopping ended the run
  bool interrupted = false;        ///< stop_after_steps ended this process before the run's end
  Metrics final_metrics;           ///< test_* metrics of the best model (val_* when no test split)
  double seconds = 0;              ///< wall time of this process's training loop
  double loader_wait_seconds = 0;  ///< of which the loop waited for the DataLoader
  /// Distributed runs: DDP's communication counters and the optimizer state held by this rank
  /// next to the whole (they differ with ZeRO-1).
  dist::DDPStats comm;
  size_t optimizer_state_bytes = 0, optimizer_state_bytes_total = 0;
};

// Note [Run directory]
//   config.toml          the resolved config (every key)
//   run.json             task, loss, sizes and feature/class names: what eval and predict need
//   preprocess.json      the fitted preprocessor
//   checkpoints/         last.json + last-<step>.safetensors, best.json + best-<step>.safetensors
//                        (Note [Atomic checkpoints])
//   metrics.csv          one row per evaluation; metrics.json: the rows and the final metrics
//   *.png, report.html   plots and the self-contained report

/// Trains cfg into opts.run_dir (as Keras's model.fit). Bad config or data throws the ember::Error
/// subtypes that name the problem; a NaN or infinite loss throws RunError after keeping the last
/// good checkpoint.
TrainResult fit(const TrainConfig& cfg, const TrainOptions& opts);

}  // namespace ember::train
