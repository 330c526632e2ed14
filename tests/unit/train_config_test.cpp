// train/config: loading the TOML training config, its validation errors, overrides and to_toml.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ember/train/config.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;
using train::load_train_config;
using train::TrainConfig;
namespace fs = std::filesystem;

namespace {

const std::string kDir = EMBER_TEST_TMPDIR "/train_config";

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// A config file <kDir>/<name>.toml next to a small CSV (cfg_test_rows.csv).
std::string config(const std::string& name, const std::string& text) {
  write(kDir + "/cfg_test_rows.csv", "a,b,y\n1,2,0\n");
  const std::string path = kDir + "/" + name + ".toml";
  write(path, text);
  return path;
}

const std::string kData = "[data]\npath = \"cfg_test_rows.csv\"\ntarget = \"y\"\n";

// Loads text and expects a ConfigError containing every fragment.
void expect_config_error(const std::string& text, std::initializer_list<std::string> fragments,
                         const std::vector<std::string>& overrides = {}) {
  const std::string path = config("bad", text);
  expect_error<ConfigError>([&] { load_train_config(path, overrides); }, fragments);
}

}  // namespace

TEST(TrainConfig, MinimalConfigGetsEveryDefault) {
  const std::string path = config("minimal", kData);
  const TrainConfig c = load_train_config(path);
  // The data file is not in the current directory, so it is found next to the config.
  EXPECT_EQ(c.data.path, kDir + "/cfg_test_rows.csv");
  EXPECT_EQ(c.data.target, "y");
  EXPECT_EQ(c.source, path);
  EXPECT_EQ(c.output.dir, "runs/minimal");
  TrainConfig want;
  want.data.path = c.data.path;
  want.data.target = "y";
  want.output.dir = "runs/minimal";
  want.source = path;
  EXPECT_TRUE(c == want);
  EXPECT_EQ(c.optimizer.name, "adam");
  EXPECT_EQ(c.optimizer.lr, 1e-3);
  EXPECT_EQ(c.model.hidden, (std::vector<int64_t>{64}));
  EXPECT_EQ(c.data.split, (std::vector<double>{0.7, 0.15, 0.15}));
}

const char* kFull = R"([data]
path = "cfg_test_rows.csv"
target = "y"
features = ["a", "b"]
task = "classification"
delimiter = ";"
split = [0.6, 0.2, 0.2]
stratify = false
seed = 7
samples = 50
weights = [1.5, -2]
bias = 0.5
noise = 0.25

[preprocessing]
missing = "median"
fill_value = -1
outliers = "zscore"
outlier_threshold = 2.5
outlier_action = "drop"
normalize = "minmax"
categorical = "index"
normalize_target = false

[model]
type = "mlp"
hidden = [32, 16]
activation = "gelu"
dropout = 0.1
norm = "batch"

[optimizer]
name = "sgd"
lr = 0.05
weight_decay = 1e-4
momentum = 0.9
nesterov = true
betas = [0.8, 0.99]
eps = 1e-6
alpha = 0.9

[schedule]
name = "warmup_cosine"
step_size = 3
gamma = 0.5
warmup_steps = 20
min_lr = 1e-5
max_lr = 0.1
patience = 2
factor = 0.5

[training]
epochs = 12
steps = 300
batch_size = 16
loss = "cross_entropy"
grad_clip = 1.0
grad_accum = 2
val_every = 10
monitor = "val_accuracy"
early_stopping = 4
seed = 3
shuffle = false
drop_last = true
prefetch = 0
log_every = 5

[output]
dir = "out/run1"
plots = false
report = false
checkpoint_every = 2
)";

TEST(TrainConfig, EveryKeyIsRead) {
  const TrainConfig c = load_train_config(config("full", kFull));
  EXPECT_EQ(c.data.features, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.data.task, "classification");
  EXPECT_EQ(c.data.delimiter, ";");
  EXPECT_EQ(c.data.split, (std::vector<double>{0.6, 0.2, 0.2}));
  EXPECT_FALSE(c.data.stratify);
  EXPECT_EQ(c.data.seed, 7);
  EXPECT_EQ(c.data.samples, 50);
  EXPECT_EQ(c.data.weights, (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(c.data.bias, 0.5);
  EXPECT_EQ(c.data.noise, 0.25);
  EXPECT_EQ(c.preprocessing.missing, "median");
  EXPECT_EQ(c.preprocessing.fill_value, -1);
  EXPECT_EQ(c.preprocessing.outliers, "zscore");
  EXPECT_EQ(c.preprocessing.outlier_threshold, 2.5);
  EXPECT_EQ(c.preprocessing.outlier_action, "drop");
  EXPECT_EQ(c.preprocessing.normalize, "minmax");
  EXPECT_EQ(c.preprocessing.categorical, "index");
  EXPECT_FALSE(c.preprocessing.normalize_target);
  EXPECT_EQ(c.model.hidden, (std::vector<int64_t>{32, 16}));
  EXPECT_EQ(c.model.activation, "gelu");
  EXPECT_EQ(c.model.dropout, 0.1);
  EXPECT_EQ(c.model.norm, "batch");
  EXPECT_EQ(c.optimizer.name, "sgd");
  EXPECT_EQ(c.optimizer.lr, 0.05);
  EXPECT_EQ(c.optimizer.weight_decay, 1e-4);
  EXPECT_EQ(c.optimizer.momentum, 0.9);
  EXPECT_TRUE(c.optimizer.nesterov);
  EXPECT_EQ(c.optimizer.betas, (std::vector<double>{0.8, 0.99}));
  EXPECT_EQ(c.optimizer.eps, 1e-6);
  EXPECT_EQ(c.optimizer.alpha, 0.9);
  EXPECT_EQ(c.schedule.name, "warmup_cosine");
  EXPECT_EQ(c.schedule.step_size, 3);
  EXPECT_EQ(c.schedule.gamma, 0.5);
  EXPECT_EQ(c.schedule.warmup_steps, 20);
  EXPECT_EQ(c.schedule.min_lr, 1e-5);
  EXPECT_EQ(c.schedule.max_lr, 0.1);
  EXPECT_EQ(c.schedule.patience, 2);
  EXPECT_EQ(c.schedule.factor, 0.5);
  EXPECT_EQ(c.training.epochs, 12);
  EXPECT_EQ(c.training.steps, 300);
  EXPECT_EQ(c.training.batch_size, 16);
  EXPECT_EQ(c.training.loss, "cross_entropy");
  EXPECT_EQ(c.training.grad_clip, 1.0);
  EXPECT_EQ(c.training.grad_accum, 2);
  EXPECT_EQ(c.training.val_every, 10);
  EXPECT_EQ(c.training.monitor, "val_accuracy");
  EXPECT_EQ(c.training.early_stopping, 4);
  EXPECT_EQ(c.training.seed, 3);
  EXPECT_FALSE(c.training.shuffle);
  EXPECT_TRUE(c.training.drop_last);
  EXPECT_EQ(c.training.prefetch, 0);
  EXPECT_EQ(c.training.log_every, 5);
  EXPECT_EQ(c.output.dir, "out/run1");
  EXPECT_FALSE(c.output.plots);
  EXPECT_FALSE(c.output.report);
  EXPECT_EQ(c.output.checkpoint_every, 2);
}

TEST(TrainConfig, ToTomlRoundTrips) {
  // Every value of kFull differs from its default, so a key to_toml forgot would reload wrong.
  const TrainConfig c = load_train_config(config("full", kFull));
  const std::string text = train::to_toml(c);
  const std::string again = kDir + "/again/resolved.toml";
  write(again, text);
  TrainConfig r = load_train_config(again);
  EXPECT_EQ(r.source, again);
  r.source = c.source;
  EXPECT_TRUE(r == c) << text;
  // Defaults (and a synthetic data section) round-trip too.
  const TrainConfig d = load_train_config(config("synth", "[data]\nsynthetic = \"linear\"\n"));
  write(again, train::to_toml(d));
  TrainConfig rd = load_train_config(again);
  rd.source = d.source;
  EXPECT_TRUE(rd == d) << train::to_toml(d);
  EXPECT_EQ(d.output.dir, "runs/synth");
  EXPECT_NE(text.find("[schedule]\nname = \"warmup_cosine\"\n"), std::string::npos) << text;
}

TEST(TrainConfig, SyntheticDataNeedsNoFileOrTarget) {
  const TrainConfig c =
      load_train_config(config("synthetic", "[data]\nsynthetic = \"linear\"\nsamples = 100\n"));
  EXPECT_EQ(c.data.synthetic, "linear");
  EXPECT_EQ(c.data.samples, 100);
  EXPECT_EQ(c.data.weights, (std::vector<double>{3.0, 2.0}));
  EXPECT_TRUE(c.data.path.empty());
}

TEST(TrainConfig, OverridesApplyBeforeValidation) {
  const std::string path = config("over", kData + "[optimizer]\nlr = 0.1\n");
  const TrainConfig c = load_train_config(
      path, {"optimizer.lr=0.01", "model.hidden=[8, 4]", "training.monitor=val_f1"});
  EXPECT_EQ(c.optimizer.lr, 0.01);
  EXPECT_EQ(c.model.hidden, (std::vector<int64_t>{8, 4}));
  EXPECT_EQ(c.training.monitor, "val_f1");
  expect_error<ConfigError>(
      [&] { load_train_config(path, {"optimizer.lrr=1"}); },
      {"--set optimizer.lrr=1: unknown key 'optimizer.lrr' in [optimizer]", "did you mean 'lr'?"});
  expect_error<ConfigError>([&] { load_train_config(path, {"optimizer.lr=-1"}); },
                            {"--set optimizer.lr=-1: optimizer.lr = -1: must be > 0"});
  expect_error<ConfigError>(
      [&] { load_train_config(path, {"trainig.epochs=3"}); },
      {"--set trainig.epochs=3: unknown section [trainig]", "did you mean 'training'?"});
}

TEST(TrainConfig, StructureErrors) {
  expect_config_error("[model]\ntype = \"mlp\"\n", {"bad.toml: missing section [data]"});
  expect_config_error(kData + "[optimiser]\nlr = 1\n",
                      {"bad.toml:4:2: unknown section [optimiser]", "did you mean 'optimizer'?"});
  expect_config_error(
      kData + "[training]\nepoch = 3\n",
      {"bad.toml:5:1: unknown key 'training.epoch' in [training]", "did you mean 'epochs'?"});
  expect_config_error(kData + "lr = 1\n", {"bad.toml:4:1: unknown key 'data.lr' in [data]"});
  expect_config_error("[data\npath = 1\n", {"bad.toml:1:"});  // TOML syntax error
}

TEST(TrainConfig, ValueErrorsNameKeyValueAndRule) {
  expect_config_error(kData + "[optimizer]\nlr = \"fast\"\n",
                      {"bad.toml:5:6: optimizer.lr: expected a number, got string \"fast\""});
  expect_config_error(kData + "[optimizer]\nlr = -0.1\n",
                      {"bad.toml:5:6: optimizer.lr = -0.1: must be > 0"});
  expect_config_error(kData + "[optimizer]\nlr = 0\n", {"optimizer.lr = 0: must be > 0"});
  expect_config_error(kData + "[training]\nbatch_size = 0\n",
                      {"bad.toml:5:14: training.batch_size = 0: must be >= 1"});
  expect_config_error(kData + "[training]\nbatch_size = 3.5\n",
                      {"training.batch_size: expected an integer"});
  expect_config_error(kData + "[model]\ndropout = 1.0\n",
                      {"model.dropout = 1.0: must be in [0, 1)"});
  expect_config_error(kData + "[model]\ndropout = -0.1\n",
                      {"model.dropout = -0.1: must be in [0, 1)"});
  expect_config_error(kData + "[model]\nhidden = [16, 0]\n", {"model.hidden[1] = 0: must be >= 1"});
  expect_config_error(
      "[data]\npath = \"cfg_test_rows.csv\"\ntarget = \"y\"\nsplit = [0.5, 0.3, 0.1]\n",
      {"bad.toml:4:9: data.split = [0.5, 0.3, 0.1]: fractions sum to 0.9; they "
       "must sum to 1"});
  expect_config_error(kData + "split = [0.5, 0.5]\n", {"data.split", "expected 3 fractions"});
  expect_config_error(kData + "split = [0, 0.5, 0.5]\n", {"the training fraction must be > 0"});
  expect_config_error(kData + "delimiter = \";;\"\n",
                      {"data.delimiter = \";;\": must be one character"});
  expect_config_error(kData + "[optimizer]\nbetas = [0.9]\n",
                      {"optimizer.betas", "expected 2 values"});
  expect_config_error(kData + "[optimizer]\nname = \"sgd\"\nnesterov = true\n",
                      {"optimizer.nesterov = true: needs optimizer.momentum > 0"});
  expect_config_error(kData + "[schedule]\nfactor = 1\n",
                      {"schedule.factor = 1: must be in (0, 1)"});
}

TEST(TrainConfig, UnknownNamesListWhatIsAllowed) {
  expect_config_error(kData + "[optimizer]\nname = \"adamm\"\n",
                      {"optimizer.name = \"adamm\": must be one of \"sgd\", \"adam\", \"adamw\", "
                       "\"rmsprop\", \"adagrad\", \"sparse_adam\"; did you mean \"adam\"?"});
  expect_config_error(kData + "[schedule]\nname = \"cosin\"\n",
                      {"schedule.name = \"cosin\": must be one of", "did you mean \"cosine\"?"});
  expect_config_error(kData + "[model]\nactivation = \"swish\"\n",
                      {"model.activation = \"swish\": must be one of \"relu\""});
  expect_config_error(kData + "[model]\ntype = \"cnn\"\n",
                      {"model.type = \"cnn\": must be one of"});
  expect_config_error(kData + "[model]\nnorm = \"group\"\n", {"model.norm = \"group\""});
  expect_config_error(kData + "[training]\nloss = \"mae\"\n", {"training.loss = \"mae\""});
  expect_config_error(kData + "[training]\nmonitor = \"val_acc\"\n",
                      {"training.monitor = \"val_acc\": must be one of"});
  expect_config_error(kData + "task = \"ranking\"\n", {"data.task = \"ranking\""});
  expect_config_error(kData + "[preprocessing]\nmissing = \"zero\"\n",
                      {"preprocessing.missing = \"zero\": must be one of \"drop\", \"mean\""});
}

TEST(TrainConfig, DataSectionRules) {
  expect_config_error("[data]\npath = \"cfg_test_rows.csv\"\n",
                      {"bad.toml:1:1: data.target: missing; name the column to predict"});
  expect_config_error("[data]\ntarget = \"y\"\n", {"data.path: missing", "data.synthetic"});
  expect_config_error("[data]\npath = \"cfg_test_rows.csv\"\nsynthetic = \"linear\"\n",
                      {"data.synthetic = \"linear\": set either data.path or data.synthetic"});
  expect_config_error("[data]\nsynthetic = \"linear\"\nweights = []\n",
                      {"data.weights", "at least one"});
  expect_config_error("[data]\nsynthetic = \"quadratic\"\n", {"data.synthetic = \"quadratic\""});
  // A file found nowhere: both tried paths are named.
  expect_config_error("[data]\npath = \"nowhere.csv\"\ntarget = \"y\"\n",
                      {"bad.toml:2:8: data.path = \"nowhere.csv\": file not found; tried "
                       "nowhere.csv (from the current directory) and " +
                       kDir + "/nowhere.csv (next to the config)"});
}

TEST(TrainConfig, RelativeDataPathPrefersTheCurrentDirectory) {
  const std::string path = config("cwd", kData);
  const fs::path old = fs::current_path();
  const std::string cwd = kDir + "/cwd_dir";
  write(cwd + "/cfg_test_rows.csv", "a,y\n1,0\n");
  fs::current_path(cwd);
  TrainConfig c;
  try {
    c = load_train_config(path);
  } catch (...) {
    fs::current_path(old);
    throw;
  }
  fs::current_path(old);
  EXPECT_EQ(c.data.path, cwd + "/cfg_test_rows.csv");  // the copy in the current directory wins
  // An absolute path is taken as is.
  const std::string abs = kDir + "/cfg_test_rows.csv";
  EXPECT_EQ(load_train_config(config("abs", "[data]\npath = \"" + abs + "\"\ntarget = \"y\"\n"))
                .data.path,
            abs);
}
