// The Trainer end to end: the founding document's regression, the example datasets' acceptance
// bars, bit-for-bit resume, and a diverging run that stops with a clear error.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "ember/ember.h"
#include "support/expect.h"
#include "support/tmpdir.h"

namespace fs = std::filesystem;
using namespace ember;
using ember::testing::expect_error;

namespace {

const std::string kSource = EMBER_SOURCE_DIR;

fs::path fresh_dir(const std::string& name) {
  return ember::testing::fresh_dir("train_trainer", name);
}

// An example config with its data path made absolute (tests run from the build directory).
train::TrainConfig example(const std::string& name, std::vector<std::string> overrides = {}) {
  const std::string config = kSource + "/examples/" + name + ".toml";
  const std::string data = kSource + "/data/" + name + ".csv";
  if (name != "linreg") {
    if (!fs::exists(data))
      ADD_FAILURE() << data << " is missing: run scripts/get-data.sh (make test does)";
    overrides.push_back("data.path=" + data);
  }
  overrides.push_back("output.plots=false");
  return train::load_train_config(config, overrides);
}

train::TrainResult run(const train::TrainConfig& cfg, const fs::path& dir, bool resume = false,
                       int64_t stop_after = 0) {
  train::TrainOptions o;
  o.run_dir = dir.string();
  o.resume = resume;
  o.progress = train::ProgressMode::Quiet;
  o.stop_after_steps = stop_after;
  return train::fit(cfg, o);
}

double metric(const train::Metrics& m, const std::string& name) {
  for (const auto& [k, v] : m)
    if (k == name) return v;
  ADD_FAILURE() << "no metric " << name;
  return NAN;
}

std::map<std::string, std::vector<float>> last_tensors(const fs::path& dir) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [k, v] : train::load_checkpoint((dir / "checkpoints").string(), "last").tensors)
    out[k] = v.to(kFloat32).contiguous().to_vector<float>();
  return out;
}

}  // namespace

// The founding document's y = 3 x1 + 2 x2 + noise: gradient descent reaches the least-squares
// solution of the training split.
TEST(TrainTrainer, LinearRegressionRecoversLeastSquares) {
  const train::TrainConfig cfg = example("linreg");
  const fs::path dir = fresh_dir("linreg");
  run(cfg, dir);
  const train::PreparedData d = train::prepare_data(cfg);
  const Tensor a = cat({d.train.x, ones({d.train.size(), 1})}, 1);  // [x1, x2, 1]
  const std::vector<double> want =
      linalg::lstsq(a.to(kFloat64), d.train.y.to(kFloat64)).reshape({3}).to_vector<double>();
  EXPECT_NEAR(want[0], 3.0, 0.05);  // the data really is y = 3 x1 + 2 x2 + noise
  EXPECT_NEAR(want[1], 2.0, 0.05);
  const train::LoadedRun r = train::load_run(dir.string());
  const nn::StateDict sd = r.model->state_dict();
  const std::vector<float> w = sd.at("0.weight").to_vector<float>();
  const float b = sd.at("0.bias").item<float>();
  EXPECT_NEAR(w[0], want[0], 1e-3);
  EXPECT_NEAR(w[1], want[1], 1e-3);
  EXPECT_NEAR(b, want[2], 1e-3);
}

// The acceptance bars on the held-out test split, and `ember eval` (load_run + evaluate)
// agrees with what training reported.
TEST(TrainTrainer, ExampleDatasetsReachTheirTargets) {
  const std::vector<std::tuple<std::string, std::string, double>> cases = {
      {"iris", "test_accuracy", 0.93},
      {"wine", "test_accuracy", 0.95},
      {"breast_cancer", "test_accuracy", 0.95},
      {"digits", "test_accuracy", 0.95},
      {"diabetes", "test_r2", 0.40}};
  for (const auto& [name, key, bar] : cases) {
    const train::TrainConfig cfg = example(name);
    const fs::path dir = fresh_dir(name);
    const train::TrainResult r = run(cfg, dir);
    EXPECT_GE(metric(r.final_metrics, key), bar) << name;
    train::LoadedRun loaded = train::load_run(dir.string());
    const train::PreparedData d = train::prepare_data(cfg);
    const train::Metrics again =
        train::evaluate(*loaded.model, d.test, loaded.loss, loaded.pre, "test_");
    EXPECT_EQ(metric(again, key), metric(r.final_metrics, key)) << name;
  }
}

// Interrupt a run (mid-epoch, twice), resume it, and get bit-identical parameters, optimizer
// state and metrics. Dropout, gradient accumulation and mid-epoch evaluation are all on.
TEST(TrainTrainer, ResumeReproducesTheUninterruptedRun) {
  const train::TrainConfig cfg =
      example("wine", {"training.epochs=12", "training.grad_accum=3", "training.val_every=5",
                       "training.early_stopping=0", "model.dropout=0.3"});
  const fs::path full = fresh_dir("resume_full"), parts = fresh_dir("resume_parts");
  const train::TrainResult a = run(cfg, full);
  const train::TrainResult p1 = run(cfg, parts, false, 7);
  EXPECT_TRUE(p1.interrupted);
  EXPECT_EQ(p1.steps, 7);
  const train::TrainResult p2 = run(cfg, parts, true, 25);
  EXPECT_TRUE(p2.interrupted);
  EXPECT_EQ(p2.steps, 32);
  const train::TrainResult b = run(cfg, parts, true);
  EXPECT_FALSE(b.interrupted);
  EXPECT_EQ(a.steps, b.steps);
  EXPECT_EQ(a.best_step, b.best_step);
  ASSERT_EQ(a.final_metrics.size(), b.final_metrics.size());
  for (size_t i = 0; i < a.final_metrics.size(); ++i)
    EXPECT_EQ(a.final_metrics[i], b.final_metrics[i]);
  EXPECT_EQ(last_tensors(full), last_tensors(parts));
  EXPECT_EQ(io::read_file((full / "metrics.csv").string()),
            io::read_file((parts / "metrics.csv").string()));
}

TEST(TrainTrainer, MonitorMustFitTheTask) {
  expect_error<ConfigError>(
      [&] { run(example("iris", {"training.monitor=val_r2"}), fresh_dir("monitor")); },
      {"training.monitor", "val_r2", "classification", "val_accuracy"});
}

TEST(TrainTrainer, ResumeChecksTheRunDirectory) {
  const train::TrainConfig cfg = example("iris");
  expect_error<ConfigError>([&] { run(cfg, fresh_dir("resume_check") / "nowhere", true); },
                            {"nowhere", "no such run directory"});
  expect_error<ConfigError>([&] { run(cfg, fresh_dir("empty_run"), true); },
                            {"empty_run", "no checkpoint to resume from"});
  const fs::path dir = fresh_dir("changed");
  run(cfg, dir, false, 3);
  const train::TrainConfig other = example("iris", {"optimizer.lr=0.5"});
  expect_error<ConfigError>([&] { run(other, dir, true); }, {"config differs"});
}

// A learning rate far too high: the run stops with RunError, and the checkpoint it keeps holds
// finite parameters.
TEST(TrainTrainer, DivergingRunStopsAndKeepsTheLastGoodCheckpoint) {
  const train::TrainConfig cfg = example("linreg", {"optimizer.lr=1e6", "training.epochs=200"});
  const fs::path dir = fresh_dir("diverge");
  expect_error<train::RunError>([&] { run(cfg, dir); }, {"step", "stopped", "checkpoint"});
  if (train::has_checkpoint((dir / "checkpoints").string(), "last")) {
    for (const auto& [name, values] : last_tensors(dir))
      for (float v : values) ASSERT_TRUE(std::isfinite(v)) << name;
  }
}

TEST(TrainTrainer, RunEndingMidEpochIsStillEvaluated) {
  // iris: 90 training rows in batches of 16 make 6 steps an epoch; stop after 4.
  const train::TrainConfig cfg = example("iris", {"training.steps=4", "training.val_every=0"});
  const fs::path dir = fresh_dir("mid_epoch");
  const train::TrainResult r = run(cfg, dir);
  EXPECT_EQ(r.steps, 4);
  EXPECT_EQ(r.best_step, 4);  // the final evaluation at step 4 is the only one, so the best
  EXPECT_TRUE(train::has_checkpoint((dir / "checkpoints").string(), "best"));
}
