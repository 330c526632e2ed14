// Evaluation metrics: regression errors, classification scores, confusion matrix, ROC AUC, log
// loss.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::train {

// Shapes: pred/target are floating point (N) or (N, 1); labels and pred_labels are int64 or int32
// (N) or (N, 1) with values in [0, C); probs is floating point (N, C) with rows summing to 1.
// N must be at least 1. Everything is computed in double. Bad shapes throw ShapeError, bad dtypes
// DTypeError, bad values (label out of range, probabilities not summing to 1) ValueError; the
// message names the function and the shapes.

/// Mean squared error: mean((pred - target)^2).
double mse(const Tensor& pred, const Tensor& target);
/// Root mean squared error: sqrt(mse).
double rmse(const Tensor& pred, const Tensor& target);
/// Mean absolute error: mean(|pred - target|).
double mae(const Tensor& pred, const Tensor& target);
/// Coefficient of determination 1 - SS_res / SS_tot. A constant target (SS_tot == 0) gives 1 for a
/// perfect prediction and 0 otherwise, as sklearn's r2_score.
double r2_score(const Tensor& pred, const Tensor& target);

/// Fraction of pred_labels equal to labels.
double accuracy(const Tensor& pred_labels, const Tensor& labels);

/// Per-class precision, recall, F1 and support (number of true samples), plus their unweighted
/// means over all num_classes classes (macro averages).
struct ClassReport {
  std::vector<double> precision, recall, f1;
  std::vector<int64_t> support;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
};
/// precision = tp / (tp + fp), recall = tp / (tp + fn), f1 = 2pr / (p + r); 0/0 counts as 0 (like
/// sklearn's zero_division=0).
ClassReport precision_recall_f1(const Tensor& pred_labels, const Tensor& labels,
                                int64_t num_classes);
/// (C, C) int64 counts: row = true class, column = predicted class.
Tensor confusion_matrix(const Tensor& pred_labels, const Tensor& labels, int64_t num_classes);

/// Area under the ROC curve, computed from ranks (Mann-Whitney U; ties get their average rank).
/// C == 2: the AUC of probs[:, 1] for class 1. C > 2: the mean of the one-vs-rest AUCs of the
/// classes that have both positive and negative samples; NaN when no class has both.
double roc_auc(const Tensor& probs, const Tensor& labels);
/// Mean negative log probability of the true class, probabilities clipped to [eps, 1 - eps].
double log_loss(const Tensor& probs, const Tensor& labels, double eps = 1e-15);

/// Named metric values in a fixed order.
using Metrics = std::vector<std::pair<std::string, double>>;

/// {"mse", "rmse", "mae", "r2"}.
Metrics regression_metrics(const Tensor& pred, const Tensor& target);
/// {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}: predictions are the argmax of
/// each row of probs (the first on ties); precision, recall and f1 are macro averages.
Metrics classification_metrics(const Tensor& probs, const Tensor& labels);

/// Whether a larger value of the metric is better: true for accuracy, precision, recall, f1,
/// roc_auc and r2; false for loss, log_loss, mse, rmse and mae. A "train_", "val_" or "test_"
/// prefix is ignored. Other names throw ValueError listing the known ones.
bool higher_is_better(std::string_view metric);

}  // namespace ember::train
