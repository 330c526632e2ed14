// From a config to tensors, losses, predictions and metrics (shared by every ember subcommand).
#include "ember/train/pipeline.h"

#include <cmath>
#include <set>

#include "ember/autograd/grad_mode.h"
#include "ember/core/error.h"
#include "ember/core/generator.h"
#include "ember/nn/functional.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"

namespace ember::train {

namespace {

// The founding document's example: y = x . weights + bias + noise, x uniform in [0, 1),
// noise normal with standard deviation `noise`; columns x1, x2, ..., y.
data::Table synthetic_linear(const DataConfig& cfg) {
  Generator gen(static_cast<uint64_t>(cfg.seed));
  data::Table t;
  t.source = "synthetic:linear";
  const size_t k = cfg.weights.size();
  t.columns.resize(k + 1);
  for (size_t j = 0; j < k; ++j) t.columns[j].name = "x" + std::to_string(j + 1);
  t.columns[k].name = "y";
  for (int64_t i = 0; i < cfg.samples; ++i) {
    double y = cfg.bias;
    for (size_t j = 0; j < k; ++j) {
      const double x = gen.next_double();
      t.columns[j].values.push_back(x);
      y += cfg.weights[j] * x;
    }
    t.columns[k].values.push_back(y + cfg.noise * gen.next_normal());
    t.lines.push_back(i + 2);
  }
  return t;
}

std::string target_column(const DataConfig& cfg) {
  return cfg.synthetic.empty() || !cfg.target.empty() ? cfg.target : "y";
}

std::vector<std::string> feature_columns(const DataConfig& cfg, const data::Table& table) {
  if (!cfg.features.empty()) return cfg.features;
  std::vector<std::string> out;
  for (const auto& c : table.columns)
    if (c.name != target_column(cfg)) out.push_back(c.name);
  return out;
}

}  // namespace

data::Table load_table(const DataConfig& cfg, const std::vector<std::string>& categorical) {
  if (cfg.synthetic == "linear") return synthetic_linear(cfg);
  data::CsvOptions opts;
  if (!cfg.delimiter.empty()) opts.delimiter = cfg.delimiter[0];
  opts.categorical = categorical;
  return data::read_csv(cfg.path, opts);
}

data::Task resolve_task(const DataConfig& cfg, const data::Table& table) {
  if (cfg.task == "classification") return data::Task::Classification;
  if (cfg.task == "regression") return data::Task::Regression;
  const data::Column& y = table.column(target_column(cfg));
  if (y.type == data::ColumnType::Categorical) return data::Task::Classification;
  std::set<double> distinct;
  for (double v : y.values) {
    if (std::isnan(v)) continue;
    if (v != std::floor(v)) return data::Task::Regression;
    distinct.insert(v);
    if (distinct.size() > 20) return data::Task::Regression;
  }
  return data::Task::Classification;
}

SplitData transform_split(const data::Preprocessor& pre, const data::Table& table,
                          const std::vector<int64_t>& rows, bool training) {
  SplitData s;
  if (rows.empty()) return s;
  data::Preprocessor::Result r = pre.transform(table.select_rows(rows), training);
  s.x = r.x;
  s.y = r.y;
  for (int64_t i : r.rows) s.rows.push_back(rows[static_cast<size_t>(i)]);
  return s;
}

data::SplitIndices split_table(const TrainConfig& cfg, const data::Table& table, data::Task task) {
  const std::vector<double>& s = cfg.data.split;
  std::vector<int64_t> strata;
  const bool stratify = cfg.data.stratify && task == data::Task::Classification;
  if (stratify) {
    // Missing targets form their own stratum; the preprocessor drops those rows later.
    for (double v : table.column(target_column(cfg.data)).values)
      strata.push_back(std::isnan(v) ? -1 : static_cast<int64_t>(std::llround(v * 1024)));
  }
  data::SplitIndices split =
      data::split_rows(table.rows(), s[0], s[1], s[2], static_cast<uint64_t>(cfg.data.seed),
                       stratify ? &strata : nullptr);
  EMBER_CHECK_T(ConfigError, !split.train.empty(), table.source, ": the training split is empty (",
                table.rows(), " rows, data.split = ", s[0], ", ", s[1], ", ", s[2], ")");
  return split;
}

PreparedData prepare_data(const TrainConfig& cfg) {
  if (is_image_format(cfg.data.format)) return prepare_image_data(cfg);
  if (is_text_format(cfg.data.format)) return prepare_text_data(cfg);
  if (is_ctr_format(cfg.data.format)) return prepare_ctr_data(cfg);
  data::Table table = load_table(cfg.data);
  const data::Task task = resolve_task(cfg.data, table);
  const std::string target = target_column(cfg.data);
  const PreprocessConfig& p = cfg.preprocessing;
  data::Preprocessor pre({p.missing, p.fill_value, p.outliers, p.outlier_threshold,
                          p.outlier_action, p.normalize, p.categorical, p.normalize_target},
                         feature_columns(cfg.data, table), target, task);
  data::SplitIndices split = split_table(cfg, table, task);
  pre.fit(table.select_rows(split.train));
  PreparedData d{std::move(table), std::move(split), std::move(pre), {}, {}, {}, nullptr, nullptr};
  d.train = transform_split(d.pre, d.table, d.split.train, /*training=*/true);
  d.val = transform_split(d.pre, d.table, d.split.val, false);
  d.test = transform_split(d.pre, d.table, d.split.test, false);
  EMBER_CHECK_T(ConfigError, d.train.size() > 0, d.table.source,
                ": no training rows are left after preprocessing (missing = '", p.missing,
                "', outlier_action = '", p.outlier_action, "')");
  return d;
}

std::string resolve_loss(const TrainConfig& cfg, data::Task task, int64_t num_classes) {
  const std::string& loss = cfg.training.loss;
  if (task == data::Task::LanguageModel) {
    EMBER_CHECK_T(ConfigError, loss == "auto" || loss == "cross_entropy", cfg.source,
                  ": training.loss = \"", loss, "\" does not fit a language model; use ",
                  "cross_entropy");
    return "cross_entropy";
  }
  if (is_ctr_format(cfg.data.format)) {  // one logit per sample
    EMBER_CHECK_T(ConfigError, loss == "auto" || loss == "bce", cfg.source, ": training.loss = \"",
                  loss, "\" does not fit a CTR model (one logit per sample); use bce");
    return "bce";
  }
  const bool classification = task == data::Task::Classification;
  if (loss == "auto") return classification ? "cross_entropy" : "mse";
  if (classification) {
    EMBER_CHECK_T(ConfigError, loss == "cross_entropy" || (loss == "bce" && num_classes == 2),
                  cfg.source, ": training.loss = \"", loss, "\" does not fit a classification ",
                  "with ", num_classes, " classes; use cross_entropy",
                  num_classes == 2 ? " or bce" : "");
  } else {
    EMBER_CHECK_T(ConfigError, loss == "mse" || loss == "l1" || loss == "huber", cfg.source,
                  ": training.loss = \"", loss, "\" does not fit a regression; use mse, l1 or ",
                  "huber");
  }
  return loss;
}

int64_t output_size(const std::string& loss, const data::Preprocessor& pre) {
  return loss == "cross_entropy" ? pre.num_classes() : 1;
}

Tensor compute_loss(const std::string& loss, const Tensor& out, const Tensor& y) {
  namespace F = nn::functional;
  if (loss == "cross_entropy" && out.dim() == 3)  // language model: out (B, T, V), y (B, T)
    return F::cross_entropy(out.reshape({-1, out.size(2)}), y.reshape({-1}));
  if (loss == "cross_entropy") return F::cross_entropy(out, y);
  if (loss == "bce") return F::binary_cross_entropy_with_logits(out, y.to(kFloat32).unsqueeze(1));
  if (loss == "mse") return F::mse_loss(out, y);
  if (loss == "l1") return F::l1_loss(out, y);
  if (loss == "huber") return F::huber_loss(out, y);
  EMBER_THROW(ConfigError, "unknown loss '", loss, "'");
}

namespace {

// The model's raw outputs for x, in eval mode and without autograd, kBatch rows at a time (a
// CNN's activations for a whole test set would take gigabytes).
Device model_device(const nn::Module& model) {
  const std::vector<Tensor> params = model.parameters();
  return params.empty() ? Device::cpu() : params.front().device();
}

Tensor raw_outputs(nn::Module& model, const Tensor& x) {
  constexpr int64_t kBatch = 500;
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const Device device = model_device(model);  // the outputs come back to the CPU
  Tensor out;
  if (x.size(0) <= kBatch) {
    out = model(x.to(device)).cpu();
  } else {
    std::vector<Tensor> parts;
    for (int64_t i = 0; i < x.size(0); i += kBatch)
      parts.push_back(model(x.narrow(0, i, std::min(kBatch, x.size(0) - i)).to(device)).cpu());
    out = cat(parts, 0);
  }
  if (was_training) model.train();
  return out;
}

Predictions from_outputs(const Tensor& out, const std::string& loss,
                         const data::Preprocessor& pre) {
  NoGradGuard no_grad;
  Predictions p;
  if (pre.task() == data::Task::Regression) {
    p.values = pre.inverse_target(out);
  } else {
    p.probs = loss == "bce" ? cat({1 - sigmoid(out), sigmoid(out)}, 1) : softmax(out, 1);
    p.labels = argmax(p.probs, 1);
  }
  return p;
}

}  // namespace

Predictions predict(nn::Module& model, const Tensor& x, const std::string& loss,
                    const data::Preprocessor& pre) {
  return from_outputs(raw_outputs(model, x), loss, pre);
}

namespace {

// A language model on windows of tokens: the mean next-token loss, its perplexity and the top-1
// accuracy, a few windows at a time (the logits of a whole split would not fit in memory).
// Targets of -100 (a masked language model's unmasked positions) do not count.
Metrics evaluate_language_model(nn::Module& model, const SplitData& split,
                                const std::string& prefix) {
  constexpr int64_t kWindows = 16;
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const Device device = model_device(model);
  double loss_sum = 0, correct = 0, targets = 0;
  for (int64_t i = 0; i < split.size(); i += kWindows) {
    const int64_t n = std::min(kWindows, split.size() - i);
    const Tensor logits = model(split.x.narrow(0, i, n).to(device)).cpu();  // (n, T, V)
    const Tensor y = split.y.narrow(0, i, n);
    const Tensor valid = y != -100.0;
    const double count = sum(valid).item();
    if (count == 0) continue;
    loss_sum += compute_loss("cross_entropy", logits, y).item() * count;
    correct += sum(logical_and(eq(argmax(logits, 2), y), valid)).item();
    targets += count;
  }
  if (was_training) model.train();
  const double loss = targets > 0 ? loss_sum / targets : 0;
  return {{prefix + "loss", loss},
          {prefix + "perplexity", std::exp(loss)},
          {prefix + "accuracy", targets > 0 ? correct / targets : 0}};
}

}  // namespace

Metrics evaluate(nn::Module& model, const SplitData& split, const std::string& loss,
                 const data::Preprocessor& pre, const std::string& prefix) {
  Metrics m;
  if (split.size() == 0) return m;
  if (pre.is_text()) return evaluate_language_model(model, split, prefix);
  const Tensor out = raw_outputs(model, split.x);  // one forward pass for the loss and metrics
  m.emplace_back(prefix + "loss", compute_loss(loss, out, split.y).item());
  const Predictions p = from_outputs(out, loss, pre);
  const Metrics task_metrics = pre.task() == data::Task::Regression
                                   ? regression_metrics(p.values, pre.inverse_target(split.y))
                                   : classification_metrics(p.probs, split.y);
  for (const auto& [name, value] : task_metrics) m.emplace_back(prefix + name, value);
  return m;
}

}  // namespace ember::train
