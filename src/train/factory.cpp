// Optimizers and schedules from config; Scheduler hides per-step vs per-evaluation stepping.
#include "ember/train/factory.h"

#include "ember/optim/adagrad.h"
#include "ember/optim/adam.h"
#include "ember/optim/rmsprop.h"
#include "ember/optim/sgd.h"
#include "ember/optim/sparse_adam.h"

namespace ember::train {

std::unique_ptr<optim::Optimizer> make_optimizer(const OptimizerConfig& c,
                                                 std::vector<Tensor> params) {
  if (c.name == "sgd")
    return std::make_unique<optim::SGD>(std::move(params),
                                        optim::SGDOptions{.lr = c.lr,
                                                          .momentum = c.momentum,
                                                          .weight_decay = c.weight_decay,
                                                          .nesterov = c.nesterov});
  if (c.name == "adam" || c.name == "adamw") {
    EMBER_CHECK_T(ConfigError, c.betas.size() == 2, "optimizer.betas: expected 2 values, got ",
                  c.betas.size());
    const std::pair<double, double> betas = {c.betas[0], c.betas[1]};
    if (c.name == "adam")
      return std::make_unique<optim::Adam>(
          std::move(params),
          optim::AdamOptions{
              .lr = c.lr, .betas = betas, .eps = c.eps, .weight_decay = c.weight_decay});
    return std::make_unique<optim::AdamW>(
        std::move(params),
        optim::AdamWOptions{
            .lr = c.lr, .betas = betas, .eps = c.eps, .weight_decay = c.weight_decay});
  }
  if (c.name == "rmsprop")
    return std::make_unique<optim::RMSprop>(std::move(params),
                                            optim::RMSpropOptions{.lr = c.lr,
                                                                  .alpha = c.alpha,
                                                                  .eps = c.eps,
                                                                  .weight_decay = c.weight_decay,
                                                                  .momentum = c.momentum});
  if (c.name == "adagrad")
    return std::make_unique<optim::Adagrad>(
        std::move(params),
        optim::AdagradOptions{.lr = c.lr, .weight_decay = c.weight_decay, .eps = c.eps});
  if (c.name == "sparse_adam") {
    EMBER_CHECK_T(ConfigError, c.betas.size() == 2, "optimizer.betas: expected 2 values, got ",
                  c.betas.size());
    EMBER_CHECK_T(ConfigError, c.weight_decay == 0, "optimizer.weight_decay = ", c.weight_decay,
                  ": sparse_adam has no weight decay; set it to 0");
    return std::make_unique<optim::SparseAdam>(
        std::move(params),
        optim::SparseAdamOptions{.lr = c.lr, .betas = {c.betas[0], c.betas[1]}, .eps = c.eps});
  }
  EMBER_THROW(ConfigError, "optimizer.name = \"", c.name,
              "\": must be one of sgd, adam, adamw, rmsprop, adagrad, sparse_adam");
}

Scheduler::Scheduler(const ScheduleConfig& c, optim::Optimizer& optimizer, int64_t total_steps,
                     bool higher_is_better)
    : name_(c.name), optimizer_(optimizer) {
  EMBER_CHECK(total_steps >= 1, "Scheduler: total_steps must be >= 1, got ", total_steps);
  if (c.name == "none") return;
  if (c.name == "step") {
    per_step_ = std::make_unique<optim::StepLR>(optimizer, c.step_size, c.gamma);
  } else if (c.name == "exponential") {
    per_step_ = std::make_unique<optim::ExponentialLR>(optimizer, c.gamma);
  } else if (c.name == "cosine") {
    per_step_ = std::make_unique<optim::CosineAnnealingLR>(optimizer, total_steps, c.min_lr);
  } else if (c.name == "warmup_cosine") {
    EMBER_CHECK_T(ConfigError, c.warmup_steps <= total_steps,
                  "schedule.warmup_steps = ", c.warmup_steps,
                  ": must be <= the run's number of optimizer steps (", total_steps, ")");
    per_step_ = std::make_unique<optim::CosineAnnealingWarmup>(optimizer, c.warmup_steps,
                                                               total_steps, c.min_lr);
  } else if (c.name == "onecycle") {
    const double max_lr = c.max_lr > 0 ? c.max_lr : optimizer.param_groups()[0].get("lr");
    // Cycling momentum would switch on momentum an optimizer was configured without.
    const bool cycle =
        optimizer.has_option("beta1") ||
        (optimizer.has_option("momentum") && optimizer.param_groups()[0].get("momentum") > 0);
    per_step_ = std::make_unique<optim::OneCycleLR>(
        optimizer, max_lr, total_steps, optim::OneCycleLROptions{.cycle_momentum = cycle});
  } else if (c.name == "plateau") {
    optim::ReduceLROnPlateauOptions o;
    o.mode = higher_is_better ? optim::PlateauMode::Max : optim::PlateauMode::Min;
    o.factor = c.factor;
    o.patience = c.patience;
    o.min_lr = c.min_lr;
    plateau_ = std::make_unique<optim::ReduceLROnPlateau>(optimizer, o);
  } else {
    EMBER_THROW(ConfigError, "schedule.name = \"", c.name,
                "\": must be one of none, step, exponential, cosine, warmup_cosine, onecycle, "
                "plateau");
  }
}

void Scheduler::step() {
  if (per_step_) per_step_->step();
}

void Scheduler::step_eval(double monitored) {
  if (plateau_) plateau_->step(monitored);
}

double Scheduler::lr() const {
  return optimizer_.param_groups()[0].get("lr");
}

optim::StateDict Scheduler::state_dict() const {
  if (per_step_) return per_step_->state_dict();
  if (plateau_) return plateau_->state_dict();
  return {};
}

void Scheduler::load_state_dict(const optim::StateDict& state_dict) {
  if (per_step_) return per_step_->load_state_dict(state_dict);
  if (plateau_) return plateau_->load_state_dict(state_dict);
  EMBER_CHECK(state_dict.empty(),
              "Scheduler::load_state_dict: schedule 'none' has no state, got key '",
              state_dict.front().first, "'");
}

std::unique_ptr<Scheduler> make_scheduler(const ScheduleConfig& cfg, optim::Optimizer& optimizer,
                                          int64_t total_steps, bool higher_is_better) {
  return std::make_unique<Scheduler>(cfg, optimizer, total_steps, higher_is_better);
}

}  // namespace ember::train
