// `ember recommend RUN --user U --k K`: scores every item the user has not rated and lists the
// best.
#include "recommend_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "ember/core/error.h"
#include "ember/io/json.h"
#include "ember/train/pipeline.h"
#include "ember/train/recommend.h"
#include "ember/train/run_files.h"

namespace ember::cli {

void add_recommend_command(CLI::App& app, RecommendArgs& a) {
  CLI::App* cmd = app.add_subcommand(
      "recommend",
      "Top-k items a user has not rated yet, by a trained CTR model's probability of a positive "
      "label (a run of data.format = \"ctr\" with data.user and data.item); the user's latest "
      "row is the context");
  cmd->add_option("run_dir", a.run_dir, "Run directory written by ember train")->required();
  cmd->add_option("--user", a.user, "The user, as written in the data.user column")->required();
  cmd->add_option("--k", a.k, "How many items (default 10)")->check(CLI::PositiveNumber);
  cmd->add_flag("--json", a.as_json, "Print the list as JSON");
}

int recommend(const RecommendArgs& a) {
  train::LoadedRun run = train::load_run(a.run_dir);
  EMBER_CHECK_T(ConfigError, run.pre.is_fields(), "recommend ", a.run_dir,
                ": not a CTR run (data.format = \"ctr\")");
  const train::TrainConfig cfg = train::load_run_config(a.run_dir);
  const data::Table table = train::load_table(cfg.data);
  const train::Catalog catalog(table, cfg.data, train::time_column(cfg));
  const std::vector<train::Recommendation> top =
      train::recommend(*run.model, run.pre.fields(), catalog, a.user, a.k);
  if (a.as_json) {
    json::Array items;
    for (const train::Recommendation& r : top) {
      json::Value j = json::Value::object();
      j["item"] = r.item;
      j["title"] = r.title;
      j["score"] = r.score;
      items.push_back(std::move(j));
    }
    json::Value out = json::Value::object();
    out["user"] = a.user;
    out["items"] = std::move(items);
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("Top %zu unseen %s for %s %s (%s, %lld items):\n", top.size(), cfg.data.item.c_str(),
              cfg.data.user.c_str(), a.user.c_str(), a.run_dir.c_str(),
              static_cast<long long>(catalog.size()));
  std::printf("%4s  %-10s %6s  %s\n", "rank", cfg.data.item.c_str(), "score", "title");
  for (size_t i = 0; i < top.size(); ++i)
    std::printf("%4zu  %-10s %6.3f  %s\n", i + 1, top[i].item.c_str(), top[i].score,
                top[i].title.c_str());
  return 0;
}

}  // namespace ember::cli
