// The image side of the ember command: top-k predictions for an image file and attribution maps.
#include "image_commands.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "ember/data/image.h"
#include "ember/ember.h"
#include "ember/train/explain.h"
#include "ember/train/figures.h"
#include "text_commands.h"

namespace fs = std::filesystem;

namespace ember::cli {

namespace {

void check_image_run(const train::LoadedRun& run, const char* command) {
  EMBER_CHECK_T(ConfigError, run.pre.is_image(), run.run_dir, ": this run was trained on ",
                run.pre.is_fields() ? "CTR fields (its report lists the first-order weights)"
                                    : "tabular data",
                "; ", command, " with an image needs an image classifier run");
}

train::LoadedRun load_image_run(const std::string& run_dir, const char* command) {
  train::LoadedRun run = train::load_run(run_dir);
  check_image_run(run, command);
  return run;
}

// The image file as the model's normalized input (1, C, H, W); its size must be the model's.
Tensor image_input(const train::LoadedRun& run, const std::string& path) {
  const data::ImageSpec& im = run.pre.image();
  const Tensor pixels = data::read_image(path, im.channels);
  EMBER_CHECK_SHAPE(pixels.size(1) == im.height && pixels.size(2) == im.width, path,
                    ": the model expects images of ", im.channels, "x", im.height, "x", im.width,
                    " (channels x height x width), got ", pixels.size(0), "x", pixels.size(1), "x",
                    pixels.size(2));
  return run.pre.normalize_pixels(pixels.unsqueeze(0));
}

}  // namespace

int predict_image(const std::string& run_dir, const std::string& image, int64_t top_k) {
  train::LoadedRun run = load_image_run(run_dir, "predict");
  const Tensor x = image_input(run, image);
  const train::Predictions p = train::predict(*run.model, x, run.loss, run.pre);
  const std::vector<float> probs = p.probs.contiguous().to_vector<float>();
  const auto classes = run.pre.class_names();
  std::vector<size_t> order(probs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return probs[a] > probs[b]; });
  std::printf("%s:\n", image.c_str());
  const size_t k = std::min(order.size(), static_cast<size_t>(top_k));
  for (size_t i = 0; i < k; ++i)
    std::printf("  %zu. %-14s %.4f\n", i + 1, classes[order[i]].c_str(), probs[order[i]]);
  return 0;
}

int explain(const ExplainArgs& a) {
  train::LoadedRun run = train::load_run(a.run_dir);
  if (run.pre.is_text_classes()) return explain_text(a, run);
  check_image_run(run, "explain");
  EMBER_CHECK_T(ConfigError, a.input.empty() != (a.index < 0),
                "give exactly one of --input IMAGE or --index N");
  Tensor x;  // (C, H, W), normalized
  int64_t truth = -1;
  std::string name;
  if (!a.input.empty()) {
    x = image_input(run, a.input).squeeze(0);
    name = fs::path(a.input).stem().string();
  } else {
    const train::TrainConfig cfg = train::load_run_config(a.run_dir);
    const train::PreparedData d = train::prepare_image_data(cfg);
    EMBER_CHECK_T(ConfigError, a.index < d.test.size(), "--index ", a.index,
                  " is out of range; the test split has ", d.test.size(), " images");
    x = d.test.x.select(0, a.index);
    truth = d.test.y.select(0, a.index).item<int64_t>();
    name = "test-" + std::to_string(a.index);
  }
  const auto classes = run.pre.class_names();
  const train::Predictions p = train::predict(*run.model, x.unsqueeze(0), run.loss, run.pre);
  const int64_t predicted = p.labels.select(0, 0).item<int64_t>();
  const int64_t target = a.target >= 0 ? a.target : predicted;
  EMBER_CHECK_T(ConfigError, target < static_cast<int64_t>(classes.size()), "--target ", target,
                " is out of range; the model has ", classes.size(), " classes");
  EMBER_CHECK_T(ConfigError, a.steps >= 1, "--steps must be >= 1");
  // The baseline is a black image (pixel value 0), in the model's normalized units.
  const Tensor baseline =
      run.pre.normalize_pixels(zeros({1, x.size(0), x.size(1), x.size(2)})).squeeze(0);
  const Tensor sal = train::saliency(*run.model, x, target, baseline);
  const Tensor ig = train::integrated_gradients(*run.model, x, baseline, target, a.steps);
  const double gap = train::target_logit(*run.model, x, target) -
                     train::target_logit(*run.model, baseline, target);
  const double total = ig.sum().item();
  const Tensor pixels = run.pre.denormalize_pixels(x.unsqueeze(0)).squeeze(0);

  std::string caption = name + ": explaining '" + classes[static_cast<size_t>(target)] +
                        "'; predicted '" + classes[static_cast<size_t>(predicted)] + "' (p = ";
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.3f)", p.probs.select(0, 0).select(0, predicted).item());
  caption += buf;
  if (truth >= 0) caption += ", true '" + classes[static_cast<size_t>(truth)] + "'";
  const std::string out =
      !a.out.empty() ? a.out : (fs::path(a.run_dir) / "explain" / (name + ".png")).string();
  if (fs::path(out).has_parent_path()) fs::create_directories(fs::path(out).parent_path());
  train::attribution_png(out, pixels, sal, ig, caption);
  std::printf("%s\n", caption.c_str());
  std::printf("integrated gradients: sum %.6g, logit(input) - logit(black) %.6g (%d steps)\n",
              total, gap, static_cast<int>(a.steps));
  std::printf("wrote %s\n", out.c_str());
  const std::string report = (fs::path(a.run_dir) / "report.html").string();
  if (fs::exists(report)) {
    train::add_report_figure(report, caption, out);
    std::printf("added to %s\n", report.c_str());
  }
  return 0;
}

}  // namespace ember::cli
