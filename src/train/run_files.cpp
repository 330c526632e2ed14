// A run directory's files: config, run description, preprocessor, metrics, plots and the report.
#include "ember/train/run_files.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <numeric>
#include <set>

#include "ember/autograd/grad_mode.h"
#include "ember/core/error.h"
#include "ember/data/inspect.h"
#include "ember/data/tokenizer.h"
#include "ember/io/file.h"
#include "ember/models/bert.h"
#include "ember/models/bow.h"
#include "ember/models/hf.h"
#include "ember/models/models.h"
#include "ember/nn/init.h"
#include "ember/ops/reduce.h"
#include "ember/train/checkpoint.h"
#include "ember/train/explain_text.h"
#include "ember/train/figures.h"
#include "ember/train/plot.h"
#include "ember/train/recommend.h"
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

// Per-class accuracy (recall) on a split: class, count, correct, accuracy.
ReportTable per_class_table(const std::vector<std::string>& classes,
                            const std::vector<int64_t>& truth, const std::vector<int64_t>& pred,
                            const std::string& split_name) {
  std::vector<int64_t> count(classes.size(), 0), correct(classes.size(), 0);
  for (size_t i = 0; i < truth.size(); ++i) {
    ++count[static_cast<size_t>(truth[i])];
    if (truth[i] == pred[i]) ++correct[static_cast<size_t>(truth[i])];
  }
  ReportTable t{
      "Per-class accuracy (" + split_name + ")", {"class", "count", "correct", "accuracy"}, {}};
  for (size_t c = 0; c < classes.size(); ++c) {
    char acc[32];
    std::snprintf(acc, sizeof acc, "%.4f",
                  count[c] ? static_cast<double>(correct[c]) / static_cast<double>(count[c]) : 0.0);
    t.rows.push_back({classes[c], std::to_string(count[c]), std::to_string(correct[c]), acc});
  }
  return t;
}

// The first images of a split with their predicted and true classes.
void write_prediction_grid(const std::string& png, const PreparedData& d, const SplitData& split,
                           const std::vector<int64_t>& truth, const std::vector<int64_t>& pred) {
  const int64_t n = std::min<int64_t>(40, split.size());
  const Tensor pixels = d.pre.denormalize_pixels(split.x.narrow(0, 0, n));
  const auto classes = d.pre.class_names();
  std::vector<GridItem> items;
  for (int64_t i = 0; i < n; ++i) {
    const auto u = static_cast<size_t>(i);
    items.push_back({pixels.select(0, i), classes[static_cast<size_t>(pred[u])],
                     classes[static_cast<size_t>(truth[u])]});
  }
  prediction_grid_png(png, items);
}

// Three samples of the trained language model, each continuing the start of a validation window.
// The words of text: runs of ASCII letters, lower-cased.
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::string w;
  for (char c : text + " ") {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!w.empty()) {
      out.push_back(w);
      w.clear();
    }
  }
  return out;
}

ReportTable text_samples(const PreparedData& d, nn::Module& model) {
  ReportTable t{
      "Samples (temperature 0.8, top-k 40, 300 tokens); real words: the share of the "
      "sample's words that occur in the training text",
      {"prompt", "continuation", "real words"},
      {}};
  auto* gpt = dynamic_cast<models::GPT*>(&model);
  const SplitData& split = d.val.size() > 0 ? d.val : d.train;
  if (gpt == nullptr || split.size() == 0) return t;
  const std::vector<int64_t> train_ids = d.train.x.contiguous().to_vector<int64_t>();
  std::set<std::string> known;
  for (std::string& w : words_of(d.tokenizer->decode(train_ids))) known.insert(std::move(w));
  models::SamplingOptions o;
  o.max_new_tokens = 300;
  o.temperature = 0.8;
  o.top_k = 40;
  for (int64_t s = 0; s < 3; ++s) {
    const int64_t row = split.size() * s / 3;
    const int64_t n = std::min<int64_t>(16, split.x.size(1));
    const std::vector<int64_t> prompt = split.x.select(0, row).narrow(0, 0, n).to_vector<int64_t>();
    o.seed = static_cast<uint64_t>(s);
    const auto out = models::generate(*gpt, {prompt}, o);
    const std::string text = d.tokenizer->decode(out[0]);
    // The first and last words may be cut by the prompt and the length limit.
    std::vector<std::string> words = words_of(text);
    if (words.size() > 2) words = std::vector<std::string>(words.begin() + 1, words.end() - 1);
    int64_t real = 0;
    for (const std::string& w : words) real += known.count(w) > 0 ? 1 : 0;
    char share[32];
    std::snprintf(share, sizeof share, "%.0f%%",
                  words.empty()
                      ? 0.0
                      : 100.0 * static_cast<double>(real) / static_cast<double>(words.size()));
    t.rows.push_back({d.tokenizer->decode(prompt), text, share});
  }
  return t;
}

// Text classes: a BERT's attention maps and integrated gradients for the split's first passage,
// or a bag of words' most telling tokens per class.
void explain_passage(const std::string& dir, const PreparedData& d, nn::Module& model,
                     const SplitData& split, const std::string& split_name,
                     std::vector<std::pair<std::string, std::string>>& plots,
                     std::vector<ReportTable>& tables) {
  if (auto* bert = dynamic_cast<models::BertForSequenceClassification*>(&model)) {
    const TextExplanation e = explain_text(*bert, *d.tokenizer, split.x.select(0, 0));
    for (auto& p :
         write_text_explanation(e, d.pre.class_names(), split.y.select(0, 0).item<int64_t>(),
                                in_dir(dir, "explain"), split_name + "-0"))
      plots.push_back(std::move(p));
  } else if (auto* bow = dynamic_cast<models::BagOfWords*>(&model)) {
    constexpr int64_t kTop = 10;
    ReportTable t{
        "The tokens that count most for each class (largest weights)", {"class", "tokens"}, {}};
    const Tensor w = bow->weight.detach().to(kFloat64).contiguous();  // (V, C)
    const auto classes = d.pre.class_names();
    for (int64_t c = 0; c < w.size(1); ++c) {
      std::vector<double> col = w.select(1, c).contiguous().to_vector<double>();
      col.resize(static_cast<size_t>(d.tokenizer->vocab_size()));  // not [PAD], [CLS]
      std::vector<int64_t> order(col.size());
      std::iota(order.begin(), order.end(), int64_t{0});
      std::partial_sort(order.begin(),
                        order.begin() + std::min<int64_t>(kTop, static_cast<int64_t>(order.size())),
                        order.end(), [&](int64_t a, int64_t b) {
                          return col[static_cast<size_t>(a)] > col[static_cast<size_t>(b)];
                        });
      std::string words;
      for (int64_t i = 0; i < std::min<int64_t>(kTop, static_cast<int64_t>(order.size())); ++i)
        words += (i ? ", " : "") + d.tokenizer->decode({&order[static_cast<size_t>(i)], 1});
      t.rows.push_back({classes[static_cast<size_t>(c)], words});
    }
    tables.push_back(std::move(t));
  }
}

// The report's data section for text: source, tokens, vocabulary.
json::Value text_data_summary(const PreparedData& d) {
  json::Value j = json::Value::object();
  const int64_t T = d.pre.input_shape()[0];
  j["source"] = d.table.source;
  j["rows"] = d.train.size() + d.val.size();
  j["columns"] = std::to_string((d.train.size() + d.val.size()) * T) + " tokens in windows of " +
                 std::to_string(T) + "; vocabulary of " + std::to_string(d.pre.num_classes()) +
                 " (" + d.tokenizer->kind() + " tokenizer)";
  return j;
}

std::vector<std::pair<std::string, std::string>> write_plots(
    const std::string& dir, const PreparedData& d, nn::Module& model, const std::string& loss,
    const History& history, std::vector<ReportTable>& tables) {
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

  if (d.pre.is_text()) {
    if (has("val_perplexity")) {
      line_plot(in_dir(dir, "metric.png"), "Validation perplexity", "step", "perplexity",
                {{"val_perplexity", steps, history.series("val_perplexity")}}, /*log_y=*/true);
      plots.emplace_back("Validation perplexity", in_dir(dir, "metric.png"));
    }
    tables.push_back(text_samples(d, model));
    return plots;
  }
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
    tables.push_back(per_class_table(d.pre.class_names(), truth, pred, split_name));
    if (d.pre.is_text_classes()) explain_passage(dir, d, model, split, split_name, plots, tables);
    if (d.pre.is_fields()) tables.push_back(first_order_table(model, d.pre.fields()));
    if (d.pre.is_image()) {
      write_prediction_grid(in_dir(dir, "predictions.png"), d, split, truth, pred);
      plots.emplace_back(
          "The first " + split_name + " images: predicted and true class (mistakes framed in red)",
          in_dir(dir, "predictions.png"));
    }
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

// The training split's class balance, as the report's data section shows a target.
json::Value class_balance(const PreparedData& d) {
  const auto classes = d.pre.class_names();
  std::vector<int64_t> count(classes.size(), 0);
  for (int64_t y : d.train.y.to_vector<int64_t>()) ++count[static_cast<size_t>(y)];
  json::Value list = json::Value::array();
  for (size_t c = 0; c < classes.size(); ++c) {
    json::Value e = json::Value::object();
    e["name"] = classes[c];
    e["count"] = count[c];
    e["pct"] = 100.0 * static_cast<double>(count[c]) / static_cast<double>(d.train.size());
    list.push_back(e);
  }
  json::Value target = json::Value::object();
  target["name"] = "label (training split)";
  target["classes"] = list;
  return target;
}

// The report's data section for images: source, counts, shape and the training class balance.
json::Value image_data_summary(const PreparedData& d) {
  json::Value j = json::Value::object();
  const data::ImageSpec& im = d.pre.image();
  j["source"] = d.table.source;
  j["rows"] = d.train.size() + d.val.size() + d.test.size();
  j["columns"] = std::to_string(im.channels) + "x" + std::to_string(im.height) + "x" +
                 std::to_string(im.width) + " images";
  j["target"] = class_balance(d);
  return j;
}

// The report's data section for text classes: source, passages, tokens and the class balance.
json::Value text_classes_summary(const PreparedData& d, const DataConfig& cfg) {
  json::Value j = json::Value::object();
  j["source"] = d.table.source;
  j["rows"] = d.train.size() + d.val.size() + d.test.size();
  j["columns"] = "passages of " + std::to_string(cfg.passage_chars) + " characters as up to " +
                 std::to_string(d.pre.input_shape()[0]) + " tokens; vocabulary of " +
                 std::to_string(d.tokenizer->vocab_size()) + " (" + d.tokenizer->kind() +
                 " tokenizer) + [PAD], [CLS], [MASK]";
  j["target"] = class_balance(d);
  return j;
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
  run["task"] = d.pre.is_text()                              ? "language_model"
                : d.pre.task() == data::Task::Classification ? "classification"
                                                             : "regression";
  if (d.tokenizer) d.tokenizer->save(run_dir);
  run["loss"] = loss;
  run["in_features"] = d.pre.num_features();
  json::Value shape = json::Value::array();
  for (int64_t v : d.pre.input_shape()) shape.push_back(v);
  run["input_shape"] = shape;
  run["out_features"] = output_size(loss, d.pre);
  run["features"] = strings_to_json(d.pre.feature_names());
  run["classes"] = strings_to_json(d.pre.class_names());
  run["model"] = model_to_toml(cfg.model);
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
  std::vector<ReportTable> tables;
  const auto plots = write_plots(run_dir, d, model, loss, history, tables);
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
  r.data_summary = d.pre.is_image()          ? image_data_summary(d)
                   : d.pre.is_text()         ? text_data_summary(d)
                   : d.pre.is_text_classes() ? text_classes_summary(d, cfg.data)
                                             : data::inspect(d.table, d.pre.target());
  r.tables = std::move(tables);
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
              0,
              nullptr};
  if (r.pre.is_text() || r.pre.is_text_classes()) r.tokenizer = data::load_tokenizer(run_dir);
  {
    nn::init::NoInitGuard no_init;  // the strict load below fills every parameter
    r.model = models::create_model(model_from_toml(run["model"].as_string(), run_json), r.pre,
                                   run["out_features"].as_int());
  }
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

std::vector<std::string> init_from(nn::Module& model, const std::string& source) {
  nn::StateDict sd;
  if (models::is_hf_model_dir(source)) {
    sd = models::load_hf_bert(source).model->state_dict();
  } else {
    const std::string ckpt = in_dir(source, "checkpoints");
    EMBER_CHECK_T(ConfigError, fs::exists(in_dir(source, "run.json")), "model.init = ", source,
                  ": neither a run directory (run.json) nor a Hugging Face directory "
                  "(config.json + model.safetensors)");
    Checkpoint c = load_checkpoint(ckpt, has_checkpoint(ckpt, "best") ? "best" : "last");
    for (const auto& [k, v] : c.tensors)
      if (k.starts_with("model.")) sd.insert(k.substr(6), v);
  }
  // One line for a mismatch, naming the first tensor (load_state_dict would list them all).
  int64_t mismatched = 0;
  std::string first;
  for (const auto& [name, t] : model.state_dict()) {
    if (!sd.contains(name) || sd[name].shape() == t.shape()) continue;
    if (mismatched++ == 0)
      first = name + " is " + sd[name].shape_str() + " there and " + t.shape_str() + " here";
  }
  EMBER_CHECK_T(ShapeError, mismatched == 0, "model.init = ", source, ": ", mismatched,
                " tensors have other shapes, e.g. ", first,
                " (was it trained with another data.tokenizer or model size?)");
  const nn::LoadStateDictResult r = model.load_state_dict(sd, /*strict=*/false);
  std::vector<std::string> loaded;
  for (const auto& [name, t] : model.state_dict())
    if (std::find(r.missing_keys.begin(), r.missing_keys.end(), name) == r.missing_keys.end())
      loaded.push_back(name);
  EMBER_CHECK_T(ConfigError, !loaded.empty(), "model.init = ", source,
                ": no tensor name matches the model's (it has ", sd.size(), " tensors, e.g. ",
                sd.size() > 0 ? sd.keys()[0] : std::string("none"), ")");
  return loaded;
}

}  // namespace ember::train
