// The training loop: forward, loss, backward, (accumulate, clip) update, evaluate, checkpoint.
#include "ember/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "ember/autograd/grad_mode.h"
#include "ember/core/generator.h"
#include "ember/core/matmul_precision.h"
#include "ember/data/loader.h"
#include "ember/dist/zero.h"
#include "ember/io/file.h"
#include "ember/models/models.h"
#include "ember/ops/creation.h"
#include "ember/optim/clip_grad.h"
#include "ember/train/checkpoint.h"
#include "ember/train/factory.h"
#include "ember/train/history.h"
#include "ember/train/pipeline.h"
#include "ember/train/recommend.h"
#include "ember/train/run_files.h"

namespace ember::train {

namespace fs = std::filesystem;

namespace {

// Everything besides tensors that a checkpoint restores, so a resumed run continues exactly.
struct LoopState {
  int64_t step = 0;     // optimizer steps done
  int64_t epoch = 0;    // current epoch
  int64_t batch = 0;    // next batch of the current epoch
  double loss_sum = 0;  // training loss since the last evaluation
  int64_t loss_count = 0;
  double best = NAN;  // best monitored value so far
  int64_t best_step = -1;
  int64_t bad_evals = 0;  // evaluations without improvement (early stopping)
  History history;
};

double lookup(const Metrics& m, const std::string& name) {
  for (const auto& [k, v] : m)
    if (k == name) return v;
  return NAN;
}

// The model (and, when given, the optimizer and scheduler) state as named tensors (one
// safetensors file).
io::NamedTensors checkpoint_tensors(const nn::Module& model, const optim::StateDict* opt,
                                    const Scheduler* sched) {
  io::NamedTensors t;
  for (const auto& [k, v] : model.state_dict()) t.emplace_back("model." + k, v);
  if (opt)
    for (const auto& [k, v] : *opt) t.emplace_back("optimizer." + k, v);
  if (sched)
    for (const auto& [k, v] : sched->state_dict()) t.emplace_back("scheduler." + k, v);
  return t;
}

// Splits checkpoint tensors back by prefix.
std::vector<std::pair<std::string, Tensor>> with_prefix(const io::NamedTensors& all,
                                                        const std::string& prefix) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto& [k, v] : all)
    if (k.starts_with(prefix)) out.emplace_back(k.substr(prefix.size()), v);
  return out;
}

json::Value state_to_json(const LoopState& s) {
  json::Value j = json::Value::object();
  j["epoch"] = s.epoch;
  j["batch"] = s.batch;
  j["loss_sum"] = s.loss_sum;
  j["loss_count"] = s.loss_count;
  j["best"] = std::isnan(s.best) ? json::Value() : json::Value(s.best);
  j["best_step"] = s.best_step;
  j["bad_evals"] = s.bad_evals;
  j["history"] = s.history.to_json();
  j["rng"] = generator_state_to_json(default_generator().state());
  return j;
}

LoopState state_from_json(const json::Value& j) {
  LoopState s;
  s.step = j["step"].as_int();
  s.epoch = j["epoch"].as_int();
  s.batch = j["batch"].as_int();
  s.loss_sum = j["loss_sum"].as_double();
  s.loss_count = j["loss_count"].as_int();
  s.best = j["best"].is_null() ? NAN : j["best"].as_double();
  s.best_step = j["best_step"].as_int();
  s.bad_evals = j["bad_evals"].as_int();
  s.history = History::from_json(j["history"]);
  default_generator().set_state(generator_state_from_json(j["rng"]));
  return s;
}

// The config a resumed run must match: everything but [output] and the run's length.
TrainConfig resumable_part(TrainConfig c) {
  c.output = {};
  c.training.epochs = c.training.steps = 0;
  c.source.clear();
  return c;
}

// training.monitor must name a metric this task computes.
void check_monitor(const TrainConfig& cfg, const std::string& monitor, data::Task task) {
  if (monitor == "train_loss") return;
  const bool classification = task == data::Task::Classification;
  const std::vector<std::string> names =
      task == data::Task::LanguageModel
          ? std::vector<std::string>{"val_loss", "val_perplexity", "val_accuracy"}
      : classification
          ? std::vector<std::string>{"val_loss", "val_accuracy", "val_precision", "val_recall",
                                     "val_f1",   "val_roc_auc",  "val_log_loss"}
          : std::vector<std::string>{"val_loss", "val_mse", "val_rmse", "val_mae", "val_r2"};
  std::string allowed = "train_loss";
  for (const auto& n : names) allowed += ", " + n;
  EMBER_CHECK_T(ConfigError, std::find(names.begin(), names.end(), monitor) != names.end(),
                cfg.source, ": training.monitor = \"", monitor, "\" is not computed for a ",
                task == data::Task::LanguageModel ? "language model"
                : classification                  ? "classification"
                                                  : "regression",
                "; allowed: ", allowed);
}

// Sets the float32 matmul precision for one run and restores the caller's afterwards.
class MatmulPrecisionScope {
 public:
  explicit MatmulPrecisionScope(const std::string& precision) {
    set_float32_matmul_precision(precision);
  }
  ~MatmulPrecisionScope() { set_float32_matmul_precision(saved_); }
  MatmulPrecisionScope(const MatmulPrecisionScope&) = delete;
  MatmulPrecisionScope& operator=(const MatmulPrecisionScope&) = delete;

 private:
  std::string saved_ = get_float32_matmul_precision();
};

}  // namespace

TrainResult fit(const TrainConfig& cfg, const TrainOptions& opts) {
  const TrainingConfig& tc = cfg.training;
  const std::string ckpt_dir = (fs::path(opts.run_dir) / "checkpoints").string();
  if (opts.resume) {
    EMBER_CHECK_T(ConfigError, fs::is_directory(opts.run_dir), "--resume ", opts.run_dir,
                  ": no such run directory");
    EMBER_CHECK_T(ConfigError, has_checkpoint(ckpt_dir, "last"), "--resume ", opts.run_dir,
                  ": no checkpoint to resume from (", ckpt_dir, "/last.json is missing)");
    const TrainConfig saved = load_run_config(opts.run_dir);
    EMBER_CHECK_T(ConfigError, resumable_part(saved) == resumable_part(cfg), "--resume ",
                  opts.run_dir, ": the config differs from the run's config.toml (only [output] ",
                  "and training.epochs/steps may change when resuming)");
  }

  // Note [Distributed training]
  // Every rank runs this loop on the same config, data and seed. Each takes a shard of every
  // global batch (DataLoaderOptions::num_replicas), DDP averages the gradients, so every rank makes
  // the same update and holds the same model. Every rank evaluates and takes the same decisions
  // (best model, early stopping); rank 0 alone writes the run directory. Resuming reads the
  // checkpoint on every rank, so the run directory must be visible to all of them.
  const std::shared_ptr<dist::ProcessGroup>& group = opts.group;
  const int world = group ? group->size() : 1;
  const bool lead = !group || group->rank() == 0;
  EMBER_CHECK_T(ConfigError, tc.batch_size % world == 0, cfg.source,
                ": training.batch_size = ", tc.batch_size,
                " (the global batch) must be divisible by the ", world, " ranks");

  const MatmulPrecisionScope precision(tc.matmul_precision);

  // Data, model, loss, optimizer, schedule.
  PreparedData data = prepare_data(cfg);
  const std::string loss_name = resolve_loss(cfg, data.pre.task(), data.pre.num_classes());
  manual_seed(static_cast<uint64_t>(tc.seed));
  auto model = models::create_model(cfg.model, data.pre, output_size(loss_name, data.pre));
  if (!cfg.model.init.empty() && !opts.resume) {  // fine-tuning: start from trained weights
    const auto loaded = init_from(*model, cfg.model.init);
    if (opts.progress != ProgressMode::Quiet)
      std::fprintf(stderr, "model.init: %zu of %zu tensors from %s; the others start random\n",
                   loaded.size(), model->state_dict().size(), cfg.model.init.c_str());
  }
  if (!opts.device.is_cpu()) model->to(opts.device);
  data::DataLoaderOptions lo;
  lo.batch_size = tc.batch_size / world;
  lo.num_replicas = world;
  lo.rank = group ? group->rank() : 0;
  lo.shuffle = tc.shuffle;
  lo.drop_last = tc.drop_last;
  lo.seed = static_cast<uint64_t>(tc.seed);
  lo.prefetch = static_cast<int>(tc.prefetch);
  lo.transform = data.augment;
  lo.num_workers = static_cast<int>(tc.workers);
  data::DataLoader loader(data.train.x, data.train.y, lo);
  EMBER_CHECK_T(ConfigError, loader.batches_per_epoch() > 0, cfg.source,
                ": training.batch_size = ", tc.batch_size, " with drop_last leaves no batch for ",
                loader.size(), " training rows");
  const int64_t bpe = loader.batches_per_epoch();
  const int64_t steps_per_epoch = (bpe + tc.grad_accum - 1) / tc.grad_accum;
  const int64_t total_steps = tc.steps > 0 ? tc.steps : tc.epochs * steps_per_epoch;
  const int64_t max_epochs =
      tc.steps > 0 ? (tc.steps + steps_per_epoch - 1) / steps_per_epoch : tc.epochs;
  const bool has_val = data.val.size() > 0;
  std::string monitor = tc.monitor;
  if (!has_val && monitor.starts_with("val_")) monitor = "train_loss";
  check_monitor(cfg, monitor, data.pre.task());
  const bool higher = higher_is_better(monitor);
  std::unique_ptr<dist::DistributedDataParallel> ddp;
  std::unique_ptr<dist::ZeroShards> zero;
  if (group) {
    ddp = std::make_unique<dist::DistributedDataParallel>(
        *model, group, dist::DDPOptions{.bucket_cap_mb = opts.bucket_cap_mb});
    if (opts.zero) {
      zero = std::make_unique<dist::ZeroShards>(model->parameters(), group);
      EMBER_CHECK_T(ConfigError, !zero->local_params().empty(), "--zero: rank ", group->rank(),
                    " would own none of the model's ", model->parameters().size(),
                    " parameter tensors; use fewer ranks or no --zero");
    }
  }
  std::unique_ptr<optim::Optimizer> opt =
      make_optimizer(cfg.optimizer, zero ? zero->local_params() : model->parameters());
  std::unique_ptr<Scheduler> sched = make_scheduler(cfg.schedule, *opt, total_steps, higher);

  // The run directory; on resume, the last checkpoint.
  LoopState st;
  if (opts.resume) {
    Checkpoint c = load_checkpoint(ckpt_dir, "last");
    model->load_state_dict(nn::StateDict(with_prefix(c.tensors, "model.")));
    const optim::StateDict opt_state = with_prefix(c.tensors, "optimizer.");
    opt->load_state_dict(zero ? zero->local_state_dict(opt_state) : opt_state);
    sched->load_state_dict(with_prefix(c.tensors, "scheduler."));
    st = state_from_json(c.state);
  } else if (lead) {
    write_run_files(opts.run_dir, cfg, data, loss_name);
  }

  Progress progress(opts.progress, total_steps, max_epochs, tc.log_every);
  const data::Task task = data.pre.task();
  const std::string main_metric = !has_val                             ? "train_loss"
                                  : task == data::Task::Classification ? "val_accuracy"
                                  : task == data::Task::LanguageModel  ? "val_loss"
                                                                       : "val_r2";
  if (opts.resume)
    progress.message("resuming " + opts.run_dir + " at step " + std::to_string(st.step) +
                     " (epoch " + std::to_string(st.epoch + 1) + ")");

  // Note [Checkpoint cadence]
  // The best model is kept in memory when it improves and written together with the last state:
  // at every checkpoint_every-th epoch end (or val_every evaluation), but at most once every
  // kMinCheckpointSeconds, and always when this process stops. Resuming from any checkpoint
  // reproduces the uninterrupted run, so the cadence trades only the work a crash can lose for
  // time: fsyncs cost milliseconds, and a small model's epoch can be shorter than that.
  constexpr double kMinCheckpointSeconds = 10;
  Checkpoint best;  // the best model's checkpoint not yet on disk (empty: nothing pending)
  auto last_save = std::chrono::steady_clock::time_point{};
  // Never let a diverged model replace a good checkpoint (a NaN shows in the loss only later).
  auto check_finite = [&] {
    for (const Tensor& p : model->parameters())
      EMBER_CHECK_T(RunError, std::isfinite(p.abs().sum().item()), "step ", st.step,
                    ": the parameters are no longer finite; stopped. Try a lower optimizer.lr ",
                    "or training.grad_clip. The last good checkpoint is kept in ", ckpt_dir);
  };
  auto snapshot = [&](bool model_only) {
    check_finite();
    optim::StateDict opt_state;
    if (!model_only)
      opt_state = zero ? zero->gather_state_dict(opt->state_dict()) : opt->state_dict();
    io::NamedTensors t = checkpoint_tensors(*model, model_only ? nullptr : &opt_state,
                                            model_only ? nullptr : sched.get());
    for (auto& [name, tensor] : t)
      tensor = tensor.device().is_cpu() ? tensor.clone() : tensor.cpu();
    return Checkpoint{std::move(t), state_to_json(st)};
  };
  auto save = [&](bool force) {
    const auto now = std::chrono::steady_clock::now();
    bool due = force || last_save == std::chrono::steady_clock::time_point{} ||
               std::chrono::duration<double>(now - last_save).count() >= kMinCheckpointSeconds;
    if (group) {  // rank 0's clock decides, so that every rank takes part in ZeRO's gather
      Tensor flag = full({1}, due ? 1.0 : 0.0, kInt64);
      group->broadcast(flag, 0);
      due = flag.item() != 0;
    }
    if (!due) return;
    last_save = now;
    if (!lead) {  // rank 0 writes; the others fail with it and take part in ZeRO's gather
      check_finite();
      if (zero) zero->gather_state_dict(opt->state_dict());
      return;
    }
    Checkpoint last = snapshot(/*model_only=*/false);
    if (!best.tensors.empty()) {
      save_checkpoint(ckpt_dir, "best", best.state["step"].as_int(), best);
      best = {};
    }
    save_checkpoint(ckpt_dir, "last", st.step, last);
    st.history.write_csv((fs::path(opts.run_dir) / "metrics.csv").string());
  };

  // One evaluation: history row, best checkpoint, early stopping, plateau schedule.
  bool stop_early = false;
  auto evaluate_now = [&] {
    Metrics row = {{"lr", sched->lr()},
                   {"train_loss", st.loss_count ? st.loss_sum / st.loss_count : NAN}};
    st.loss_sum = 0;
    st.loss_count = 0;
    for (const auto& m : evaluate(*model, data.val, loss_name, data.pre, "val_")) row.push_back(m);
    st.history.add(st.epoch + 1, st.step, row);
    const double value = lookup(row, monitor);  // NaN (e.g. roc_auc of a one-class split): no gain
    if (lookup(row, main_metric) == lookup(row, main_metric))
      progress.set_metric(main_metric, lookup(row, main_metric));
    const bool improved =
        !std::isnan(value) && (std::isnan(st.best) || (higher ? value > st.best : value < st.best));
    if (improved) {
      st.best = value;
      st.best_step = st.step;
      st.bad_evals = 0;
      check_finite();  // on every rank, so that all stop together
      if (lead) {      // only rank 0 writes it
        best = snapshot(/*model_only=*/true);
        best.state["step"] = st.step;
      }
    } else {
      ++st.bad_evals;
    }
    sched->step_eval(value);
    stop_early = tc.early_stopping > 0 && st.bad_evals >= tc.early_stopping;
    if (opts.verbose) {
      std::string line =
          "epoch " + std::to_string(st.epoch + 1) + " step " + std::to_string(st.step);
      for (const auto& [k, v] : row) line += "  " + k + " " + std::to_string(v);
      progress.message(line);
    }
  };

  TrainResult result;
  result.run_dir = opts.run_dir;
  const int64_t first_step = st.step;
  const auto t0 = std::chrono::steady_clock::now();
  auto done = [&] { return st.step >= total_steps || stop_early; };
  auto interrupted = [&] {
    return opts.stop_after_steps > 0 && st.step - first_step >= opts.stop_after_steps;
  };
  model->train();
  while (!done() && !interrupted() && st.epoch < max_epochs) {
    loader.start_epoch(st.epoch, st.batch);
    while (auto batch = loader.next()) {
      // Gradient accumulation: a window of grad_accum batches (shorter at the epoch's end) makes
      // one step; each batch's loss is scaled by 1 / window so the step sees the window's mean.
      const int64_t window_start = batch->index / tc.grad_accum * tc.grad_accum;
      const int64_t window = std::min(tc.grad_accum, bpe - window_start);
      const bool last_of_window = batch->index + 1 == window_start + window;
      if (ddp) ddp->set_require_gradient_sync(last_of_window);  // no_sync while accumulating
      Tensor loss =
          compute_loss(loss_name, (*model)(batch->x.to(opts.device)), batch->y.to(opts.device));
      double loss_value = loss.item();
      if (group) {  // the global batch's loss, so every rank logs and checks the same value
        Tensor l = full({1}, loss_value, kFloat64);
        group->allreduce(l, dist::ReduceOp::Avg);
        loss_value = l.item();
      }
      if (!std::isfinite(loss_value)) {
        progress.finish();
        EMBER_THROW(RunError, "step ", st.step + 1, " (epoch ", st.epoch + 1, ", batch ",
                    batch->index + 1, "): the training loss is ", loss_value,
                    "; stopped. Try a lower optimizer.lr or training.grad_clip. The last good ",
                    "checkpoint is kept in ", ckpt_dir);
      }
      (window > 1 ? loss / static_cast<double>(window) : loss).backward();
      st.loss_sum += loss_value;
      ++st.loss_count;
      if (!last_of_window) continue;
      if (ddp) ddp->sync_gradients();
      if (tc.grad_clip > 0) optim::clip_grad_norm_(model->parameters(), tc.grad_clip);
      opt->step();
      if (zero) zero->broadcast_parameters();
      model->zero_grad();  // the optimizer may hold only this rank's share (ZeRO)
      sched->step();
      ++st.step;
      st.batch = batch->index + 1;
      progress.update(st.step, st.epoch + 1, loss_value);
      if (tc.val_every > 0 && st.step % tc.val_every == 0) {
        evaluate_now();
        save(/*force=*/false);
      }
      if (done() || interrupted()) break;
    }
    if (st.batch >= bpe) {  // the epoch is complete
      if (tc.val_every == 0) evaluate_now();
      ++st.epoch;
      st.batch = 0;
      const int64_t every = cfg.output.checkpoint_every;
      if (done() || interrupted() || stop_early)
        save(/*force=*/true);
      else if (every > 0 && st.epoch % every == 0)
        save(/*force=*/false);
    } else if (interrupted() || done()) {
      // A run that ends mid-epoch (training.steps) still gets its final evaluation.
      const std::vector<double> evaluated = st.history.steps();
      const bool fresh = !evaluated.empty() && evaluated.back() == static_cast<double>(st.step);
      if (done() && !fresh) evaluate_now();
      save(/*force=*/true);
    }
  }
  progress.finish();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.loader_wait_seconds = loader.wait_seconds();
  result.steps = st.step;
  result.epochs = st.epoch;
  result.best_step = st.best_step;
  result.stopped_early = stop_early;
  result.interrupted = !done() && interrupted();
  if (ddp) {  // the distributed report (one-process runs skip copying the optimizer state)
    result.comm = ddp->stats();
    result.optimizer_state_bytes = dist::state_bytes(opt->state_dict());
    result.optimizer_state_bytes_total = result.optimizer_state_bytes;
    if (zero) {  // the shards add up to the whole
      Tensor total = full({1}, static_cast<double>(result.optimizer_state_bytes), kFloat64);
      group->allreduce(total, dist::ReduceOp::Sum);
      result.optimizer_state_bytes_total = static_cast<size_t>(total.item());
    }
  }
  if (result.interrupted || !lead) return result;

  // The best model (by the monitored metric) is the run's model: test it and write the outputs.
  if (has_checkpoint(ckpt_dir, "best"))
    model->load_state_dict(
        nn::StateDict(with_prefix(load_checkpoint(ckpt_dir, "best").tensors, "model.")));
  const SplitData& final_split = data.test.size() > 0 ? data.test : data.val;
  const std::string prefix = data.test.size() > 0 ? "test_" : "val_";
  result.final_metrics = evaluate(*model, final_split, loss_name, data.pre, prefix);
  if (data.pre.is_fields())
    for (const auto& m : ctr_ranking_metrics(*model, cfg, data, final_split.rows, prefix))
      result.final_metrics.push_back(m);
  write_run_outputs(opts.run_dir, cfg, data, loss_name, *model, st.history, result);
  return result;
}

}  // namespace ember::train
