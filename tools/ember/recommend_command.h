// `ember recommend`: the top-k unseen items for a user from a trained CTR run.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace ember::cli {

/// What `ember recommend` lists.
struct RecommendArgs {
  std::string run_dir;  ///< a run of a CTR model (data.format = "ctr") with data.user and item
  std::string user;     ///< the user's key, as in the data.user column
  int64_t k = 10;
  bool as_json = false;
};
void add_recommend_command(CLI::App& app, RecommendArgs& args);
int recommend(const RecommendArgs& args);

}  // namespace ember::cli
