// A run directory's files: config, run description, preprocessor, metrics, plots and the report.
#include "ember/train/run_files.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "ember/autograd/grad_mode.h"
#include "ember/core/error.h"
#include "ember/data/inspect.h"
#include "ember/io/file.h"
#include "ember/models/tabular.h"
#include "ember/ops/reduce.h"
#include "ember/train/checkpoint.h"
#include "ember/train/plot.h"
#include "ember/train/report.h"
#include "ember/train/trainer.h"

namespace ember::train {

namespace fs = std::filesystem;

namespace {

std::string in_dir(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

json::Value strings_to_json(const std::vector<std::string>& v) {
  json::Value a = json::Value::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

json::Value model_to_json(const ModelConfig& m) {
  json::Value j = json::Value::object();
  j["type"] = m.type;
  json::Value hidden = json::Value::array();
  for (int64_t h : m.hidden) hidden.push_back(h);
  j["hidden"] = hidden;
  j["activation"] = m.activation;
  j["dropout"] = m.dropout;
  j["norm"] = m.norm;
  return j;
}

ModelConfig model_from_json(const json::Value& j) {
  ModelConfig m;
  m.type = j["type"].as_string();
  m.hidden.clear();
  for (const auto& h : j["hidden"].as_array()) m.hidden.push_back(h.as_int());
  m.activation = j["activation"].as_string();
  m.dropout = j["dropout"].as_double();
  m.norm = j["norm"].as_string();
  return m;
}

std::vector<double> to_doubles(const Tensor& t) {
  return t.to(kFloat64).contiguous().to_vector<double>();
}

// The founding document's figure: the data of one feature against the target, with the model's
// fitted line as that feature varies and every other feature stays at its training mean.
void plot_fit(const std::string& png, const PreparedData& d, nn::Module& model,
              const std::string& loss) {
  const data::Table train = d.table.select_rows(d.split.train);
  const std::vector<std::string> names = d.pre.feature_names();
  const std::string target = d.pre.target();
  const data::Column& x = train.column(names[0]);
  const data::Column& y = train.column(target);
  Series points{"data", {}, {}};
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < x.values.size(); ++i) {
    if (std::isnan(x.values[i]) || std::isnan(y.values[i])) continue;
    points.x.push_back(x.values[i]);
    points.y.push_back(y.values[i]);
    lo = std::min(lo, x.values[i]);
    hi = std::max(hi, x.values[i]);
  }
  if (points.x.empty()) return;
  // A 50-point grid over the first feature; the other features at their means.
  constexpr int kGrid = 50;
  data::Table grid;
  grid.source = "fit grid";
  for (const auto& name : names) {
    const data::Column& c = train.column(name);
    double mean = 0;
    int64_t n = 0;
    for (double v : c.values)
      if (!std::isnan(v)) mean += v, ++n;
    data::Column g{name, data::ColumnType::Numeric, {}, {}};
    for (int i = 0; i < kGrid; ++i)
      g.values.push_back(name == names[0] ? lo + (hi - lo) * i / (kGrid - 1)
                                          : mean / std::max<int64_t>(1, n));
    grid.columns.push_back(std::move(g));
  }
  for (int i = 0; i < kGrid; ++i) grid.lines.push_back(i + 1);
  const Predictions p = predict(model, d.pre.transform_features(grid), loss, d.pre);
  Series line{"model", grid.columns[0].values, to_doubles(p.values)};
  scatter_plot(png, target + " against " + names[0], names[0], target, points, &line);
}

bool all_numeric_features(const PreparedData& d) {
  for (const auto& name : d.pre.feature_names())
    if (!d.table.has_column(name) || d.table.column(name).type != data::ColumnType::Numeric)
      return false;
  return true;
}

std::vector<std::pair<std::string, std::string>> write_plots(const std::string& dir,
                                                             const PreparedData& d,
                                                             nn::Module& model,
                                                             const std::string& loss,
                                                             const History& history) {
  std::vector<std::pair<std::string, std::string>> plots;
  const std::vector<double> steps = history.steps();
  const auto columns = history.columns();
  auto has = [&](const std::string& c) {
    return std::find(columns.begin(), columns.end(), c) != columns.end();
  };
  std::vector<Series> losses{{"train", steps, history.series("train_loss")}};
  if (has("val_loss")) losses.push_back({"validation", steps, history.series("val_loss")});
  line_plot(in_dir(dir, "loss.png"), "Loss", "step", loss, losses, /*log_y=*/true);
  plots.emplace_back("Training and validation loss", in_dir(dir, "loss.png"));

  const bool classification = d.pre.task() == data::Task::Classification;
  const std::string metric = classification ? "val_accuracy" : "val_r2";
  if (has(metric)) {
    line_plot(in_dir(dir, "metric.png"), metric, "step", metric,
              {{metric, steps, history.series(metric)}});
    plots.emplace_back("Validation " + metric.substr(4), in_dir(dir, "metric.png"));
  }
  const SplitData& split = d.test.size() > 0 ? d.test : d.val.size() > 0 ? d.val : d.train;
  const std::string split_name = d.test.size() > 0  ? "test"
                                 : d.val.size() > 0 ? "validation"
                                                    : "training";
  const Predictions p = predict(model, split.x, loss, d.pre);
  if (classification) {
    const int64_t c = d.pre.num_classes();
    std::vector<std::vector<double>> cells(c, std::vector<double>(c, 0));
    const auto truth = split.y.to_vector<int64_t>(), pred = p.labels.to_vector<int64_t>();
    for (size_t i = 0; i < truth.size(); ++i) cells[truth[i]][pred[i]] += 1;
    heatmap(in_dir(dir, "confusion.png"), "Confusion matrix (" + split_name + ")", cells,
            d.pre.class_names(), d.pre.class_names(), "predicted", "true");
    plots.emplace_back("Confusion matrix on the " + split_name + " split",
                       in_dir(dir, "confusion.png"));
  } else {
    Series points{"", to_doubles(d.pre.inverse_target(split.y)), to_doubles(p.values)};
    scatter_plot(in_dir(dir, "pred_vs_true.png"), "Predicted vs true (" + split_name + ")", "true",
                 "predicted", points, nullptr, /*diagonal=*/true);
    plots.emplace_back("Predicted against true values on the " + split_name + " split",
                       in_dir(dir, "pred_vs_true.png"));
    if (all_numeric_features(d)) {
      plot_fit(in_dir(dir, "fit.png"), d, model, loss);
      plots.emplace_back("The data and the fitted model along the first feature",
                         in_dir(dir, "fit.png"));
    }
  }
  return plots;
}

std::string now_text() {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return buf;
}

}  // namespace

void write_run_files(const std::string& run_dir, const TrainConfig& cfg, const PreparedData& d,
                     const std::string& loss) {
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  EMBER_CHECK_IO(!ec, run_dir, ": cannot create the run directory: ", ec.message());
  io::write_file_atomic(in_dir(run_dir, "config.toml"), to_toml(cfg));
  json::Value run = json::Value::object();
  run["task"] = d.pre.task() == data::Task::Classification ? "classification" : "regression";
  run["loss"] = loss;
  run["in_features"] = d.pre.num_features();
  run["out_features"] = output_size(loss, d.pre);
  run["features"] = strings_to_json(d.pre.feature_names());
  run["classes"] = strings_to_json(d.pre.class_names());
  run["model"] = model_to_json(cfg.model);
  run["data"] = d.table.source;
  run["started"] = now_text();
  json::write_file(in_dir(run_dir, "run.json"), run);
  json::write_file(in_dir(run_dir, "preprocess.json"), d.pre.to_json());
}

void write_run_outputs(const std::string& run_dir, const TrainConfig& cfg, const PreparedData& d,
                       const std::string& loss, nn::Module& model, const History& history,
                       const TrainResult& result) {
  Metrics final_metrics = result.final_metrics;
  final_metrics.emplace_back("best_step", static_cast<double>(result.best_step));
  final_metrics.emplace_back("steps", static_cast<double>(result.steps));
  history.write_json(in_dir(run_dir, "metrics.json"), final_metrics);
  if (!cfg.output.plots || history.size() == 0) return;
  const auto plots = write_plots(run_dir, d, model, loss, history);
  if (!cfg.output.report) return;
  Report r;
  r.title = fs::path(cfg.source).stem().string() + " — " + cfg.model.type + " (" + loss + ")";
  r.facts = {{"run directory", run_dir},
             {"data", d.table.source},
             {"rows (train / val / test)", std::to_string(d.train.size()) + " / " +
                                               std::to_string(d.val.size()) + " / " +
                                               std::to_string(d.test.size())},
             {"parameters", std::to_string(model.num_parameters())},
             {"steps", std::to_string(result.steps)},
             {"best step", std::to_string(result.best_step)},
             {"finished", now_text()}};
  r.config_toml = to_toml(cfg);
  r.data_summary = data::inspect(d.table, d.pre.target());
  r.final_metrics = result.final_metrics;
  r.plots = plots;
  write_report(in_dir(run_dir, "report.html"), r);
}

TrainConfig load_run_config(const std::string& run_dir) {
  return load_train_config(in_dir(run_dir, "config.toml"));
}

LoadedRun load_run(const std::string& run_dir) {
  const std::string run_json = in_dir(run_dir, "run.json");
  EMBER_CHECK_T(ConfigError, fs::exists(run_json), run_dir,
                ": not a run directory (run.json is missing; `ember train` writes it)");
  const json::Value run = json::parse_file(run_json);
  LoadedRun r{run_dir,
              data::Preprocessor::from_json(json::parse_file(in_dir(run_dir, "preprocess.json"))),
              run["loss"].as_string(),
              nullptr,
              "",
              0};
  r.model = models::build_tabular_model(model_from_json(run["model"]), run["in_features"].as_int(),
                                        run["out_features"].as_int());
  const std::string ckpt = in_dir(run_dir, "checkpoints");
  r.checkpoint = has_checkpoint(ckpt, "best") ? "best" : "last";
  Checkpoint c = load_checkpoint(ckpt, r.checkpoint);
  nn::StateDict sd;
  for (const auto& [k, v] : c.tensors)
    if (k.starts_with("model.")) sd.insert(k.substr(6), v);
  r.model->load_state_dict(sd);
  r.model->eval();
  r.step = c.state["step"].as_int();
  return r;
}

}  // namespace ember::train
