// The training config: strict loading of each TOML section, cross-field checks, TOML output.
#include "ember/train/config.h"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "ember/core/error.h"
#include "ember/io/toml.h"

namespace ember::train {

namespace fs = std::filesystem;
using io::Range;
using io::TomlTable;

const std::vector<std::string> kOptimizerNames = {"sgd", "adam", "adamw", "rmsprop", "adagrad"};
const std::vector<std::string> kScheduleNames = {
    "none", "step", "exponential", "cosine", "warmup_cosine", "onecycle", "plateau"};
const std::vector<std::string> kActivationNames = {"relu",       "tanh", "sigmoid", "gelu",
                                                   "leaky_relu", "silu", "elu"};
const std::vector<std::string> kMonitorNames = {
    "val_loss",    "train_loss",   "val_accuracy", "val_precision", "val_recall", "val_f1",
    "val_roc_auc", "val_log_loss", "val_mse",      "val_rmse",      "val_mae",    "val_r2"};

namespace {

const std::vector<std::string> kSections = {"data",     "preprocessing", "model", "optimizer",
                                            "schedule", "training",      "output"};

// A relative path is tried against the current directory, then against the config's directory.
// The result is absolute, so the resolved config loads the same data from any directory.
std::string resolve_data_path(const TomlTable& t, const std::string& given,
                              const std::string& config_path) {
  const fs::path p(given);
  const fs::path beside = fs::path(config_path).parent_path() / p;
  std::error_code ec;
  for (const fs::path& candidate : {p, beside})
    if (fs::exists(candidate, ec)) return fs::absolute(candidate, ec).lexically_normal().string();
  if (p.is_absolute() || beside == p) t.fail("path", "file not found");
  t.fail("path", "file not found; tried " + given + " (from the current directory) and " +
                     beside.string() + " (next to the config)");
}

DataConfig read_data(TomlTable t, const std::string& config_path) {
  DataConfig d;
  d.path = t.get_string("path", d.path);
  d.target = t.get_string("target", d.target);
  d.features = t.get_strings("features", d.features);
  d.task = t.get_string("task", d.task, {"auto", "classification", "regression"});
  d.delimiter = t.get_string("delimiter", d.delimiter);
  d.split = t.get_doubles("split", d.split, Range::closed(0, 1));
  d.stratify = t.get_bool("stratify", d.stratify);
  d.seed = t.get_int("seed", d.seed, Range::at_least(0));
  d.synthetic = t.get_string("synthetic", d.synthetic, {"", "linear"});
  d.samples = t.get_int("samples", d.samples, Range::at_least(1));
  d.weights = t.get_doubles("weights", d.weights);
  d.bias = t.get_double("bias", d.bias);
  d.noise = t.get_double("noise", d.noise, Range::at_least(0));
  t.finish();

  if (d.delimiter.size() > 1) t.fail("delimiter", "must be one character, or \"\" to detect it");
  if (d.split.size() != 3) t.fail("split", "expected 3 fractions: train, validation, test");
  const double total = d.split[0] + d.split[1] + d.split[2];
  if (std::abs(total - 1) > 1e-6) {
    std::ostringstream os;
    os << "fractions sum to " << total << "; they must sum to 1";
    t.fail("split", os.str());
  }
  if (d.split[0] == 0) t.fail("split", "the training fraction must be > 0");
  if (!d.synthetic.empty()) {
    if (!d.path.empty()) t.fail("synthetic", "set either data.path or data.synthetic, not both");
    if (d.weights.empty()) t.fail("weights", "must list at least one weight (one per feature)");
    return d;
  }
  if (d.path.empty())
    t.fail("path", "missing; set data.path to a CSV file, or data.synthetic = \"linear\"");
  if (d.target.empty()) t.fail("target", "missing; name the column to predict");
  d.path = resolve_data_path(t, d.path, config_path);
  return d;
}

PreprocessConfig read_preprocessing(TomlTable t) {
  PreprocessConfig p;
  p.missing = t.get_string("missing", p.missing, {"drop", "mean", "median", "mode", "constant"});
  p.fill_value = t.get_double("fill_value", p.fill_value);
  p.outliers = t.get_string("outliers", p.outliers, {"none", "zscore", "iqr"});
  p.outlier_threshold = t.get_double("outlier_threshold", p.outlier_threshold, Range::at_least(0));
  p.outlier_action = t.get_string("outlier_action", p.outlier_action, {"clip", "drop"});
  p.normalize =
      t.get_string("normalize", p.normalize, {"none", "minmax", "minmax_sym", "standard"});
  p.categorical = t.get_string("categorical", p.categorical, {"onehot", "index"});
  p.normalize_target = t.get_bool("normalize_target", p.normalize_target);
  t.finish();
  return p;
}

ModelConfig read_model(TomlTable t) {
  ModelConfig m;
  m.type = t.get_string("type", m.type, {"linear", "logistic", "mlp"});
  m.hidden = t.get_ints("hidden", m.hidden, Range::at_least(1));
  m.activation = t.get_string("activation", m.activation, kActivationNames);
  m.dropout = t.get_double("dropout", m.dropout, Range::half_open(0, 1));
  m.norm = t.get_string("norm", m.norm, {"none", "batch", "layer"});
  t.finish();
  return m;
}

OptimizerConfig read_optimizer(TomlTable t) {
  OptimizerConfig o;
  o.name = t.get_string("name", o.name, kOptimizerNames);
  o.lr = t.get_double("lr", o.lr, Range::above(0));
  o.weight_decay = t.get_double("weight_decay", o.weight_decay, Range::at_least(0));
  o.momentum = t.get_double("momentum", o.momentum, Range::at_least(0));
  o.nesterov = t.get_bool("nesterov", o.nesterov);
  o.betas = t.get_doubles("betas", o.betas, Range::half_open(0, 1));
  o.eps = t.get_double("eps", o.eps, Range::above(0));
  o.alpha = t.get_double("alpha", o.alpha, Range::closed(0, 1));
  t.finish();
  if (o.betas.size() != 2) t.fail("betas", "expected 2 values: [beta1, beta2]");
  if (o.name == "sgd" && o.nesterov && o.momentum == 0)
    t.fail("nesterov", "needs optimizer.momentum > 0");
  return o;
}

ScheduleConfig read_schedule(TomlTable t) {
  ScheduleConfig s;
  s.name = t.get_string("name", s.name, kScheduleNames);
  s.step_size = t.get_int("step_size", s.step_size, Range::at_least(1));
  s.gamma = t.get_double("gamma", s.gamma, Range::above(0));
  s.warmup_steps = t.get_int("warmup_steps", s.warmup_steps, Range::at_least(0));
  s.min_lr = t.get_double("min_lr", s.min_lr, Range::at_least(0));
  s.max_lr = t.get_double("max_lr", s.max_lr, Range::at_least(0));
  s.patience = t.get_int("patience", s.patience, Range::at_least(0));
  s.factor = t.get_double("factor", s.factor, Range::open(0, 1));
  t.finish();
  return s;
}

TrainingConfig read_training(TomlTable t) {
  TrainingConfig c;
  c.epochs = t.get_int("epochs", c.epochs, Range::at_least(1));
  c.steps = t.get_int("steps", c.steps, Range::at_least(0));
  c.batch_size = t.get_int("batch_size", c.batch_size, Range::at_least(1));
  c.loss = t.get_string("loss", c.loss, {"auto", "mse", "l1", "huber", "cross_entropy", "bce"});
  c.grad_clip = t.get_double("grad_clip", c.grad_clip, Range::at_least(0));
  c.grad_accum = t.get_int("grad_accum", c.grad_accum, Range::at_least(1));
  c.val_every = t.get_int("val_every", c.val_every, Range::at_least(0));
  c.monitor = t.get_string("monitor", c.monitor, kMonitorNames);
  c.early_stopping = t.get_int("early_stopping", c.early_stopping, Range::at_least(0));
  c.seed = t.get_int("seed", c.seed, Range::at_least(0));
  c.shuffle = t.get_bool("shuffle", c.shuffle);
  c.drop_last = t.get_bool("drop_last", c.drop_last);
  c.prefetch = t.get_int("prefetch", c.prefetch, Range::at_least(0));
  c.log_every = t.get_int("log_every", c.log_every, Range::at_least(0));
  t.finish();
  return c;
}

OutputConfig read_output(TomlTable t, const std::string& config_path) {
  OutputConfig o;
  o.dir = t.get_string("dir", "runs/" + fs::path(config_path).stem().string());
  o.plots = t.get_bool("plots", o.plots);
  o.report = t.get_bool("report", o.report);
  o.checkpoint_every = t.get_int("checkpoint_every", o.checkpoint_every, Range::at_least(0));
  t.finish();
  if (o.dir.empty()) t.fail("dir", "must not be empty");
  return o;
}

}  // namespace

TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides) {
  io::TomlDocument doc = io::TomlDocument::parse_file(path);
  for (const std::string& o : overrides) doc.set(o);
  TomlTable root = doc.root();
  std::vector<TomlTable> sections;
  for (const std::string& name : kSections) sections.push_back(root.table(name));
  root.finish();  // unknown sections first: a misspelt [data] is reported as such
  EMBER_CHECK_T(ConfigError, root.contains("data"), path, ": missing section [data]");

  TrainConfig c;
  c.source = path;
  c.data = read_data(sections[0], path);
  c.preprocessing = read_preprocessing(sections[1]);
  c.model = read_model(sections[2]);
  c.optimizer = read_optimizer(sections[3]);
  c.schedule = read_schedule(sections[4]);
  c.training = read_training(sections[5]);
  c.output = read_output(sections[6], path);
  return c;
}

namespace {

// Accumulates "key = value" lines under "[section]" headers.
class Writer {
 public:
  void section(const std::string& name) {
    if (!out_.empty()) out_ += "\n";
    out_ += "[" + name + "]\n";
  }
  template <class T>
  void key(const std::string& k, const T& v) {
    out_ += k + " = " + io::toml_value(v) + "\n";
  }
  std::string str() && { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string to_toml(const TrainConfig& c) {
  Writer w;
  w.section("data");
  w.key("path", c.data.path);
  w.key("target", c.data.target);
  w.key("features", c.data.features);
  w.key("task", c.data.task);
  w.key("delimiter", c.data.delimiter);
  w.key("split", c.data.split);
  w.key("stratify", c.data.stratify);
  w.key("seed", c.data.seed);
  w.key("synthetic", c.data.synthetic);
  w.key("samples", c.data.samples);
  w.key("weights", c.data.weights);
  w.key("bias", c.data.bias);
  w.key("noise", c.data.noise);

  w.section("preprocessing");
  w.key("missing", c.preprocessing.missing);
  w.key("fill_value", c.preprocessing.fill_value);
  w.key("outliers", c.preprocessing.outliers);
  w.key("outlier_threshold", c.preprocessing.outlier_threshold);
  w.key("outlier_action", c.preprocessing.outlier_action);
  w.key("normalize", c.preprocessing.normalize);
  w.key("categorical", c.preprocessing.categorical);
  w.key("normalize_target", c.preprocessing.normalize_target);

  w.section("model");
  w.key("type", c.model.type);
  w.key("hidden", c.model.hidden);
  w.key("activation", c.model.activation);
  w.key("dropout", c.model.dropout);
  w.key("norm", c.model.norm);

  w.section("optimizer");
  w.key("name", c.optimizer.name);
  w.key("lr", c.optimizer.lr);
  w.key("weight_decay", c.optimizer.weight_decay);
  w.key("momentum", c.optimizer.momentum);
  w.key("nesterov", c.optimizer.nesterov);
  w.key("betas", c.optimizer.betas);
  w.key("eps", c.optimizer.eps);
  w.key("alpha", c.optimizer.alpha);

  w.section("schedule");
  w.key("name", c.schedule.name);
  w.key("step_size", c.schedule.step_size);
  w.key("gamma", c.schedule.gamma);
  w.key("warmup_steps", c.schedule.warmup_steps);
  w.key("min_lr", c.schedule.min_lr);
  w.key("max_lr", c.schedule.max_lr);
  w.key("patience", c.schedule.patience);
  w.key("factor", c.schedule.factor);

  w.section("training");
  w.key("epochs", c.training.epochs);
  w.key("steps", c.training.steps);
  w.key("batch_size", c.training.batch_size);
  w.key("loss", c.training.loss);
  w.key("grad_clip", c.training.grad_clip);
  w.key("grad_accum", c.training.grad_accum);
  w.key("val_every", c.training.val_every);
  w.key("monitor", c.training.monitor);
  w.key("early_stopping", c.training.early_stopping);
  w.key("seed", c.training.seed);
  w.key("shuffle", c.training.shuffle);
  w.key("drop_last", c.training.drop_last);
  w.key("prefetch", c.training.prefetch);
  w.key("log_every", c.training.log_every);

  w.section("output");
  w.key("dir", c.output.dir);
  w.key("plots", c.output.plots);
  w.key("report", c.output.report);
  w.key("checkpoint_every", c.output.checkpoint_every);
  return std::move(w).str();
}

}  // namespace ember::train
