// Optimizers and learning-rate schedules from the [optimizer] and [schedule] config sections.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ember/optim/lr_scheduler.h"
#include "ember/optim/optimizer.h"
#include "ember/train/config.h"

namespace ember::train {

/// The optimizer cfg names, over params (one group). Fields used by each:
///   sgd: lr, momentum, nesterov, weight_decay (L2)
///   adam: lr, betas, eps, weight_decay (L2);  adamw: the same, weight decay decoupled
///   rmsprop: lr, alpha, eps, momentum, weight_decay (L2)
///   adagrad: lr, eps, weight_decay (L2)
/// Throws ConfigError for an unknown name; the optimizer's own checks for bad values.
std::unique_ptr<optim::Optimizer> make_optimizer(const OptimizerConfig& cfg,
                                                 std::vector<Tensor> params);

/// One interface over every [schedule]: the trainer calls step() after each optimizer step and
/// step_eval(value of training.monitor) after each evaluation; each schedule reacts to the call
/// it uses and ignores the other. total_steps is the number of optimizer steps in the run.
///   none:          constant lr
///   step:          lr * gamma every step_size steps (StepLR)
///   exponential:   lr * gamma every step (ExponentialLR; choose gamma close to 1)
///   cosine:        cosine from lr to min_lr over total_steps (CosineAnnealingLR)
///   warmup_cosine: linear warmup from 0 over warmup_steps, then cosine to min_lr
///                  (CosineAnnealingWarmup; needs warmup_steps <= total_steps)
///   onecycle:      1cycle up to max_lr (0: the optimizer's lr) over total_steps (OneCycleLR);
///                  cycles beta1 (adam, adamw) or momentum (sgd, rmsprop when momentum > 0)
///   plateau:       lr * factor after patience evaluations without improvement, not below
///                  min_lr (ReduceLROnPlateau; the metric improves upwards when
///                  higher_is_better)
/// The optimizer must outlive the scheduler. Construction sets the lr for the first step.
class Scheduler {
 public:
  Scheduler(const ScheduleConfig& cfg, optim::Optimizer& optimizer, int64_t total_steps,
            bool higher_is_better = false);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// After each optimizer step.
  void step();
  /// After each evaluation, with the monitored metric.
  void step_eval(double monitored);
  /// The learning rate of the optimizer's first group now.
  double lr() const;
  const std::string& name() const { return name_; }

  /// The schedule's state for checkpoints (empty for none); restore it into a Scheduler built
  /// from the same config. The optimizer's lr lives in the optimizer's own state_dict.
  optim::StateDict state_dict() const;
  /// Throws ValueError naming the offending key when the dict does not fit this schedule.
  void load_state_dict(const optim::StateDict& state_dict);

 private:
  std::string name_;
  optim::Optimizer& optimizer_;
  std::unique_ptr<optim::LRScheduler> per_step_;       // all but none and plateau
  std::unique_ptr<optim::ReduceLROnPlateau> plateau_;  // plateau
};

/// std::make_unique<Scheduler>(cfg, optimizer, total_steps, higher_is_better).
std::unique_ptr<Scheduler> make_scheduler(const ScheduleConfig& cfg, optim::Optimizer& optimizer,
                                          int64_t total_steps, bool higher_is_better = false);

}  // namespace ember::train
