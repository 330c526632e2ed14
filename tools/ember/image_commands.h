// The image side of the ember command: predict on an image file, explain a prediction.
#pragma once

#include <cstdint>
#include <string>

namespace ember::cli {

/// `ember predict RUN_DIR IMAGE`: the top_k classes with their probabilities, one per line.
int predict_image(const std::string& run_dir, const std::string& image, int64_t top_k);

/// What `ember explain` explains and how.
struct ExplainArgs {
  std::string run_dir;
  std::string input;    ///< an image file (a text file for a text classifier), or
  int64_t index = -1;   ///< a test-set index
  int64_t target = -1;  ///< class to explain; -1: the predicted class
  int64_t steps = 64;   ///< integrated-gradients steps
  std::string out;      ///< output PNG (a directory for text); "": RUN_DIR/explain/<name>.png
  int64_t layer = -1;   ///< text: the layer whose attention maps are drawn; -1: the last
};
/// `ember explain`: saliency and integrated-gradients maps (PNG), added to the run's report.
int explain(const ExplainArgs& args);

}  // namespace ember::cli
