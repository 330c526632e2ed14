// `ember train --distributed` end to end under mpirun: the Fashion-MNIST MLP (50 steps) and the
// austen_char GPT (a few steps) reach the one-process parameters with the same global batch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "ember/ember.h"

namespace ember::train {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<dist::ProcessGroup> world() {
  static std::shared_ptr<dist::ProcessGroup> g = dist::init_process_group({.timeout_seconds = 120});
  return g;
}

// The model tensors of a run's last checkpoint.
std::map<std::string, Tensor> last_model(const std::string& run_dir) {
  std::map<std::string, Tensor> out;
  for (const auto& [k, t] : load_checkpoint(run_dir + "/checkpoints", "last").tensors)
    if (k.starts_with("model.")) out[k] = t;
  return out;
}

// Trains config once on rank 0 alone, then on all ranks together, and compares the parameters.
void check_fit_matches(const std::string& config, const std::vector<std::string>& overrides,
                       bool zero) {
  auto g = world();
  ASSERT_EQ(chdir(EMBER_SOURCE_DIR), 0);
  const std::string base = std::string(EMBER_TEST_TMPDIR) + "/dist_fit/" +
                           fs::path(config).stem().string() + (zero ? "_zero" : "");
  std::string error;  // rank 0's one-process run; the other ranks learn whether it failed
  if (g->rank() == 0) try {
      fs::remove_all(base);
      const TrainConfig cfg = load_train_config(config, overrides);
      fit(cfg, {.run_dir = base + "/one", .progress = ProgressMode::Quiet});
    } catch (const std::exception& e) {
      error = e.what();
    }
  Tensor failed = full({1}, error.empty() ? 0.0 : 1.0, kInt64);
  g->broadcast(failed, 0);
  ASSERT_EQ(failed.item(), 0) << "the one-process run failed: " << error;
  const TrainConfig cfg = load_train_config(config, overrides);
  const TrainResult r = fit(
      cfg, {.run_dir = base + "/ranks", .progress = ProgressMode::Quiet, .group = g, .zero = zero});
  EXPECT_GT(r.comm.syncs, 0);
  g->barrier();
  if (g->rank() != 0) {
    EXPECT_FALSE(fs::exists(base + "/ranks/report.html")) << "only rank 0 writes";
    return;
  }
  const auto one = last_model(base + "/one"), ranks = last_model(base + "/ranks");
  ASSERT_EQ(one.size(), ranks.size());
  // Relative error of each tensor, |a - b| / |b| (2-norms). Elementwise, a few entries differ
  // more: Adam scales every gradient entry to a step of about lr, also one that is only rounding
  // noise of a cancelling sum. The key part of the attention's input bias is all noise: adding a
  // constant to every key of a query leaves its softmax unchanged, so its exact gradient is zero
  // and its value (in one process too) is rounding noise that never changes the model's output.
  for (auto [name, t] : one) {
    Tensor u = ranks.at(name);
    if (name.ends_with("attn.c_attn.bias")) {  // (3C): query, key, value; skip the keys
      const int64_t C = t.size(0) / 3;
      t = cat({t.narrow(0, 0, C), t.narrow(0, 2 * C, C)});
      u = cat({u.narrow(0, 0, C), u.narrow(0, 2 * C, C)});
    }
    const double norm = std::sqrt(t.pow(2).sum().item());
    if (norm == 0) {
      EXPECT_EQ(u.abs().max().item(), 0.0) << name;
      continue;
    }
    const double rel = std::sqrt((t - u).pow(2).sum().item()) / norm;
    EXPECT_LE(rel, 1e-5) << config << ": " << name << " (largest entry difference "
                         << (t - u).abs().max().item() << " of max |value| " << t.abs().max().item()
                         << ")";
  }
  // Both runs really trained and wrote their metrics.
  EXPECT_TRUE(fs::exists(base + "/ranks/metrics.csv"));
}

TEST(DistributedFit, FashionMnistMlpFiftySteps) {
  check_fit_matches(
      "examples/fmnist_mlp.toml",
      {"training.steps=50", "training.batch_size=96", "output.plots=false", "output.report=false"},
      false);
}

TEST(DistributedFit, FashionMnistMlpZeroOne) {
  check_fit_matches(
      "examples/fmnist_mlp.toml",
      {"training.steps=50", "training.batch_size=96", "output.plots=false", "output.report=false"},
      true);
}

TEST(DistributedFit, AustenCharGptFewSteps) {
  check_fit_matches("examples/austen_char.toml",
                    {"training.steps=4", "schedule.warmup_steps=2", "training.batch_size=12",
                     "data.val_fraction=0.01", "output.plots=false", "output.report=false"},
                    false);
}

TEST(DistributedFit, ResumeWithZeroContinuesExactly) {
  // A sharded run stopped after 7 steps and resumed ends where the uninterrupted one ends, to the
  // bit: the checkpoint holds the whole optimizer state, gathered from the ranks and split again.
  auto g = world();
  ASSERT_EQ(chdir(EMBER_SOURCE_DIR), 0);
  const std::string base = std::string(EMBER_TEST_TMPDIR) + "/dist_fit/resume";
  if (g->rank() == 0) fs::remove_all(base);
  g->barrier();
  const TrainConfig cfg = load_train_config(
      "examples/fmnist_mlp.toml",
      {"training.steps=15", "training.batch_size=96", "output.plots=false", "output.report=false"});
  const TrainOptions whole = {
      .run_dir = base + "/whole", .progress = ProgressMode::Quiet, .group = g, .zero = true};
  fit(cfg, whole);
  TrainOptions part = whole;
  part.run_dir = base + "/part";
  part.stop_after_steps = 7;
  EXPECT_TRUE(fit(cfg, part).interrupted);
  part.resume = true;
  part.stop_after_steps = 0;
  EXPECT_EQ(fit(cfg, part).steps, 15);
  g->barrier();
  if (g->rank() != 0) return;
  const Checkpoint a = load_checkpoint(base + "/whole/checkpoints", "last");
  const Checkpoint b = load_checkpoint(base + "/part/checkpoints", "last");
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  size_t optimizer_tensors = 0;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    ASSERT_EQ(a.tensors[i].first, b.tensors[i].first);
    optimizer_tensors += a.tensors[i].first.starts_with("optimizer.state.");
    EXPECT_EQ(
        (a.tensors[i].second.to(kFloat64) - b.tensors[i].second.to(kFloat64)).abs().max().item(),
        0.0)
        << a.tensors[i].first;
  }
  EXPECT_EQ(optimizer_tensors, 3 * 6u) << "step, exp_avg, exp_avg_sq of all 6 parameters";
}

}  // namespace
}  // namespace ember::train
