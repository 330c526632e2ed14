// The training config: strict loading of each TOML section, cross-field checks, TOML output.
#include "ember/train/config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "ember/core/error.h"
#include "ember/core/matmul_precision.h"
#include "ember/core/strings.h"
#include "ember/io/toml.h"

namespace ember::train {

// [[fields]] entries (config_fields.cpp).
std::vector<data::FieldSpec> read_fields(std::vector<io::TomlTable>& tables);
std::string fields_to_toml(const std::vector<data::FieldSpec>& fields);

namespace fs = std::filesystem;
using io::Range;
using io::TomlTable;

const std::vector<std::string> kOptimizerNames = {"sgd",     "adam",    "adamw",
                                                  "rmsprop", "adagrad", "sparse_adam"};
const std::vector<std::string> kScheduleNames = {
    "none", "step", "exponential", "cosine", "warmup_cosine", "onecycle", "plateau"};
const std::vector<std::string> kActivationNames = {"relu",       "tanh", "sigmoid", "gelu",
                                                   "leaky_relu", "silu", "elu"};
const std::vector<std::string> kLayerNames = {
    "conv2d",     "linear",     "flatten",   "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d",
    "batch_norm", "dropout",    "dropout2d", "relu",       "tanh",       "sigmoid",
    "gelu",       "leaky_relu", "silu",      "elu"};
const std::vector<std::string> kAugmentNames = {"rotation", "translation",     "resized_crop",
                                                "crop",     "horizontal_flip", "erasing"};
const std::vector<std::string> kMonitorNames = {
    "val_loss", "train_loss",  "val_accuracy",  "val_precision", "val_recall",
    "val_f1",   "val_roc_auc", "val_log_loss",  "val_mse",       "val_rmse",
    "val_mae",  "val_r2",      "val_perplexity"};

bool is_image_format(const std::string& format) {
  return format == "fashion_mnist" || format == "mnist" || format == "image_folder";
}

bool is_ctr_format(const std::string& format) {
  return format == "ctr";
}

bool is_text_format(const std::string& format) {
  return format == "text" || format == "text_classes";
}

namespace {

// The embedding models of CTR data (logistic fits both tables and CTR data).
bool is_ctr_model(const std::string& type) {
  return type == "fm" || type == "deepfm" || type == "wide_deep";
}

const std::vector<std::string> kSections = {"data",      "preprocessing", "model",
                                            "optimizer", "schedule",      "training",
                                            "output",    "augment",       "fields"};

void check_split(const TomlTable& t, const std::vector<double>& split) {
  if (split.size() != 3) t.fail("split", "expected 3 fractions: train, validation, test");
  const double total = split[0] + split[1] + split[2];
  if (std::abs(total - 1) > 1e-6) {
    std::ostringstream os;
    os << "fractions sum to " << total << "; they must sum to 1";
    t.fail("split", os.str());
  }
  if (split[0] == 0) t.fail("split", "the training fraction must be > 0");
}

// A relative path is tried against the current directory, then against the config's directory.
// The result is absolute, so the resolved config loads the same data from any directory.
std::string resolve_data_path(const TomlTable& t, const std::string& given,
                              const std::string& config_path, const std::string& key = "path") {
  const fs::path p(given);
  const fs::path beside = fs::path(config_path).parent_path() / p;
  std::error_code ec;
  for (const fs::path& candidate : {p, beside})
    if (fs::exists(candidate, ec)) return fs::absolute(candidate, ec).lexically_normal().string();
  if (p.is_absolute() || beside == p) t.fail(key, "file not found");
  t.fail(key, "file not found; tried " + given + " (from the current directory) and " +
                  beside.string() + " (next to the config)");
}

// [data] of an image dataset: only the keys that mean something for its format.
DataConfig read_image_data(TomlTable& t, DataConfig d, const std::string& config_path) {
  const bool official_test = d.format != "image_folder";
  if (official_test) {
    d.val_fraction = t.get_double("val_fraction", d.val_fraction, Range::half_open(0, 1));
  } else {
    d.split = t.get_doubles("split", d.split, Range::closed(0, 1));
    d.stratify = t.get_bool("stratify", d.stratify);
    d.image_size = t.get_ints("image_size", d.image_size, Range::at_least(1));
    d.channels = t.get_int("channels", d.channels);
  }
  d.seed = t.get_int("seed", d.seed, Range::at_least(0));
  t.finish();
  d.task = "classification";
  if (!official_test) {
    check_split(t, d.split);
    if (!d.image_size.empty() && d.image_size.size() != 2)
      t.fail("image_size", "expected [height, width]");
    if (d.channels != 0 && d.channels != 1 && d.channels != 3)
      t.fail("channels", "must be 0 (as stored), 1 (gray) or 3 (RGB)");
  }
  if (d.path.empty()) t.fail("path", "missing; set data.path to the dataset's directory");
  d.path = resolve_data_path(t, d.path, config_path);
  return d;
}

// [data] of a text corpus: for a language model (text) or one class per file (text_classes).
DataConfig read_text_data(TomlTable& t, DataConfig d, const std::string& config_path) {
  const bool classes = d.format == "text_classes";
  if (classes) {
    d.split = t.get_doubles("split", {0.8, 0.05, 0.15}, Range::closed(0, 1));
    d.passage_chars = t.get_int("passage_chars", d.passage_chars, Range::at_least(1));
    d.passage_stride = t.get_int("passage_stride", d.passage_stride, Range::at_least(0));
  } else {
    d.val_fraction = t.get_double("val_fraction", d.val_fraction, Range::half_open(0, 1));
  }
  d.tokenizer = t.get_string("tokenizer", d.tokenizer);
  if (d.tokenizer == "bpe")
    d.vocab_size = t.get_int("vocab_size", d.vocab_size, Range::at_least(257));
  d.seed = t.get_int("seed", d.seed, Range::at_least(0));
  t.finish();
  if (classes) check_split(t, d.split);
  d.task = classes ? "classification" : "language_model";
  if (d.path.empty())
    t.fail("path", classes ? "missing; set data.path to a directory with one .txt file per class"
                           : "missing; set data.path to a UTF-8 text file or directory");
  d.path = resolve_data_path(t, d.path, config_path);
  if (d.tokenizer.empty()) t.fail("tokenizer", "\"char\", \"bpe\" or a tokenizer directory");
  if (d.tokenizer != "char" && d.tokenizer != "bpe")
    d.tokenizer = resolve_data_path(t, d.tokenizer, config_path, "tokenizer");
  return d;
}

// [data] of a CTR table: a CSV file, the target and its label threshold, a random split.
DataConfig read_ctr_data(TomlTable& t, DataConfig d, const std::string& config_path) {
  d.target = t.get_string("target", d.target);
  d.label_threshold = t.get_double("label_threshold", d.label_threshold);
  d.user = t.get_string("user", d.user);
  d.item = t.get_string("item", d.item);
  d.item_title = t.get_string("item_title", d.item_title);
  d.delimiter = t.get_string("delimiter", d.delimiter);
  d.split = t.get_doubles("split", {0.8, 0.1, 0.1}, Range::closed(0, 1));
  d.seed = t.get_int("seed", d.seed, Range::at_least(0));
  t.finish();
  d.task = "classification";
  d.stratify = false;
  if (d.delimiter.size() > 1) t.fail("delimiter", "must be one character, or \"\" to detect it");
  check_split(t, d.split);
  if (d.path.empty()) t.fail("path", "missing; set data.path to a CSV file");
  if (d.target.empty()) t.fail("target", "missing; name the column the label comes from");
  if (!d.item_title.empty() && d.item.empty())
    t.fail("item_title", "needs data.item (the item column it describes)");
  d.path = resolve_data_path(t, d.path, config_path);
  return d;
}

DataConfig read_data(TomlTable t, const std::string& config_path) {
  DataConfig d;
  d.format = t.get_string(
      "format", d.format,
      {"csv", "fashion_mnist", "mnist", "image_folder", "text", "text_classes", "ctr"});
  d.path = t.get_string("path", d.path);
  if (is_image_format(d.format)) return read_image_data(t, d, config_path);
  if (is_text_format(d.format)) return read_text_data(t, d, config_path);
  if (is_ctr_format(d.format)) return read_ctr_data(t, d, config_path);
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
  check_split(t, d.split);
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

LayerConfig read_layer(TomlTable t) {
  LayerConfig l;
  l.type = t.get_string("type", l.type, kLayerNames);
  if (l.type.empty()) t.fail("type", "missing; one of " + join(kLayerNames));
  const std::string& k = l.type;
  if (k == "conv2d") l.out_channels = t.get_int("out_channels", 0, Range::at_least(1));
  if (k == "linear") l.out_features = t.get_int("out_features", 0, Range::at_least(1));
  if (k == "conv2d" || k == "max_pool2d" || k == "avg_pool2d") {
    l.kernel_size = t.get_int("kernel_size", k == "conv2d" ? 3 : 2, Range::at_least(1));
    l.stride = t.get_int("stride", 0, Range::at_least(0));
    l.padding = t.get_int("padding", 0, Range::at_least(0));
  }
  if (k == "conv2d" || k == "linear") l.bias = t.get_bool("bias", true);
  if (k == "adaptive_avg_pool2d") l.output_size = t.get_int("output_size", 1, Range::at_least(1));
  if (k == "dropout" || k == "dropout2d") l.p = t.get_double("p", 0.5, Range::half_open(0, 1));
  t.finish();
  if (k == "conv2d" && l.out_channels == 0) t.fail("out_channels", "missing; conv2d needs it");
  if (k == "linear" && l.out_features == 0) t.fail("out_features", "missing; linear needs it");
  return l;
}

ModelConfig read_model(TomlTable t) {
  ModelConfig m;
  m.type = t.get_string("type", m.type,
                        {"linear", "logistic", "mlp", "sequential", "resnet", "gpt", "bert",
                         "bert_mlm", "bow", "fm", "deepfm", "wide_deep"});
  if (m.type == "bow") {
    m.block_size = t.get_int("block_size", m.block_size, Range::at_least(2));
    t.finish();
    return m;
  }
  if (m.type == "gpt" || m.type == "bert" || m.type == "bert_mlm") {
    m.n_layer = t.get_int("n_layer", m.n_layer, Range::at_least(1));
    m.n_head = t.get_int("n_head", m.n_head, Range::at_least(1));
    m.n_embd = t.get_int("n_embd", m.n_embd, Range::at_least(1));
    m.block_size = t.get_int("block_size", m.block_size, Range::at_least(1));
    m.dropout = t.get_double("dropout", m.dropout, Range::half_open(0, 1));
    if (m.type == "gpt") m.bias = t.get_bool("bias", m.bias);
    if (m.type == "gpt")
      m.gradient_checkpointing = t.get_bool("gradient_checkpointing", m.gradient_checkpointing);
    if (m.type != "gpt") m.init = t.get_string("init", m.init);
    t.finish();
    if (m.n_embd % m.n_head != 0)
      t.fail("n_embd", "must be a multiple of model.n_head = " + std::to_string(m.n_head));
    return m;
  }
  if (m.type == "sequential") {
    for (TomlTable l : t.tables("layers")) m.layers.push_back(read_layer(l));
    t.finish();
    if (m.layers.empty()) t.fail("layers", "missing; a sequential model lists [[model.layers]]");
    return m;
  }
  if (m.type == "resnet") {
    m.channels = t.get_ints("channels", m.channels, Range::at_least(1));
    m.blocks = t.get_ints("blocks", m.blocks, Range::at_least(1));
    m.dropout = t.get_double("dropout", m.dropout, Range::half_open(0, 1));
    t.finish();
    if (m.channels.empty()) t.fail("channels", "must list at least one stage");
    if (m.blocks.size() != m.channels.size())
      t.fail("blocks", "must have one entry per stage (as many as model.channels)");
    return m;
  }
  if (is_ctr_model(m.type)) {
    m.embed_dim = t.get_int("embed_dim", m.embed_dim, Range::at_least(1));
    m.sparse = t.get_bool("sparse", m.sparse);
    m.embed_fields = t.get_strings("embed_fields", m.embed_fields);
    if (m.type == "fm") {
      t.finish();
      return m;
    }
    m.hidden = {400, 400, 400};  // DeepFM's paper
  }
  m.hidden = t.get_ints("hidden", m.hidden, Range::at_least(1));
  m.activation = t.get_string("activation", m.activation, kActivationNames);
  m.dropout = t.get_double("dropout", m.dropout, Range::half_open(0, 1));
  m.norm = t.get_string("norm", m.norm, {"none", "batch", "layer"});
  t.finish();
  return m;
}

AugmentConfig read_augment(TomlTable t) {
  AugmentConfig a;
  a.type = t.get_string("type", a.type, kAugmentNames);
  if (a.type.empty()) t.fail("type", "missing; one of " + join(kAugmentNames));
  const std::string& k = a.type;
  if (k == "rotation") a.degrees = t.get_double("degrees", a.degrees, Range::closed(0, 180));
  if (k == "translation") {
    a.translate = t.get_doubles("translate", a.translate, Range::closed(0, 1));
    if (a.translate.size() != 2) t.fail("translate", "expected [fraction_x, fraction_y]");
  }
  if (k == "resized_crop" || k == "erasing") {
    a.scale = t.get_doubles("scale", k == "erasing" ? std::vector<double>{0.02, 0.33} : a.scale,
                            Range::closed(0, 1));
    a.ratio = t.get_doubles("ratio", a.ratio, Range::above(0));
    if (a.scale.size() != 2 || a.scale[0] > a.scale[1] || a.scale[1] == 0)
      t.fail("scale", "expected [low, high] with 0 <= low <= high <= 1, high > 0");
    if (!a.ratio.empty() && (a.ratio.size() != 2 || a.ratio[0] > a.ratio[1]))
      t.fail("ratio", "expected [low, high] with 0 < low <= high");
  }
  if (k == "crop") a.padding = t.get_int("padding", a.padding, Range::at_least(0));
  if (k == "horizontal_flip" || k == "erasing") a.p = t.get_double("p", a.p, Range::closed(0, 1));
  if (k == "rotation" || k == "translation" || k == "crop")
    a.fill = t.get_double("fill", a.fill, Range::closed(0, 1));
  if (k == "erasing") a.value = t.get_double("value", a.value, Range::closed(0, 1));
  t.finish();
  return a;
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
  c.workers = t.get_int("workers", c.workers, Range::closed(1, 64));
  c.log_every = t.get_int("log_every", c.log_every, Range::at_least(0));
  c.matmul_precision =
      t.get_string("matmul_precision", c.matmul_precision, float32_matmul_precision_names());
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

// model.embed_fields must name [[fields]] (a timestamp field's parts as "name.part"), once each.
void check_embed_fields(const std::vector<std::string>& names,
                        const std::vector<data::FieldSpec>& fields, const TomlTable& model) {
  std::vector<std::string> known;
  for (const data::FieldSpec& f : fields) {
    if (f.type != "timestamp")
      known.push_back(f.name);
    else
      for (const std::string& part : f.parts) known.push_back(f.name + "." + part);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (std::find(known.begin(), known.end(), names[i]) == known.end())
      model.fail("embed_fields", "no field '" + names[i] + "'; the fields are " + join(known));
    if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
        names.begin() + static_cast<std::ptrdiff_t>(i))
      model.fail("embed_fields", "lists '" + names[i] + "' twice");
  }
}

}  // namespace

TrainConfig load_train_config(const std::string& path, const std::vector<std::string>& overrides) {
  io::TomlDocument doc = io::TomlDocument::parse_file(path);
  for (const std::string& o : overrides) doc.set(o);
  TomlTable root = doc.root();
  std::vector<TomlTable> sections;
  for (const std::string& name : kSections)
    if (name != "augment" && name != "fields") sections.push_back(root.table(name));
  std::vector<TomlTable> augment = root.tables("augment");
  std::vector<TomlTable> fields = root.tables("fields");
  root.finish();  // unknown sections first: a misspelt [data] is reported as such
  EMBER_CHECK_T(ConfigError, root.contains("data"), path, ": missing section [data]");

  TrainConfig c;
  c.source = path;
  c.data = read_data(sections[0], path);
  c.preprocessing = read_preprocessing(sections[1]);
  c.model = read_model(sections[2]);
  if (!c.model.init.empty())
    c.model.init = resolve_data_path(sections[2], c.model.init, path, "init");
  c.optimizer = read_optimizer(sections[3]);
  c.schedule = read_schedule(sections[4]);
  c.training = read_training(sections[5]);
  c.output = read_output(sections[6], path);
  for (TomlTable a : augment) c.augment.push_back(read_augment(a));
  if (!c.augment.empty() && !is_image_format(c.data.format))
    EMBER_THROW(ConfigError, augment[0].location("type"),
                ": [[augment]] needs image data (data.format = fashion_mnist, mnist or "
                "image_folder), got data.format = \"",
                c.data.format, "\"");
  // [[fields]] go with data.format = "ctr" (read first: a typo there is reported before the rest).
  c.fields = read_fields(fields);
  const std::string& format = c.data.format;
  if (is_ctr_format(format) && c.fields.empty())
    EMBER_THROW(ConfigError, path,
                ": data.format = \"ctr\" needs [[fields]] entries (one per "
                "input field: name, type, ...)");
  if (!is_ctr_format(format) && !fields.empty())
    EMBER_THROW(ConfigError, fields[0].location("name"),
                ": [[fields]] needs data.format = \"ctr\", got data.format = \"", format, "\"");
  // Which model types fit which data: gpt needs text, bert and bow need text_classes, logistic,
  // fm, deepfm and wide_deep fit ctr, and the others need tables or images.
  const std::string& type = c.model.type;
  if (is_ctr_format(format) !=
      (is_ctr_model(type) || (type == "logistic" && is_ctr_format(format))))
    EMBER_THROW(ConfigError, sections[2].location("type"), ": model.type = \"", type, "\" ",
                is_ctr_format(format) ? "does not fit data.format = \"ctr\"; use logistic, fm, "
                                        "deepfm or wide_deep"
                                      : "needs data.format = \"ctr\" and [[fields]]",
                " (data.format = \"", format, "\")");
  if (is_ctr_format(format)) {
    check_embed_fields(c.model.embed_fields, c.fields, sections[2]);
    return c;
  }
  const std::string wanted = type == "gpt" ? "text"
                             : type == "bert" || type == "bert_mlm" || type == "bow"
                                 ? "text_classes"
                                 : "";
  if (wanted != (is_text_format(format) ? format : ""))
    EMBER_THROW(ConfigError, sections[2].location("type"), ": model.type = \"", type, "\" ",
                wanted.empty()
                    ? "does not fit text data; use " +
                          std::string(format == "text" ? "\"gpt\"" : "\"bert\" or \"bow\"")
                    : "needs data.format = \"" + wanted + "\"",
                " (data.format = \"", format, "\")");
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
  void array_entry(const std::string& name) { out_ += "\n[[" + name + "]]\n"; }
  std::string str() && { return std::move(out_); }

 private:
  std::string out_;
};

// The keys read_layer accepts for the layer's type.
void write_layer(Writer& w, const LayerConfig& l) {
  w.array_entry("model.layers");
  w.key("type", l.type);
  const std::string& k = l.type;
  if (k == "conv2d") w.key("out_channels", l.out_channels);
  if (k == "linear") w.key("out_features", l.out_features);
  if (k == "conv2d" || k == "max_pool2d" || k == "avg_pool2d") {
    w.key("kernel_size", l.kernel_size);
    w.key("stride", l.stride);
    w.key("padding", l.padding);
  }
  if (k == "conv2d" || k == "linear") w.key("bias", l.bias);
  if (k == "adaptive_avg_pool2d") w.key("output_size", l.output_size);
  if (k == "dropout" || k == "dropout2d") w.key("p", l.p);
}

// The keys read_augment accepts for the transform's type.
void write_augment(Writer& w, const AugmentConfig& a) {
  w.array_entry("augment");
  w.key("type", a.type);
  const std::string& k = a.type;
  if (k == "rotation") w.key("degrees", a.degrees);
  if (k == "translation") w.key("translate", a.translate);
  if (k == "resized_crop" || k == "erasing") {
    w.key("scale", a.scale);
    w.key("ratio", a.ratio);
  }
  if (k == "crop") w.key("padding", a.padding);
  if (k == "horizontal_flip" || k == "erasing") w.key("p", a.p);
  if (k == "rotation" || k == "translation" || k == "crop") w.key("fill", a.fill);
  if (k == "erasing") w.key("value", a.value);
}

void write_model(Writer& w, const ModelConfig& m) {
  w.section("model");
  w.key("type", m.type);
  if (m.type == "resnet") {
    w.key("channels", m.channels);
    w.key("blocks", m.blocks);
    w.key("dropout", m.dropout);
  } else if (m.type == "gpt" || m.type == "bert" || m.type == "bert_mlm") {
    w.key("n_layer", m.n_layer);
    w.key("n_head", m.n_head);
    w.key("n_embd", m.n_embd);
    w.key("block_size", m.block_size);
    w.key("dropout", m.dropout);
    if (m.type == "gpt") w.key("bias", m.bias);
    if (m.type == "gpt") w.key("gradient_checkpointing", m.gradient_checkpointing);
    if (m.type != "gpt") w.key("init", m.init);
  } else if (m.type == "bow") {
    w.key("block_size", m.block_size);
  } else if (m.type != "sequential") {
    if (is_ctr_model(m.type)) {
      w.key("embed_dim", m.embed_dim);
      w.key("sparse", m.sparse);
      if (!m.embed_fields.empty()) w.key("embed_fields", m.embed_fields);
    }
    if (m.type != "fm") {  // fm has no network
      w.key("hidden", m.hidden);
      w.key("activation", m.activation);
      w.key("dropout", m.dropout);
      w.key("norm", m.norm);
    }
  }
  for (const LayerConfig& l : m.layers) write_layer(w, l);
}

}  // namespace

std::string model_to_toml(const ModelConfig& model) {
  Writer w;
  write_model(w, model);
  return std::move(w).str();
}

ModelConfig model_from_toml(const std::string& text, const std::string& source) {
  io::TomlDocument doc = io::TomlDocument::parse(text, source);
  TomlTable root = doc.root();
  TomlTable model = root.table("model");
  root.finish();
  return read_model(model);
}

std::string to_toml(const TrainConfig& c) {
  Writer w;
  w.section("data");
  w.key("format", c.data.format);
  w.key("path", c.data.path);
  if (c.data.format == "fashion_mnist" || c.data.format == "mnist") {
    w.key("val_fraction", c.data.val_fraction);
    w.key("seed", c.data.seed);
  } else if (is_text_format(c.data.format)) {
    if (c.data.format == "text") {
      w.key("val_fraction", c.data.val_fraction);
    } else {
      w.key("split", c.data.split);
      w.key("passage_chars", c.data.passage_chars);
      w.key("passage_stride", c.data.passage_stride);
    }
    w.key("tokenizer", c.data.tokenizer);
    if (c.data.tokenizer == "bpe") w.key("vocab_size", c.data.vocab_size);
    w.key("seed", c.data.seed);
  } else if (is_ctr_format(c.data.format)) {
    w.key("target", c.data.target);
    w.key("label_threshold", c.data.label_threshold);
    w.key("user", c.data.user);
    w.key("item", c.data.item);
    w.key("item_title", c.data.item_title);
    w.key("delimiter", c.data.delimiter);
    w.key("split", c.data.split);
    w.key("seed", c.data.seed);
  } else if (c.data.format == "image_folder") {
    w.key("split", c.data.split);
    w.key("stratify", c.data.stratify);
    w.key("image_size", c.data.image_size);
    w.key("channels", c.data.channels);
    w.key("seed", c.data.seed);
  } else {
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
  }

  w.section("preprocessing");
  w.key("missing", c.preprocessing.missing);
  w.key("fill_value", c.preprocessing.fill_value);
  w.key("outliers", c.preprocessing.outliers);
  w.key("outlier_threshold", c.preprocessing.outlier_threshold);
  w.key("outlier_action", c.preprocessing.outlier_action);
  w.key("normalize", c.preprocessing.normalize);
  w.key("categorical", c.preprocessing.categorical);
  w.key("normalize_target", c.preprocessing.normalize_target);

  write_model(w, c.model);

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
  w.key("workers", c.training.workers);
  w.key("log_every", c.training.log_every);
  w.key("matmul_precision", c.training.matmul_precision);

  w.section("output");
  w.key("dir", c.output.dir);
  w.key("plots", c.output.plots);
  w.key("report", c.output.report);
  w.key("checkpoint_every", c.output.checkpoint_every);
  for (const AugmentConfig& a : c.augment) write_augment(w, a);
  return std::move(w).str() + fields_to_toml(c.fields);
}

}  // namespace ember::train
