// Evaluation metrics: regression errors, classification scores, confusion matrix, ROC AUC, log
// loss.
#include "ember/train/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "ember/ops/creation.h"

namespace ember::train {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_column(const Tensor& t) {
  return t.dim() == 1 || (t.dim() == 2 && t.size(1) == 1);
}

// a and b: defined, (N) or (N, 1) with the same N >= 1.
void check_columns(const Tensor& a, const Tensor& b, const char* fn, const char* a_name,
                   const char* b_name) {
  EMBER_CHECK(a.defined() && b.defined(), fn, ": ", a_name, " and ", b_name, " must be defined");
  EMBER_CHECK_SHAPE(is_column(a) && is_column(b) && a.size(0) == b.size(0), fn, ": ", a_name,
                    " and ", b_name, " must be (N) or (N, 1) with the same N, got ", a_name, " ",
                    a.shape_str(), " and ", b_name, " ", b.shape_str());
  EMBER_CHECK_SHAPE(a.size(0) > 0, fn, ": ", a_name, " and ", b_name, " are empty (N = 0)");
}

// pred and target: floating point columns of the same length, as doubles.
std::pair<std::vector<double>, std::vector<double>> float_pair(const Tensor& pred,
                                                               const Tensor& target,
                                                               const char* fn) {
  check_columns(pred, target, fn, "pred", "target");
  EMBER_CHECK_DTYPE(pred.is_floating_point() && target.is_floating_point(), fn,
                    ": pred and target must be floating point, got ", pred.dtype(), " and ",
                    target.dtype());
  return {pred.to_vector<double>(), target.to_vector<double>()};
}

// An integer column of class labels; when num_classes > 0 every label must be in [0, C).
std::vector<int64_t> label_values(const Tensor& t, const char* fn, const char* name,
                                  int64_t num_classes) {
  EMBER_CHECK_DTYPE(is_integral(t.dtype()), fn, ": ", name, " must be int64 or int32, got ",
                    t.dtype(), " ", t.shape_str());
  std::vector<int64_t> v = t.to_vector<int64_t>();
  if (num_classes > 0) {
    for (size_t i = 0; i < v.size(); ++i)
      EMBER_CHECK(v[i] >= 0 && v[i] < num_classes, fn, ": ", name, "[", i, "] = ", v[i],
                  " is out of range for ", num_classes, " classes (expected 0..", num_classes - 1,
                  ")");
  }
  return v;
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> label_pair(const Tensor& pred_labels,
                                                                 const Tensor& labels,
                                                                 int64_t num_classes,
                                                                 const char* fn) {
  check_columns(pred_labels, labels, fn, "pred_labels", "labels");
  return {label_values(pred_labels, fn, "pred_labels", num_classes),
          label_values(labels, fn, "labels", num_classes)};
}

// probs (N, C) with C >= 2, rows of probabilities, and labels (N) in [0, C).
struct ProbLabels {
  std::vector<double> probs;  // row-major (N, C)
  std::vector<int64_t> labels;
  int64_t n = 0, c = 0;
};

ProbLabels prob_labels(const Tensor& probs, const Tensor& labels, const char* fn) {
  EMBER_CHECK(probs.defined() && labels.defined(), fn, ": probs and labels must be defined");
  EMBER_CHECK_SHAPE(probs.dim() == 2 && probs.size(1) >= 2 && is_column(labels) &&
                        labels.size(0) == probs.size(0) && probs.size(0) > 0,
                    fn,
                    ": expected probs (N, C) with C >= 2 and labels (N) with N >= 1, got probs ",
                    probs.shape_str(), " and labels ", labels.shape_str());
  EMBER_CHECK_DTYPE(probs.is_floating_point(), fn, ": probs must be floating point, got ",
                    probs.dtype());
  ProbLabels r{probs.to_vector<double>(), {}, probs.size(0), probs.size(1)};
  r.labels = label_values(labels, fn, "labels", r.c);
  for (int64_t i = 0; i < r.n; ++i) {
    const double* row = &r.probs[i * r.c];
    const double total = std::accumulate(row, row + r.c, 0.0);
    const bool in_range =
        std::all_of(row, row + r.c, [](double p) { return p >= -1e-6 && p <= 1 + 1e-6; });
    EMBER_CHECK(in_range && std::abs(total - 1) <= 1e-3, fn, ": row ", i,
                " of probs is not a probability distribution (sum ", total,
                "); pass softmax probabilities, not logits");
  }
  return r;
}

// AUC of scores for the samples where positive is true against the rest (Mann-Whitney U with
// average ranks for ties); NaN when either group is empty.
double binary_auc(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double positive_rank_sum = 0;
  double n_pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double rank = 0.5 * static_cast<double>(i + 1 + j);  // mean of ranks i+1 .. j
    for (size_t k = i; k < j; ++k) {
      if (!positive[order[k]]) continue;
      positive_rank_sum += rank;
      n_pos += 1;
    }
    i = j;
  }
  const double n_neg = static_cast<double>(n) - n_pos;
  if (n_pos == 0 || n_neg == 0) return kNaN;
  return (positive_rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg);
}

double auc_of(const ProbLabels& p) {
  std::vector<double> scores(p.n);
  std::vector<bool> positive(p.n);
  double total = 0;
  int64_t counted = 0;
  for (int64_t cls = p.c == 2 ? 1 : 0; cls < p.c; ++cls) {
    for (int64_t i = 0; i < p.n; ++i) {
      scores[i] = p.probs[i * p.c + cls];
      positive[i] = p.labels[i] == cls;
    }
    const double auc = binary_auc(scores, positive);
    if (std::isnan(auc)) continue;
    total += auc;
    ++counted;
  }
  return counted == 0 ? kNaN : total / static_cast<double>(counted);
}

double log_loss_of(const ProbLabels& p, double eps) {
  double total = 0;
  for (int64_t i = 0; i < p.n; ++i)
    total -= std::log(std::clamp(p.probs[i * p.c + p.labels[i]], eps, 1 - eps));
  return total / static_cast<double>(p.n);
}

double fraction_equal(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return static_cast<double>(same) / static_cast<double>(a.size());
}

double ratio(double num, double den) {
  return den == 0 ? 0 : num / den;
}

ClassReport class_report(const std::vector<int64_t>& pred, const std::vector<int64_t>& truth,
                         int64_t num_classes) {
  std::vector<double> tp(num_classes), fp(num_classes), fn(num_classes);
  ClassReport r;
  r.support.assign(num_classes, 0);
  for (size_t i = 0; i < pred.size(); ++i) {
    r.support[truth[i]] += 1;
    if (pred[i] == truth[i]) {
      tp[truth[i]] += 1;
    } else {
      fp[pred[i]] += 1;
      fn[truth[i]] += 1;
    }
  }
  for (int64_t c = 0; c < num_classes; ++c) {
    const double p = ratio(tp[c], tp[c] + fp[c]);
    const double rec = ratio(tp[c], tp[c] + fn[c]);
    r.precision.push_back(p);
    r.recall.push_back(rec);
    r.f1.push_back(ratio(2 * p * rec, p + rec));
  }
  const auto mean = [&](const std::vector<double>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(num_classes);
  };
  r.macro_precision = mean(r.precision);
  r.macro_recall = mean(r.recall);
  r.macro_f1 = mean(r.f1);
  return r;
}

}  // namespace

double mse(const Tensor& pred, const Tensor& target) {
  const auto [p, t] = float_pair(pred, target, "mse");
  double total = 0;
  for (size_t i = 0; i < p.size(); ++i) total += (p[i] - t[i]) * (p[i] - t[i]);
  return total / static_cast<double>(p.size());
}

double rmse(const Tensor& pred, const Tensor& target) {
  return std::sqrt(mse(pred, target));
}

double mae(const Tensor& pred, const Tensor& target) {
  const auto [p, t] = float_pair(pred, target, "mae");
  double total = 0;
  for (size_t i = 0; i < p.size(); ++i) total += std::abs(p[i] - t[i]);
  return total / static_cast<double>(p.size());
}

double r2_score(const Tensor& pred, const Tensor& target) {
  const auto [p, t] = float_pair(pred, target, "r2_score");
  const double mean = std::accumulate(t.begin(), t.end(), 0.0) / static_cast<double>(t.size());
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    ss_res += (t[i] - p[i]) * (t[i] - p[i]);
    ss_tot += (t[i] - mean) * (t[i] - mean);
  }
  if (ss_tot == 0) return ss_res == 0 ? 1.0 : 0.0;
  return 1 - ss_res / ss_tot;
}

double accuracy(const Tensor& pred_labels, const Tensor& labels) {
  const auto [p, t] = label_pair(pred_labels, labels, 0, "accuracy");
  return fraction_equal(p, t);
}

ClassReport precision_recall_f1(const Tensor& pred_labels, const Tensor& labels,
                                int64_t num_classes) {
  EMBER_CHECK(num_classes >= 1, "precision_recall_f1: num_classes must be at least 1, got ",
              num_classes);
  const auto [p, t] = label_pair(pred_labels, labels, num_classes, "precision_recall_f1");
  return class_report(p, t, num_classes);
}

Tensor confusion_matrix(const Tensor& pred_labels, const Tensor& labels, int64_t num_classes) {
  EMBER_CHECK(num_classes >= 1, "confusion_matrix: num_classes must be at least 1, got ",
              num_classes);
  const auto [p, t] = label_pair(pred_labels, labels, num_classes, "confusion_matrix");
  Tensor m = zeros({num_classes, num_classes}, kInt64);
  int64_t* counts = m.data_ptr<int64_t>();
  for (size_t i = 0; i < p.size(); ++i) counts[t[i] * num_classes + p[i]] += 1;
  return m;
}

double roc_auc(const Tensor& probs, const Tensor& labels) {
  return auc_of(prob_labels(probs, labels, "roc_auc"));
}

double log_loss(const Tensor& probs, const Tensor& labels, double eps) {
  EMBER_CHECK(eps > 0 && eps < 0.5, "log_loss: eps must be in (0, 0.5), got ", eps);
  return log_loss_of(prob_labels(probs, labels, "log_loss"), eps);
}

Metrics regression_metrics(const Tensor& pred, const Tensor& target) {
  const double m = mse(pred, target);
  return {{"mse", m},
          {"rmse", std::sqrt(m)},
          {"mae", mae(pred, target)},
          {"r2", r2_score(pred, target)}};
}

Metrics classification_metrics(const Tensor& probs, const Tensor& labels) {
  const ProbLabels p = prob_labels(probs, labels, "classification_metrics");
  std::vector<int64_t> pred(p.n);
  for (int64_t i = 0; i < p.n; ++i) {
    const double* row = &p.probs[i * p.c];
    pred[i] = std::max_element(row, row + p.c) - row;
  }
  const ClassReport r = class_report(pred, p.labels, p.c);
  return {{"accuracy", fraction_equal(pred, p.labels)},
          {"precision", r.macro_precision},
          {"recall", r.macro_recall},
          {"f1", r.macro_f1},
          {"roc_auc", auc_of(p)},
          {"log_loss", log_loss_of(p, 1e-15)}};
}

bool higher_is_better(std::string_view metric) {
  std::string_view name = metric;
  for (std::string_view prefix : {"train_", "val_", "test_"}) {
    if (name.starts_with(prefix)) {
      name.remove_prefix(prefix.size());
      break;
    }
  }
  for (std::string_view m : {"accuracy", "precision", "recall", "f1", "roc_auc", "r2"}) {
    if (name == m) return true;
  }
  for (std::string_view m : {"loss", "log_loss", "mse", "rmse", "mae", "perplexity"}) {
    if (name == m) return false;
  }
  EMBER_THROW(
      ValueError, "higher_is_better: unknown metric '", metric,
      "'; known: accuracy, precision, recall, f1, roc_auc, r2 (higher is better), loss, "
      "log_loss, mse, rmse, mae, perplexity (lower is better), each optionally prefixed by train_, "
      "val_ or test_");
}

}  // namespace ember::train
