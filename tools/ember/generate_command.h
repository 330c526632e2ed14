// `ember generate`: sample text from a trained GPT run, streaming tokens to stdout.
#pragma once

#include <cstdint>
#include <string>

namespace ember::cli {

/// What `ember generate` samples and how.
struct GenerateArgs {
  std::string model_dir;  ///< a run directory of a gpt model
  std::string prompt = "\n";
  int64_t max_new_tokens = 200;
  double temperature = 0.8;
  int64_t top_k = 0;
  double top_p = 1.0;
  uint64_t seed = 0;
  int64_t num_samples = 1;  ///< sequences generated together in one batch
};
int generate(const GenerateArgs& args);

}  // namespace ember::cli
