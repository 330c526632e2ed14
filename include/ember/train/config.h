// The training config schema: one struct per TOML section, strict loading, resolved TOML output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/data/fields.h"

namespace ember::train {

/// [data]: where the examples come from and how they are split.
struct DataConfig {
  /// csv | fashion_mnist | mnist | image_folder | text | text_classes. fashion_mnist and mnist read
  /// the four IDX files (train/t10k images and labels, plain or .gz) of the directory `path` and
  /// keep the official test set; validation is carved from the training set (val_fraction).
  /// image_folder reads one subdirectory of images per class and splits them with `split`. text
  /// reads one UTF-8 file (or every .txt file of a directory, in name order) for a language model:
  /// the first 1 - val_fraction of its tokens train, the rest validate. text_classes reads a
  /// directory with one UTF-8 .txt file per class (the class is the file name without .txt),
  /// collapses its whitespace and cuts each file into passages of passage_chars characters:
  /// data.split's fractions are taken in order along every file (train first, test last), so no
  /// passage of one split overlaps another's text.
  std::string format = "csv";
  /// CSV file, or the dataset's directory for the image formats. A relative path is tried against
  /// the current directory, then against the config file's directory; load_train_config stores
  /// the absolute path it found.
  std::string path;
  double val_fraction = 0.1;  ///< fashion_mnist, mnist: share of the training set held out, [0, 1);
                              ///< text: share of the tokens (at the end) held out
  /// text, text_classes: "char" (a character vocabulary built from the text and saved with the
  /// model), "bpe" (a byte-level BPE of vocab_size tokens learned from the training text) or a
  /// tokenizer directory (GPT-2 BPE: encoder.json + vocab.bpe, as `ember tokenizer train` writes).
  std::string tokenizer = "char";
  int64_t vocab_size = 4096;    ///< tokenizer = "bpe": tokens to learn, >= 257
  int64_t passage_chars = 300;  ///< text_classes: characters per passage, >= 1
  int64_t passage_stride = 0;   ///< text_classes: training passages start every this many
                                ///< characters (overlapping when < passage_chars); 0: passage_chars
  /// image_folder: [height, width] every image is resized to (bilinear); empty keeps the size of
  /// the first image (all must then share it).
  std::vector<int64_t> image_size = {};
  int64_t channels = 0;               ///< image_folder: 0 (as stored), 1 (gray), 3 (RGB)
  std::string target;                 ///< target column (required unless synthetic)
  std::vector<std::string> features;  ///< empty: all columns but target
  /// auto | classification | regression. auto: a categorical target, or an integer target with
  /// <= 20 distinct values, is a classification.
  std::string task = "auto";
  double label_threshold = 0.5;  ///< ctr: label = 1 when target >= label_threshold
  /// ctr: the user and item columns (e.g. userId, movieId) for `ember recommend` and the ranking
  /// metrics (HR@10, NDCG@10); "" = none. item_title: a column shown next to the item ("" = none).
  std::string user, item, item_title;
  std::string delimiter = "";  ///< "" detects it; otherwise one character
  std::vector<double> split = {0.7, 0.15,
                               0.15};  ///< train, validation, test; each in [0, 1], sum 1
  bool stratify = true;                ///< keep class proportions in every split
  int64_t seed = 0;                    ///< split seed, >= 0
  /// Synthetic data instead of a file: "" | "linear" (y = x·weights + bias + noise, the founding
  /// document's y = 3 x1 + 2 x2 + noise; features x1, x2, ... uniform in [0, 1), target y; the
  /// noise is normal with standard deviation `noise`; seeded by data.seed).
  std::string synthetic = "";
  int64_t samples = 1000;                    ///< >= 1
  std::vector<double> weights = {3.0, 2.0};  ///< one per feature, at least one
  double bias = 0.0;
  double noise = 0.1;  ///< standard deviation of the noise, >= 0
  bool operator==(const DataConfig&) const = default;
};

/// [preprocessing]: fitted on the training split (names as in data::PreprocessOptions).
struct PreprocessConfig {
  std::string missing = "mean";         ///< drop | mean | median | mode | constant
  double fill_value = 0;                ///< for missing = "constant"
  std::string outliers = "none";        ///< none | zscore | iqr
  double outlier_threshold = 0;         ///< >= 0; 0: 3.0 for zscore, 1.5 for iqr
  std::string outlier_action = "clip";  ///< clip | drop
  std::string normalize = "standard";   ///< none | minmax | minmax_sym | standard
  std::string categorical = "onehot";   ///< onehot | index
  bool normalize_target = true;         ///< regression: standardise the target
  bool operator==(const PreprocessConfig&) const = default;
};

/// One [[model.layers]] entry of a sequential model. Input sizes are inferred from the data
/// (like Keras), so a layer names only what it outputs. Only the keys of its type are accepted.
struct LayerConfig {
  /// conv2d | linear | flatten | max_pool2d | avg_pool2d | adaptive_avg_pool2d | batch_norm
  /// (BatchNorm1d or 2d by the input's rank) | dropout | dropout2d | an activation
  /// (relu, tanh, sigmoid, gelu, leaky_relu, silu, elu)
  std::string type;
  int64_t out_channels = 0;  ///< conv2d, >= 1
  int64_t out_features = 0;  ///< linear, >= 1
  int64_t kernel_size = 3;   ///< conv2d, max_pool2d, avg_pool2d; >= 1
  int64_t stride = 0;        ///< conv2d (0 = 1), pools (0 = kernel_size)
  int64_t padding = 0;       ///< conv2d, pools; >= 0
  int64_t output_size = 1;   ///< adaptive_avg_pool2d: square output side
  double p = 0.5;            ///< dropout, dropout2d: in [0, 1)
  bool bias = true;          ///< conv2d, linear
  bool operator==(const LayerConfig&) const = default;
};

/// [model]: a tabular model (see models::build_tabular_model), an explicit layer stack or a
/// ResNet (see models::build_model).
struct ModelConfig {
  /// linear (regression: one Linear) | logistic (one Linear + softmax/cross-entropy) | mlp |
  /// sequential (the [[model.layers]] list) | resnet (channels, blocks) | gpt (text: n_layer,
  /// n_head, n_embd, block_size, dropout, bias) | bert (text_classes: a BERT encoder with a
  /// classification head; n_layer, n_head, n_embd, block_size = most tokens of a passage with
  /// its [CLS], dropout) | bow (text_classes: logistic regression on token counts). Image inputs
  /// are flattened first for linear, logistic and mlp.
  std::string type = "mlp";
  std::vector<LayerConfig> layers = {};           ///< sequential
  std::vector<int64_t> channels = {32, 64, 128};  ///< resnet: channels of each stage
  std::vector<int64_t> blocks = {1, 1, 1};        ///< resnet: basic blocks per stage
  std::vector<int64_t> hidden = {64};             ///< mlp hidden sizes, each >= 1
  std::string activation = "relu";  ///< relu | tanh | sigmoid | gelu | leaky_relu | silu | elu
  double dropout = 0.0;             ///< in [0, 1)
  std::string norm = "none";        ///< none | batch | layer
  // gpt (models::GPTConfig; vocab_size comes from the tokenizer):
  int64_t n_layer = 4, n_head = 4, n_embd = 256;
  int64_t block_size = 128;  ///< gpt: context length and training windows; bert: most tokens
  bool bias = true;          ///< biases in Linear and LayerNorm layers
  bool gradient_checkpointing = false;  ///< gpt: recompute block activations in backward
  // ctr models (logistic, fm, deepfm, wide_deep on data.format = "ctr"; see models::CTRModel),
  // which also use hidden, activation, dropout and norm for their DNN:
  int64_t embed_dim = 10;  ///< fm, deepfm, wide_deep: embedding size k
  bool sparse = false;     ///< row-sparse gradients for the embedding tables
  /// fm, deepfm, wide_deep: the fields with embeddings (FM and DNN); the others have first-order
  /// weights only. Empty: all fields. Names as in [[fields]] (timestamp parts "name.part").
  std::vector<std::string> embed_fields;
  /// bert, bert_mlm: start from these weights, every tensor whose name and shape match (the
  /// encoder of a bert_mlm run for fine-tuning, or a Hugging Face BERT directory); "": random.
  std::string init;
  bool operator==(const ModelConfig&) const = default;
};

/// One [[augment]] entry: a random transform applied to each training image on the loader's
/// worker threads (never at evaluation), in the order listed. Only the keys of its type are
/// accepted. Fill values are pixel intensities in [0, 1] (0 = black), before normalization.
struct AugmentConfig {
  /// rotation (degrees, fill) | translation (translate, fill) | resized_crop (scale, ratio) |
  /// crop (padding, fill) | horizontal_flip (p) | erasing (p, scale, ratio, value)
  std::string type;
  double degrees = 10;                         ///< rotation: uniform in [-degrees, degrees]
  std::vector<double> translate = {0.1, 0.1};  ///< translation: max shift, fraction of W and H
  std::vector<double> scale = {0.08, 1.0};     ///< resized_crop, erasing: area fraction range
  std::vector<double> ratio = {};              ///< aspect range; empty: 3/4..4/3 (crop), 0.3..3.3
  int64_t padding = 4;                         ///< crop: pad each side, then crop back
  double p = 0.5;                              ///< horizontal_flip, erasing: probability
  double fill = 0;                             ///< rotation, translation, crop: pixel value
  double value = 0;                            ///< erasing: pixel value
  bool operator==(const AugmentConfig&) const = default;
};

/// [optimizer] (see train::make_optimizer for which fields each optimizer uses).
struct OptimizerConfig {
  std::string name = "adam";  ///< sgd | adam | adamw | rmsprop | adagrad | sparse_adam
  double lr = 1e-3;           ///< > 0
  double weight_decay = 0;    ///< >= 0 (decoupled for adamw, L2 otherwise)
  double momentum = 0;        ///< sgd, rmsprop; >= 0
  bool nesterov = false;      ///< sgd; needs momentum > 0
  std::vector<double> betas = {0.9, 0.999};  ///< adam, adamw; two values in [0, 1)
  double eps = 1e-8;                         ///< adam, adamw, rmsprop, adagrad; > 0
  double alpha = 0.99;                       ///< rmsprop smoothing; in [0, 1]
  bool operator==(const OptimizerConfig&) const = default;
};

/// [schedule]: the learning-rate schedule, stepped once per optimizer step (see
/// train::Scheduler); step_size, warmup_steps and the cosine horizon count optimizer steps.
struct ScheduleConfig {
  std::string name =
      "none";  ///< none | step | exponential | cosine | warmup_cosine | onecycle | plateau
  int64_t step_size = 10;    ///< step: steps between decays, >= 1
  double gamma = 0.1;        ///< step, exponential: decay factor per decay, > 0
  int64_t warmup_steps = 0;  ///< warmup_cosine: >= 0 and below the total number of steps
  double min_lr = 0;         ///< cosine, warmup_cosine, plateau: lower bound, >= 0
  double max_lr = 0;         ///< onecycle peak; 0 = the optimizer's lr
  int64_t patience = 5;      ///< plateau: evaluations without improvement, >= 0
  double factor = 0.1;       ///< plateau: lr multiplier, in (0, 1)
  bool operator==(const ScheduleConfig&) const = default;
};

/// [training]
struct TrainingConfig {
  int64_t epochs = 100;       ///< >= 1
  int64_t steps = 0;          ///< > 0: train for this many optimizer steps instead of epochs
  int64_t batch_size = 32;    ///< >= 1
  std::string loss = "auto";  ///< auto | mse | l1 | huber | cross_entropy | bce
  double grad_clip = 0;       ///< max global L2 norm; 0 = off
  int64_t grad_accum = 1;     ///< micro-batches per optimizer step, >= 1
  int64_t val_every = 0;      ///< steps between evaluations; 0 = once per epoch
  /// metric for the best checkpoint and early stopping: train_loss, val_loss or val_<metric>
  std::string monitor = "val_loss";
  int64_t early_stopping = 0;  ///< patience in evaluations; 0 = off
  int64_t seed = 0;            ///< init, shuffling and dropout; >= 0
  bool shuffle = true;
  bool drop_last = false;
  int64_t prefetch = 4;   ///< batches prepared ahead on a background thread; 0 = none
  int64_t workers = 1;    ///< loader threads running [[augment]], >= 1
  int64_t log_every = 0;  ///< plain-line progress every N steps; 0 = auto
  /// float32 matmul precision of the run (its validation included): highest | high | medium
  /// (bfloat16 operands; see set_float32_matmul_precision)
  std::string matmul_precision = "highest";
  bool operator==(const TrainingConfig&) const = default;
};

/// [output]
struct OutputConfig {
  std::string dir = "runs/<config name>";  ///< load_train_config puts the config file's stem here
  bool plots = true;
  bool report = true;
  int64_t checkpoint_every = 1;  ///< epochs between checkpoints; 0 = only the best and the last
  bool operator==(const OutputConfig&) const = default;
};

/// A whole training config.
struct TrainConfig {
  DataConfig data;
  PreprocessConfig preprocessing;
  ModelConfig model;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  TrainingConfig training;
  OutputConfig output;
  std::vector<AugmentConfig> augment;   ///< [[augment]] entries, in order
  std::vector<data::FieldSpec> fields;  ///< [[fields]] entries of data.format = "ctr", in order
  std::string source;                   ///< the config file's path
  bool operator==(const TrainConfig&) const = default;
};

/// True for the image formats (fashion_mnist, mnist, image_folder).
bool is_image_format(const std::string& format);
/// True for data.format = "ctr" (sparse fields for click-through-rate models).
bool is_ctr_format(const std::string& format);
/// True for data.format = "text" (language modelling).
bool is_text_format(const std::string& format);

/// The names each choice accepts, in the order shown in error messages.
extern const std::vector<std::string>
    kOptimizerNames;  ///< sgd, adam, adamw, rmsprop, adagrad, sparse_adam
extern const std::vector<std::string> kScheduleNames;  ///< none, step, ..., plateau
extern const std::vector<std::string> kActivationNames;
extern const std::vector<std::string> kLayerNames;    ///< conv2d, linear, ... and activations
extern const std::vector<std::string> kAugmentNames;  ///< rotation, translation, ...
extern const std::vector<std::string> kMonitorNames;  ///< train_loss, val_loss, val_accuracy, ...

/// Reads and validates a TOML config (sections [data] [preprocessing] [model] [optimizer]
/// [schedule] [training] [output] and [[augment]] entries; only [data] is required), after applying
/// overrides
/// ("optimizer.lr=0.01", as given to --set). Every problem is an ember::ConfigError that names the
/// location, the dotted key, the value and what is allowed:
///   cfg.toml:7:4: optimizer.lr = -0.1: must be > 0
///   cfg.toml:9:1: unknown key 'training.epoch' in [training]; allowed: ...; did you mean 'epochs'?
/// Cross-field rules: exactly one of data.path and data.synthetic; data.target unless synthetic;
/// data.split sums to 1; nesterov needs momentum. data.path is resolved (cwd first, then the
/// config's directory, made absolute) and must exist; output.dir defaults to
/// "runs/<config file stem>".
TrainConfig load_train_config(const std::string& path,
                              const std::vector<std::string>& overrides = {});

/// The [model] section alone as TOML, and back (the run directory's record of the architecture,
/// so a run loads without its data). source names the text in errors.
std::string model_to_toml(const ModelConfig& model);
ModelConfig model_from_toml(const std::string& text, const std::string& source);

/// The fully resolved config as TOML: every section and every key, in schema order. Loading the
/// text again (from a file) gives the same struct, apart from `source`.
std::string to_toml(const TrainConfig& config);

}  // namespace ember::train
