// Learning-rate schedulers, following torch/optim/lr_scheduler.py (1.13) operation by operation so
// that the sequences agree with PyTorch's to the last bit where PyTorch uses the same formula.
#include "ember/optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <set>

#include "ember/ops/creation.h"

namespace ember::optim {

namespace {

std::vector<double> current_lrs(const Optimizer& opt) {
  std::vector<double> out;
  for (const ParamGroup& g : opt.param_groups()) out.push_back(g.get("lr"));
  return out;
}

Tensor scalar64(double v) {
  return scalar_tensor(v, kFloat64);
}

// Reads the keys of a scheduler state dict: every expected key once, nothing else.
class KeyReader {
 public:
  KeyReader(const StateDict& sd, const char* who, std::vector<std::string> expected) : who_(who) {
    std::set<std::string> allowed(expected.begin(), expected.end());
    for (const auto& [key, t] : sd) {
      EMBER_CHECK(allowed.count(key), who, "::load_state_dict: unexpected key '", key, "'");
      EMBER_CHECK(found_.emplace(key, t).second, who, "::load_state_dict: key '", key,
                  "' appears twice");
    }
    for (const std::string& k : expected)
      EMBER_CHECK(found_.count(k), who, "::load_state_dict: missing key '", k, "'");
  }
  double scalar(const std::string& key) const {
    const Tensor& t = found_.at(key);
    EMBER_CHECK(t.defined() && t.numel() == 1, who_, "::load_state_dict: '", key,
                "' should hold one number");
    return t.item<double>();
  }
  int64_t count(const std::string& key) const {
    const double v = scalar(key);
    EMBER_CHECK(v == std::floor(v) && std::abs(v) < 9.0e15, who_, "::load_state_dict: '", key,
                "' should be a whole number, got ", v);
    return static_cast<int64_t>(v);
  }
  std::vector<double> list(const std::string& key, size_t n) const {
    const Tensor& t = found_.at(key);
    EMBER_CHECK(t.defined() && t.dim() == 1 && t.numel() == static_cast<int64_t>(n), who_,
                "::load_state_dict: '", key,
                "' should be a 1-d tensor with one value per "
                "param group (",
                n, ")");
    return t.to_vector<double>();
  }

 private:
  const char* who_;
  std::map<std::string, Tensor> found_;
};

}  // namespace

// ---- LRScheduler ----

void LRScheduler::initial_step() {
  for (ParamGroup& g : optimizer_.param_groups()) {
    if (!g.initial_lr) g.initial_lr = g.get("lr");
    base_lrs_.push_back(*g.initial_lr);
  }
  step();
}

void LRScheduler::step() {
  std::vector<ParamGroup>& groups = optimizer_.param_groups();
  EMBER_CHECK(groups.size() == base_lrs_.size(), "LRScheduler: the optimizer has ", groups.size(),
              " param group(s) but the scheduler was created for ", base_lrs_.size());
  ++step_count_;
  ++last_epoch_;
  const std::vector<double> lrs = get_lr();
  for (size_t i = 0; i < groups.size(); ++i) groups[i].lr = lrs[i];
  last_lr_ = lrs;
}

StateDict LRScheduler::state_dict() const {
  return {{"last_epoch", scalar64(static_cast<double>(last_epoch_))},
          {"step_count", scalar64(static_cast<double>(step_count_))},
          {"base_lrs", from_vector(base_lrs_)},
          {"last_lr", from_vector(last_lr_)}};
}

void LRScheduler::load_state_dict(const StateDict& sd) {
  KeyReader r(sd, "LRScheduler", {"last_epoch", "step_count", "base_lrs", "last_lr"});
  const size_t n = optimizer_.param_groups().size();
  std::vector<double> base = r.list("base_lrs", n), last = r.list("last_lr", n);
  const int64_t epoch = r.count("last_epoch"), count = r.count("step_count");
  base_lrs_ = std::move(base);
  last_lr_ = std::move(last);
  last_epoch_ = epoch;
  step_count_ = count;
}

// ---- StepLR, MultiStepLR, ExponentialLR (chainable) ----

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  EMBER_CHECK(step_size > 0, "StepLR: step_size should be positive, got ", step_size);
  initial_step();
}

std::vector<double> StepLR::get_lr() const {
  std::vector<double> lrs = current_lrs(optimizer_);
  if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  initial_step();
}

std::vector<double> MultiStepLR::get_lr() const {
  std::vector<double> lrs = current_lrs(optimizer_);
  const auto hits = std::count(milestones_.begin(), milestones_.end(), last_epoch_);
  if (hits == 0) return lrs;
  for (double& lr : lrs) lr = lr * std::pow(gamma_, static_cast<double>(hits));
  return lrs;
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer), gamma_(gamma) {
  initial_step();
}

std::vector<double> ExponentialLR::get_lr() const {
  std::vector<double> lrs = current_lrs(optimizer_);
  if (last_epoch_ == 0) return lrs;
  for (double& lr : lrs) lr = lr * gamma_;
  return lrs;
}

// ---- cosine schedules (closed form) ----

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer), t_max_(T_max), eta_min_(eta_min) {
  EMBER_CHECK(T_max > 0, "CosineAnnealingLR: T_max should be positive, got ", T_max);
  initial_step();
}

std::vector<double> CosineAnnealingLR::get_lr() const {
  std::vector<double> lrs;
  const double e = static_cast<double>(last_epoch_), t = static_cast<double>(t_max_);
  for (double base : base_lrs_)
    lrs.push_back(eta_min_ + (base - eta_min_) * (1 + std::cos(std::numbers::pi * e / t)) / 2);
  return lrs;
}

CosineAnnealingWarmup::CosineAnnealingWarmup(Optimizer& optimizer, int64_t warmup_steps,
                                             int64_t total_steps, double min_lr,
                                             double warmup_start_factor)
    : LRScheduler(optimizer),
      warmup_steps_(warmup_steps),
      total_steps_(total_steps),
      min_lr_(min_lr),
      start_factor_(warmup_start_factor) {
  EMBER_CHECK(warmup_steps >= 0 && total_steps > 0 && warmup_steps <= total_steps,
              "CosineAnnealingWarmup: expected 0 <= warmup_steps <= total_steps and "
              "total_steps > 0, got warmup_steps ",
              warmup_steps, ", total_steps ", total_steps);
  EMBER_CHECK(warmup_start_factor >= 0 && warmup_start_factor <= 1,
              "CosineAnnealingWarmup: warmup_start_factor should be in [0, 1], got ",
              warmup_start_factor);
  EMBER_CHECK(min_lr >= 0, "CosineAnnealingWarmup: min_lr should be >= 0, got ", min_lr);
  initial_step();
}

std::vector<double> CosineAnnealingWarmup::get_lr() const {
  std::vector<double> lrs;
  const double t = static_cast<double>(last_epoch_);
  for (double base : base_lrs_) {
    if (last_epoch_ < warmup_steps_) {
      lrs.push_back(base *
                    (start_factor_ + (1 - start_factor_) * t / static_cast<double>(warmup_steps_)));
    } else if (last_epoch_ <= total_steps_ && total_steps_ > warmup_steps_) {
      const double p = (t - static_cast<double>(warmup_steps_)) /
                       static_cast<double>(total_steps_ - warmup_steps_);
      lrs.push_back(min_lr_ + (base - min_lr_) * (1 + std::cos(std::numbers::pi * p)) / 2);
    } else {
      lrs.push_back(min_lr_);
    }
  }
  return lrs;
}

// ---- OneCycleLR ----

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, int64_t total_steps,
                       OneCycleLROptions options)
    : OneCycleLR(optimizer, std::vector<double>(optimizer.param_groups().size(), max_lr),
                 total_steps, options) {}

OneCycleLR::OneCycleLR(Optimizer& optimizer, std::vector<double> max_lrs, int64_t total_steps,
                       OneCycleLROptions options)
    : LRScheduler(optimizer),
      total_steps_(total_steps),
      options_(options),
      max_lrs_(std::move(max_lrs)) {
  const OneCycleLROptions& o = options_;
  EMBER_CHECK(total_steps > 0, "OneCycleLR: expected positive integer total_steps, but got ",
              total_steps);
  EMBER_CHECK(o.pct_start >= 0 && o.pct_start <= 1,
              "OneCycleLR: expected float between 0 and 1 pct_start, but got ", o.pct_start);
  std::vector<ParamGroup>& groups = optimizer.param_groups();
  EMBER_CHECK(max_lrs_.size() == groups.size(), "OneCycleLR: expected ", groups.size(),
              " values for max_lr, got ", max_lrs_.size());
  const double n = static_cast<double>(total_steps);
  if (o.three_phase) {
    phases_ = {{o.pct_start * n - 1, kInitial, kMax, kMaxMomentum, kBaseMomentum},
               {2 * o.pct_start * n - 2, kMax, kInitial, kBaseMomentum, kMaxMomentum},
               {n - 1, kInitial, kMin, kMaxMomentum, kMaxMomentum}};
  } else {
    phases_ = {{o.pct_start * n - 1, kInitial, kMax, kMaxMomentum, kBaseMomentum},
               {n - 1, kMax, kMin, kBaseMomentum, kMaxMomentum}};
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    groups[i].initial_lr = max_lrs_[i] / o.div_factor;
    min_lrs_.push_back(*groups[i].initial_lr / o.final_div_factor);
  }
  if (o.cycle_momentum) {
    EMBER_CHECK(optimizer.has_option("beta1") || optimizer.has_option("momentum"),
                "OneCycleLR: optimizer ", optimizer.name(),
                " must support momentum (\"momentum\" or \"beta1\") with cycle_momentum enabled");
    momentum_name_ = optimizer.has_option("beta1") ? "beta1" : "momentum";
    for (ParamGroup& g : groups) g.set(momentum_name_, o.max_momentum);
  }
  initial_step();
}

double OneCycleLR::level(Level l, size_t group) const {
  switch (l) {
    case kInitial:
      return optimizer_.param_groups()[group].get("initial_lr");
    case kMax:
      return max_lrs_[group];
    case kMin:
      return min_lrs_[group];
    case kBaseMomentum:
      return options_.base_momentum;
    case kMaxMomentum:
      return options_.max_momentum;
  }
  return 0;
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (options_.anneal_strategy == AnnealStrategy::Cos) {
    const double cos_out = std::cos(std::numbers::pi * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
  }
  return (end - start) * pct + start;
}

std::vector<double> OneCycleLR::get_lr() const {
  const int64_t step_num = last_epoch_;
  EMBER_CHECK(step_num <= total_steps_, "OneCycleLR: tried to step ", step_num + 1,
              " times. The specified number of total steps is ", total_steps_);
  std::vector<ParamGroup>& groups = optimizer_.param_groups();
  std::vector<double> lrs;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    double start_step = 0;
    for (size_t i = 0; i < phases_.size(); ++i) {
      const Phase& ph = phases_[i];
      if (static_cast<double>(step_num) <= ph.end_step || i == phases_.size() - 1) {
        EMBER_CHECK(ph.end_step != start_step, "OneCycleLR: a phase has zero length (pct_start ",
                    options_.pct_start, ", total_steps ", total_steps_, ")");
        const double pct =
            (static_cast<double>(step_num) - start_step) / (ph.end_step - start_step);
        lrs.push_back(anneal(level(ph.start_lr, gi), level(ph.end_lr, gi), pct));
        if (!momentum_name_.empty())
          groups[gi].set(momentum_name_,
                         anneal(level(ph.start_momentum, gi), level(ph.end_momentum, gi), pct));
        break;
      }
      start_step = ph.end_step;
    }
  }
  return lrs;
}

// ---- ReduceLROnPlateau ----

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(optimizer), options_(std::move(options)) {
  EMBER_CHECK(options_.factor < 1.0, "ReduceLROnPlateau: factor should be < 1.0, got ",
              options_.factor);
  const size_t n = optimizer.param_groups().size();
  if (options_.min_lrs.empty()) {
    min_lrs_.assign(n, options_.min_lr);
  } else {
    EMBER_CHECK(options_.min_lrs.size() == n, "ReduceLROnPlateau: expected ", n, " min_lrs, got ",
                options_.min_lrs.size());
    min_lrs_ = options_.min_lrs;
  }
  best_ = options_.mode == PlateauMode::Min ? std::numeric_limits<double>::infinity()
                                            : -std::numeric_limits<double>::infinity();
  last_lr_ = current_lrs(optimizer);
}

bool ReduceLROnPlateau::is_better(double a, double best) const {
  const double th = options_.threshold;
  const bool rel = options_.threshold_mode == ThresholdMode::Rel;
  if (options_.mode == PlateauMode::Min) return rel ? a < best * (1. - th) : a < best - th;
  return rel ? a > best * (th + 1.) : a > best + th;
}

void ReduceLROnPlateau::step(double metric) {
  last_epoch_ += 1;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    num_bad_epochs_ += 1;
  }
  if (cooldown_counter_ > 0) {
    cooldown_counter_ -= 1;
    num_bad_epochs_ = 0;  // bad epochs in cooldown don't count
  }
  std::vector<ParamGroup>& groups = optimizer_.param_groups();
  EMBER_CHECK(groups.size() == min_lrs_.size(), "ReduceLROnPlateau: the optimizer has ",
              groups.size(), " param group(s) but the scheduler was created for ", min_lrs_.size());
  if (num_bad_epochs_ > options_.patience) {
    for (size_t i = 0; i < groups.size(); ++i) {
      const double old_lr = groups[i].get("lr");
      const double new_lr = std::max(old_lr * options_.factor, min_lrs_[i]);
      if (old_lr - new_lr > options_.eps) groups[i].lr = new_lr;
    }
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  last_lr_ = current_lrs(optimizer_);
}

StateDict ReduceLROnPlateau::state_dict() const {
  return {{"best", scalar64(best_)},
          {"num_bad_epochs", scalar64(static_cast<double>(num_bad_epochs_))},
          {"cooldown_counter", scalar64(static_cast<double>(cooldown_counter_))},
          {"last_epoch", scalar64(static_cast<double>(last_epoch_))},
          {"last_lr", from_vector(last_lr_)}};
}

void ReduceLROnPlateau::load_state_dict(const StateDict& sd) {
  KeyReader r(sd, "ReduceLROnPlateau",
              {"best", "num_bad_epochs", "cooldown_counter", "last_epoch", "last_lr"});
  std::vector<double> last = r.list("last_lr", optimizer_.param_groups().size());
  const double best = r.scalar("best");
  const int64_t bad = r.count("num_bad_epochs"), cool = r.count("cooldown_counter"),
                epoch = r.count("last_epoch");
  best_ = best;
  num_bad_epochs_ = bad;
  cooldown_counter_ = cool;
  last_epoch_ = epoch;
  last_lr_ = std::move(last);
}

}  // namespace ember::optim
