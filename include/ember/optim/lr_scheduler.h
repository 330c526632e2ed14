// Learning-rate schedulers: step, multi-step, exponential, cosine (plain and with linear warmup),
// one-cycle, and reduce-on-plateau, with PyTorch 1.13's formulas.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/optim/optimizer.h"

namespace ember::optim {

/// Base of the epoch-indexed schedulers (torch.optim.lr_scheduler._LRScheduler, 1.13).
///
/// Construction records each group's `initial_lr` (keeping one set by an earlier scheduler),
/// takes base_lrs from it, and takes the initial step: last_epoch becomes 0 and the groups' lr
/// is set to the schedule's value at 0. Each step() then advances last_epoch by one and writes
/// the new lr into every group; call it after optimizer.step(). The scheduler keeps a reference
/// to the optimizer, which must outlive it.
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  LRScheduler(const LRScheduler&) = delete;
  LRScheduler& operator=(const LRScheduler&) = delete;

  /// Advances one epoch and sets each group's lr.
  void step();
  /// The learning rates set by the latest step, one per group.
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  /// Epochs stepped since construction (0 right after it).
  int64_t last_epoch() const { return last_epoch_; }
  const std::vector<double>& base_lrs() const { return base_lrs_; }

  /// Keys: last_epoch, step_count (0-d float64), base_lrs, last_lr (1-d float64, one per group).
  /// Hyperparameters come from the constructor and are not saved.
  StateDict state_dict() const;
  /// Restores a state_dict() of a scheduler over an optimizer with the same number of groups.
  /// Does not change the optimizer's lr (that lives in the optimizer's own state_dict).
  void load_state_dict(const StateDict& state_dict);

 protected:
  explicit LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {}
  /// Records initial/base lrs and takes the initial step; derived constructors call it last.
  void initial_step();
  /// The lr of every group at last_epoch_ (may read the groups' current lr: chainable forms).
  virtual std::vector<double> get_lr() const = 0;

  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
  int64_t last_epoch_ = -1;
  int64_t step_count_ = 0;
  std::vector<double> last_lr_;
};

/// Multiplies lr by gamma every step_size epochs: lr = base_lr * gamma^(epoch / step_size).
/// Chainable form, as in PyTorch.
class StepLR final : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);

 private:
  std::vector<double> get_lr() const override;
  int64_t step_size_;
  double gamma_;
};

/// Multiplies lr by gamma at each milestone epoch (gamma^k when a milestone is listed k times).
class MultiStepLR final : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma = 0.1);

 private:
  std::vector<double> get_lr() const override;
  std::vector<int64_t> milestones_;
  double gamma_;
};

/// Multiplies lr by gamma every epoch: lr = base_lr * gamma^epoch.
class ExponentialLR final : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 private:
  std::vector<double> get_lr() const override;
  double gamma_;
};

/// Cosine annealing, PyTorch's closed form:
///   lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2
/// (periodic beyond T_max, as PyTorch's). Not chainable: it ignores the groups' current lr.
class CosineAnnealingLR final : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min = 0);

 private:
  std::vector<double> get_lr() const override;
  int64_t t_max_;
  double eta_min_;
};

/// Linear warmup then cosine annealing (per-step schedule for transformers), at epoch t:
///   t < warmup_steps:  lr = base_lr * (f + (1 - f) * t / warmup_steps),  f = warmup_start_factor
///   t <= total_steps:  lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * p)) / 2,
///                      p = (t - warmup_steps) / (total_steps - warmup_steps)
///   t > total_steps:   lr = min_lr.
/// Equals PyTorch's SequentialLR(LinearLR(f, 1, warmup_steps), CosineAnnealingLR(total_steps -
/// warmup_steps, min_lr)) in closed form. Not chainable.
class CosineAnnealingWarmup final : public LRScheduler {
 public:
  CosineAnnealingWarmup(Optimizer& optimizer, int64_t warmup_steps, int64_t total_steps,
                        double min_lr = 0, double warmup_start_factor = 0);

 private:
  std::vector<double> get_lr() const override;
  int64_t warmup_steps_, total_steps_;
  double min_lr_, start_factor_;
};

enum class AnnealStrategy { Cos, Linear };

/// Options of OneCycleLR (torch.optim.lr_scheduler.OneCycleLR).
struct OneCycleLROptions {
  double pct_start = 0.3;  ///< fraction of the cycle spent increasing the lr
  AnnealStrategy anneal_strategy = AnnealStrategy::Cos;
  /// Cycle momentum inversely to the lr between max_momentum and base_momentum; writes the
  /// groups' "beta1" (Adam, AdamW) or "momentum" (SGD, RMSprop) option.
  bool cycle_momentum = true;
  double base_momentum = 0.85;
  double max_momentum = 0.95;
  double div_factor = 25;         ///< initial_lr = max_lr / div_factor
  double final_div_factor = 1e4;  ///< min_lr = initial_lr / final_div_factor
  /// Three phases (up, back down to initial_lr, then to min_lr) instead of two.
  bool three_phase = false;
};

/// The 1cycle policy with PyTorch 1.13's phases: lr rises from max_lr / div_factor to max_lr over
/// the first pct_start * total_steps - 1 epochs, then anneals to initial_lr / final_div_factor by
/// epoch total_steps - 1. Stepping past epoch total_steps throws ValueError. Sets each group's
/// initial_lr (overwriting any earlier one), as PyTorch does.
class OneCycleLR final : public LRScheduler {
 public:
  /// One max_lr for every group.
  OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps,
             OneCycleLROptions options = {});
  /// One max_lr per group.
  OneCycleLR(Optimizer& optimizer, std::vector<double> max_lrs, int64_t total_steps,
             OneCycleLROptions options = {});

 private:
  enum Level { kInitial, kMax, kMin, kBaseMomentum, kMaxMomentum };
  struct Phase {
    double end_step;
    Level start_lr, end_lr, start_momentum, end_momentum;
  };
  double level(Level l, size_t group) const;
  std::vector<double> get_lr() const override;
  double anneal(double start, double end, double pct) const;

  int64_t total_steps_;
  OneCycleLROptions options_;
  std::vector<Phase> phases_;
  std::vector<double> max_lrs_, min_lrs_;
  std::string momentum_name_;  // "beta1", "momentum", or empty when not cycling
};

enum class PlateauMode { Min, Max };
enum class ThresholdMode { Rel, Abs };

/// Options of ReduceLROnPlateau (torch.optim.lr_scheduler.ReduceLROnPlateau).
struct ReduceLROnPlateauOptions {
  PlateauMode mode = PlateauMode::Min;  ///< Min: the metric should decrease; Max: increase
  double factor = 0.1;                  ///< new_lr = lr * factor (must be < 1)
  int64_t patience = 10;                ///< bad epochs tolerated before reducing
  double threshold = 1e-4;              ///< least change that counts as an improvement
  ThresholdMode threshold_mode = ThresholdMode::Rel;
  int64_t cooldown = 0;  ///< epochs to wait after a reduction before counting bad epochs
  double min_lr = 0;     ///< lower bound on every group's lr
  std::vector<double> min_lrs = {};  ///< per-group lower bounds (overrides min_lr when not empty)
  double eps = 1e-8;                 ///< reductions smaller than eps are skipped
};

/// Reduces the lr of every group by factor once the metric has not improved for more than
/// patience epochs. Not an LRScheduler: step takes the metric.
class ReduceLROnPlateau {
 public:
  explicit ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});

  /// Records one epoch's metric and reduces the lr when it has plateaued.
  void step(double metric);
  /// The groups' lr after the latest step (their lr at construction before any).
  const std::vector<double>& get_last_lr() const { return last_lr_; }
  /// The best metric seen (+inf / -inf before any, by mode).
  double best() const { return best_; }
  int64_t num_bad_epochs() const { return num_bad_epochs_; }
  int64_t last_epoch() const { return last_epoch_; }

  /// Keys: best, num_bad_epochs, cooldown_counter, last_epoch (0-d float64), last_lr (1-d).
  StateDict state_dict() const;
  void load_state_dict(const StateDict& state_dict);

 private:
  bool is_better(double a, double best) const;

  Optimizer& optimizer_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_;
  double best_;
  int64_t num_bad_epochs_ = 0;
  int64_t cooldown_counter_ = 0;
  int64_t last_epoch_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace ember::optim
