// Preprocessing: missing values, outliers, normalization and categorical encoding, fitted on the
// training split, saved with the model and applied identically at evaluation and prediction.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ember/core/tensor.h"
#include "ember/data/csv.h"
#include "ember/io/json.h"

namespace ember::data {

class FieldEncoder;

/// What the Preprocessor does. Invalid strings are a ConfigError listing the allowed values.
struct PreprocessOptions {
  /// Missing feature values: drop (the row) | mean | median | mode | constant (fill_value).
  /// Categorical features fill with their most frequent category for every choice but drop.
  std::string missing = "mean";
  double fill_value = 0.0;  ///< for "constant"
  /// Outlier rule for numeric features: none | zscore (|x - mean| > t * std) | iqr (outside
  /// [q1 - t * iqr, q3 + t * iqr], quartiles by linear interpolation as numpy).
  std::string outliers = "none";
  double outlier_threshold = 0.0;       ///< t; 0 means the default: 3.0 for zscore, 1.5 for iqr
  std::string outlier_action = "clip";  ///< clip (to the bounds) | drop (the row, training only)
  /// Numeric features: none | minmax ([0, 1]) | minmax_sym ([-1, 1]) | standard (mean 0, std 1).
  /// A constant feature is only shifted (its scale is taken as 1), as in scikit-learn.
  std::string normalize = "standard";
  /// Categorical features: onehot (one 0/1 column per training category; an unseen category is
  /// all zeros) | index (one column holding the category's position in the sorted training
  /// categories; an unseen category is a ValueError naming path:line).
  std::string categorical = "onehot";
  bool normalize_target = true;  ///< regression only: standardize the target, inverse on output
};

/// What the model predicts: a number, a class, or (language modelling) the next token at every
/// position of a window of tokens.
enum class Task { Regression, Classification, LanguageModel };

/// Image data: the per-sample shape and how pixels are normalized (see Preprocessor::for_images).
struct ImageSpec {
  int64_t channels = 0, height = 0, width = 0;
  double scale = 1;               ///< raw value * scale gives pixels in [0, 1]
  std::vector<double> mean, std;  ///< per channel: x' = (raw * scale - mean) / std
  bool operator==(const ImageSpec&) const = default;
};

/// Turns table columns into model tensors.
///
/// fit computes every statistic from the training rows, ignoring missing values: the fill value
/// and outlier bounds from the raw values, then the normalization (population std, as
/// scikit-learn's StandardScaler) from the training rows that transform(training = true) keeps,
/// after filling and clipping. Order at transform: fill, clip to the outlier bounds, normalize.
class Preprocessor {
 public:
  /// features: the feature columns (empty: every column but target, in table order at fit).
  /// A target listed among the features, or bad option strings, is a ConfigError.
  Preprocessor(PreprocessOptions opts, std::vector<std::string> features, std::string target,
               Task task);

  /// An image classifier's preprocessor: images of any shape scaled by `scale` into [0, 1], then
  /// per channel normalize = standard (mean 0, std 1 over the training pixels) | minmax, none
  /// (kept in [0, 1]) | minmax_sym ([-1, 1]). class_names in label order (not sorted).
  static Preprocessor for_images(PreprocessOptions opts, std::vector<std::string> class_names);
  /// Image mode: fits the per-channel statistics on raw training images (N, C, H, W).
  void fit_images(const Tensor& images, double scale);
  /// Image mode: raw images (N, C, H, W) of the fitted shape -> normalized float32 (a ShapeError
  /// names the expected and actual shapes).
  Tensor transform_images(const Tensor& images) const;
  /// Image mode: pixels in [0, 1] (N, C, H, W) -> normalized, and back.
  Tensor normalize_pixels(const Tensor& pixels) const;
  Tensor denormalize_pixels(const Tensor& x) const;
  bool is_image() const { return image_mode_; }
  /// A language model's preprocessor: windows of block_size token ids (already tokenized; the
  /// tokenizer is saved beside it) over a vocabulary of vocab_size; num_classes() = vocab_size.
  static Preprocessor for_text(int64_t vocab_size, int64_t block_size);
  bool is_text() const { return task_ == Task::LanguageModel; }
  /// A text classifier's preprocessor: passages as block_size token ids (already tokenized; the
  /// tokenizer is saved beside it) over a model vocabulary of vocab_size (the tokenizer's tokens
  /// plus [PAD] and [CLS]); class_names in label order.
  static Preprocessor for_text_classes(int64_t vocab_size, int64_t block_size,
                                       std::vector<std::string> class_names);
  bool is_text_classes() const { return vocab_size_ > 0 && task_ == Task::Classification; }
  /// A click-through-rate model's preprocessor: the fitted fields (x (N, 2, S): ids and values,
  /// see FieldEncoder) and a binary label, classes "0" and "1".
  static Preprocessor for_fields(std::shared_ptr<const FieldEncoder> fields);
  bool is_fields() const { return fields_ != nullptr; }
  /// The fitted fields; ValueError unless is_fields().
  const FieldEncoder& fields() const;
  /// Text and text classes: the model's vocabulary size; 0 otherwise.
  int64_t vocab_size() const { return vocab_size_; }
  const ImageSpec& image() const { return image_; }
  /// Per-sample model input shape: (C, H, W) for images, (F) for tables, (block_size) for text
  /// and text classes, (2, S) for fields.
  std::vector<int64_t> input_shape() const;

  /// Fits on the training table. Unknown columns: the ConfigError of Table::column. Regression
  /// needs a numeric target (ConfigError); a numeric feature or target without any value in the
  /// training rows is a ValueError.
  void fit(const Table& train);

  struct Result {
    Tensor x;                   ///< (N, F) float32
    Tensor y;                   ///< classification: (N,) int64 class index; regression: (N, 1)
                                ///< float32, standardized when normalize_target
    std::vector<int64_t> rows;  ///< the table rows kept, in order
  };
  /// Rows whose target is missing are always dropped, and so are rows with a missing feature when
  /// missing = "drop". With training = true, outlier_action = "drop" also drops rows with an
  /// outlier; otherwise outliers are clipped. A class not seen at fit is a ValueError naming
  /// path:line. Fields: every row, x (N, 2, S) and y (N) int64 labels; a missing target is a
  /// ValueError naming path:line.
  Result transform(const Table& t, bool training) const;
  /// For prediction: (N, F) float32 for every row; no target column needed. With missing = "drop"
  /// a missing feature is a ValueError naming path:line of the first such row. Fields: (N, 2, S)
  /// (FieldEncoder::transform_features).
  Tensor transform_features(const Table& t) const;
  /// Regression: undoes the target normalization (any shape, float). ValueError for
  /// classification.
  Tensor inverse_target(const Tensor& y) const;

  /// Feature names after encoding: "x", or "color=red" for one-hot columns.
  std::vector<std::string> feature_names() const;
  /// Classification: the sorted distinct training targets as strings ("0", "1" for a numeric
  /// target, the category names for a categorical one). Empty for regression.
  std::vector<std::string> class_names() const;
  /// Columns (features and target) that were categorical at fit: pass them as
  /// CsvOptions::categorical when reading data for transform, so types match.
  std::vector<std::string> categorical_columns() const;
  int64_t num_features() const;  ///< F
  int64_t num_classes() const;   ///< 0 for regression
  Task task() const { return task_; }
  const std::string& target() const { return target_; }  ///< the target column
  bool fitted() const { return fitted_; }
  const PreprocessOptions& options() const { return opts_; }

  /// Everything needed to transform again; from_json(to_json()) transforms bit-identically.
  json::Value to_json() const;
  /// ValueError naming the key when a field is missing or has the wrong type.
  static Preprocessor from_json(const json::Value& value);

 private:
  struct Feature {
    std::string name;
    bool categorical = false;
    double fill = 0;                      // numeric: the fill value; categorical: category index
    double low = 0, high = 0;             // numeric: outlier bounds (±infinity: none)
    double shift = 0, scale = 1;          // numeric: x' = (x - shift) / scale
    std::vector<std::string> categories;  // categorical: sorted training categories
  };
  struct Bound;  // the features bound to one table's columns

  void check_fitted(const char* what) const;
  Bound bind(const Table& t) const;
  int64_t target_class(const Table& t, const Bound& b, int64_t row) const;
  std::vector<int64_t> kept_rows(const Table& t, const Bound& b, bool training) const;
  void encode_row(const Table& t, const Bound& b, int64_t row, float* out) const;

  PreprocessOptions opts_;
  std::vector<std::string> feature_names_in_;
  std::string target_;
  Task task_;
  bool fitted_ = false;
  std::vector<Feature> features_;
  bool target_categorical_ = false;
  std::vector<std::string> classes_;  // class names, sorted
  std::vector<double> class_values_;  // numeric classification target: the sorted values
  double target_mean_ = 0, target_std_ = 1;
  bool image_mode_ = false;
  ImageSpec image_;
  int64_t vocab_size_ = 0, block_size_ = 0;     // text
  std::shared_ptr<const FieldEncoder> fields_;  // ctr
  json::Value image_to_json() const;
  json::Value fields_to_json() const;
  static Preprocessor fields_from_json(const json::Value& value);
  static Preprocessor image_from_json(const json::Value& value);
  void check_image(const char* what, bool want) const;
  void check_image_shape(const Tensor& images) const;
  Tensor normalize_scaled(const Tensor& images, double scale) const;
};

}  // namespace ember::data
