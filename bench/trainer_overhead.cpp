// Trainer overhead: epochs of the core issue's MLP (784-256-128-10, ReLU, cross-entropy, Adam,
// batch 128) through train::fit — the loop behind `ember train` — against the bare loop over the
// same tensors. Prints the ratio and how long the DataLoader made the steps wait (PF=N sets
// training.prefetch; default: the config default).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "ember/ember.h"

namespace fs = std::filesystem;
using namespace ember;

namespace {

// 12,800 rows of 784 features (100 steps of 128 per epoch) and a 10-class label.
std::string write_dataset(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path csv = dir / "mlp784.csv";
  if (fs::exists(csv)) return csv.string();
  Generator g(0);
  std::ofstream f(csv);
  for (int j = 0; j < 784; ++j) f << "p" << j << ",";
  f << "label\n";
  char buf[16];
  for (int i = 0; i < 12800; ++i) {
    for (int j = 0; j < 784; ++j) {
      std::snprintf(buf, sizeof buf, "%.3f,", g.next_double());
      f << buf;
    }
    f << g.next_below(10) << "\n";
  }
  return csv.string();
}

fs::path write_config(const fs::path& dir, const std::string& csv, int epochs) {
  const fs::path cfg = dir / "mlp784.toml";
  std::ofstream(cfg) << "[data]\npath = \"" << csv << "\"\ntarget = \"label\"\n"
                     << "split = [1.0, 0.0, 0.0]\n[preprocessing]\nnormalize = \"none\"\n"
                     << "[model]\ntype = \"mlp\"\nhidden = [256, 128]\n"
                     << "[optimizer]\nname = \"adam\"\nlr = 0.001\n"
                     << "[training]\nepochs = " << epochs << "\nbatch_size = 128\n"
                     << "monitor = \"train_loss\"\n"
                     << (std::getenv("PF") ? std::string("prefetch = ") + std::getenv("PF") + "\n"
                                           : "")
                     << "[output]\nplots = false\nreport = false\ncheckpoint_every = 0\n";
  return cfg;
}

// The bare loop: the same model, optimizer and batches, nothing else.
double bare_loop(const train::TrainConfig& cfg, const train::PreparedData& d, int epochs) {
  manual_seed(0);
  auto model = models::build_tabular_model(cfg.model, 784, 10);
  auto opt = train::make_optimizer(cfg.optimizer, model->parameters());
  const int64_t n = d.train.size(), b = cfg.training.batch_size;
  const auto t0 = std::chrono::steady_clock::now();
  for (int e = 0; e < epochs; ++e) {
    const Tensor perm = randperm(n);
    for (int64_t i = 0; i < n; i += b) {
      const Tensor idx = perm.narrow(0, i, std::min(b, n - i));
      const Tensor x = index_select(d.train.x, 0, idx), y = index_select(d.train.y, 0, idx);
      Tensor loss = nn::functional::cross_entropy((*model)(x), y);
      loss.backward();
      opt->step();
      opt->zero_grad();
    }
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

// Per-epoch cost without the fixed costs (setup, the final checkpoint): the time of `hi` epochs
// minus the time of `lo` epochs, divided by hi - lo. Trainer and bare loop alternate; the ratio is
// the median over the repeats (this machine is shared: single runs vary by 10%).
int main() {
  constexpr int lo = 2, hi = 6, repeats = 7;
  const fs::path dir = fs::temp_directory_path() / "ember_trainer_overhead";
  const std::string csv = write_dataset(dir);
  const train::TrainConfig cfg_lo = train::load_train_config(write_config(dir, csv, lo).string());
  const train::TrainConfig cfg_hi = train::load_train_config(write_config(dir, csv, hi).string());
  const train::PreparedData d = train::prepare_data(cfg_hi);
  auto fit = [&](const train::TrainConfig& cfg) {
    train::TrainOptions o;
    o.run_dir = (dir / "run").string();
    o.progress = train::ProgressMode::Quiet;
    fs::remove_all(o.run_dir);
    return train::fit(cfg, o);
  };
  std::vector<double> fit_epoch, bare_epoch, ratio, wait_per_step;
  for (int rep = 0; rep < repeats; ++rep) {
    const train::TrainResult a = fit(cfg_lo), b = fit(cfg_hi);
    fit_epoch.push_back((b.seconds - a.seconds) / (hi - lo));
    wait_per_step.push_back(b.loader_wait_seconds / static_cast<double>(b.steps));
    const double bare_lo = bare_loop(cfg_lo, d, lo), bare_hi = bare_loop(cfg_hi, d, hi);
    bare_epoch.push_back((bare_hi - bare_lo) / (hi - lo));
    ratio.push_back(fit_epoch.back() / bare_epoch.back());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("trainer_overhead: MLP 784-256-128-10, batch 128, Adam, 100 steps per epoch\n");
  std::printf("  bare loop      %8.2f ms/epoch (median of %d)\n", 1e3 * median(bare_epoch),
              repeats);
  std::printf(
      "  train::fit     %8.2f ms/epoch   median ratio %+.1f%% (runs: %+.1f%% .. %+.1f%%; target <= "
      "+5%%)\n",
      1e3 * median(fit_epoch), 100.0 * (median(ratio) - 1),
      100.0 * (*std::min_element(ratio.begin(), ratio.end()) - 1),
      100.0 * (*std::max_element(ratio.begin(), ratio.end()) - 1));
  std::printf("  loader waits   %8.1f us/step    median (prefetch %lld; target 0)\n",
              1e6 * median(wait_per_step), static_cast<long long>(cfg_hi.training.prefetch));
  return 0;
}
