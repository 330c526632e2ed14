// The data and model plumbing shared by train, eval, predict and summary: a config becomes split,
// preprocessed tensors, a model with the right head, a loss, predictions and metrics.
#pragma once

#include <memory>
#include <string>

#include "ember/data/csv.h"
#include "ember/data/preprocess.h"
#include "ember/data/split.h"
#include "ember/data/transforms.h"
#include "ember/nn/module.h"
#include "ember/train/config.h"
#include "ember/train/metrics.h"

namespace ember::data {
class Tokenizer;
}

namespace ember::train {

/// One split as model tensors: x (N, F) float32; y (N,) int64 classes or (N, 1) float32 targets;
/// for text, x and y (N, T) int64: windows of token ids and their next tokens.
struct SplitData {
  Tensor x, y;
  std::vector<int64_t> rows;  ///< rows of the whole table
  int64_t size() const { return x.defined() ? x.size(0) : 0; }
};

/// A config's data, read (or generated), split and preprocessed.
struct PreparedData {
  data::Table table;  ///< tabular data; for images only its source (the dataset's path) is set
  data::SplitIndices split;
  data::Preprocessor pre;
  SplitData train, val, test;
  /// Images: the [[augment]] transforms for training samples (null without augmentation).
  std::shared_ptr<const data::Transform> augment;
  /// Text: the tokenizer (a char vocabulary built from the corpus, or the one of data.tokenizer).
  std::shared_ptr<const data::Tokenizer> tokenizer;
};

/// Reads data.path (or generates data.synthetic) into a table.
data::Table load_table(const DataConfig& cfg, const std::vector<std::string>& categorical = {});
/// classification or regression for data.task = "auto" (see DataConfig::task).
data::Task resolve_task(const DataConfig& cfg, const data::Table& table);
/// The seeded train/val/test split of data.split (stratified by class for a classification when
/// data.stratify).
data::SplitIndices split_table(const TrainConfig& cfg, const data::Table& table, data::Task task);
/// Rows of table through a fitted preprocessor (training: apply the drop rules).
SplitData transform_split(const data::Preprocessor& pre, const data::Table& table,
                          const std::vector<int64_t>& rows, bool training);
/// Reads, splits (seeded, stratified for classification when asked) and fits the preprocessor on
/// the training split; then transforms every split. Image formats go to prepare_image_data.
PreparedData prepare_data(const TrainConfig& cfg);
/// Image datasets (fashion_mnist, mnist, image_folder): raw images, the official test set or a
/// seeded stratified split, a Preprocessor::for_images fitted on the training images, and the
/// [[augment]] transforms (see make_augment).
PreparedData prepare_image_data(const TrainConfig& cfg);
/// Text (data.format = "text"): the corpus tokenized, the first 1 - val_fraction of its tokens
/// cut into non-overlapping windows of model.block_size for training, the rest for validation
/// (no test split). A given tokenizer (a trained run's) is used instead of data.tokenizer, so the
/// ids match the model's even when the corpus changed since.
/// data.format = "text_classes" goes to prepare_text_classes_data.
PreparedData prepare_text_data(const TrainConfig& cfg,
                               std::shared_ptr<const data::Tokenizer> tokenizer = nullptr);
/// Text classes (data.format = "text_classes"): every .txt file of data.path is a class; its
/// whitespace is collapsed and data.split's fractions are taken in order along it. Training
/// passages of data.passage_chars characters start every data.passage_stride characters of the
/// training part; validation and test passages do not overlap. x (N, model.block_size) int64:
/// [CLS], the passage's tokens, [PAD]s, where [PAD] = the tokenizer's vocab_size V, [CLS] = V + 1
/// ([MASK] = V + 2; the model's vocabulary is V + 3); y (N) int64: the class. The tokenizer
/// (data.tokenizer, or the given one) is trained on the training parts only. For model.type =
/// "bert_mlm" the rows are masked as BERT's pre-training does (seeded by data.seed) and y
/// (N, block_size) holds the masked tokens, -100 elsewhere; the preprocessor is then a language
/// model's.
PreparedData prepare_text_classes_data(const TrainConfig& cfg,
                                       std::shared_ptr<const data::Tokenizer> tokenizer = nullptr);
/// CTR data (data.format = "ctr"): the CSV table without its unlabelled rows, a seeded random
/// split, and a data::FieldEncoder of cfg.fields fitted on the training rows (Preprocessor::
/// for_fields). x (N, 2, S) float32: the ids and values of the fields' slots; y (N) int64: 1 when
/// the target is >= data.label_threshold, else 0. With `fitted` (a trained run's preprocessor)
/// its fields encode the rows instead of fitting new ones.
PreparedData prepare_ctr_data(const TrainConfig& cfg, const data::Preprocessor* fitted = nullptr);
/// The [[augment]] list as one transform on normalized samples: it maps a sample back to [0, 1]
/// pixels, applies the augmentations in order (so fill values are pixel intensities), and
/// normalizes again. Null when the list is empty.
std::shared_ptr<const data::Transform> make_augment(const std::vector<AugmentConfig>& augment,
                                                    const data::Preprocessor& pre);

/// The loss for training.loss = "auto": cross_entropy for classification, mse for regression.
/// ConfigError when the loss does not fit the task (e.g. mse for classification).
std::string resolve_loss(const TrainConfig& cfg, data::Task task, int64_t num_classes);
/// Model outputs per sample: classes (cross_entropy), 1 (bce, regression losses).
int64_t output_size(const std::string& loss, const data::Preprocessor& pre);
/// The training loss of model outputs against y (as produced by the preprocessor).
Tensor compute_loss(const std::string& loss, const Tensor& out, const Tensor& y);

/// What a model says about x, in the data's terms.
struct Predictions {
  Tensor values;  ///< regression: (N, 1) float32 in target units
  Tensor probs;   ///< classification: (N, C) class probabilities
  Tensor labels;  ///< classification: (N,) int64 predicted classes
};
/// Runs the model in eval mode without autograd, batch by batch.
Predictions predict(nn::Module& model, const Tensor& x, const std::string& loss,
                    const data::Preprocessor& pre);
/// The mean loss and the task's metrics of the model on a split (regression metrics in target
/// units). Names are prefixed: "val_loss", "val_accuracy", ...
Metrics evaluate(nn::Module& model, const SplitData& split, const std::string& loss,
                 const data::Preprocessor& pre, const std::string& prefix);

}  // namespace ember::train
