// Preprocessor: fit statistics on the training rows; fill, clip, normalize and encode any table.
#include "ember/data/preprocess.h"

#include "ember/data/fields.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>

#include "ember/core/error.h"
#include "ember/core/strings.h"
#include "ember/data/fields.h"

namespace ember::data {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

void check_choice(const char* option, const std::string& value,
                  const std::vector<std::string>& allowed) {
  std::string list;
  for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
  EMBER_CHECK_T(ConfigError, std::find(allowed.begin(), allowed.end(), value) != allowed.end(),
                "preprocess: ", option, " = '", value, "' is not allowed; allowed: ", list);
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// Population standard deviation (divides by n).
double std_of(const std::vector<double>& v, double mean) {
  double s = 0;
  for (double x : v) s += (x - mean) * (x - mean);
  return std::sqrt(s / static_cast<double>(v.size()));
}

// q-th quantile of sorted values, linear interpolation (numpy's default).
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// Most frequent of sorted values; ties go to the smallest.
double mode_of(const std::vector<double>& sorted) {
  double best = sorted[0];
  size_t best_count = 0;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    if (j - i > best_count) best = sorted[i], best_count = j - i;
    i = j;
  }
  return best;
}

const char* type_word(bool categorical) {
  return categorical ? "categorical" : "numeric";
}

}  // namespace

// The fitted features bound to one table's columns.
struct Preprocessor::Bound {
  std::vector<const Column*> cols;          // one per feature
  std::vector<std::vector<int64_t>> remap;  // categorical: table category -> feature category or -1
  const Column* target = nullptr;           // null when the table is only features
  std::vector<int64_t> target_remap;        // categorical target: table category -> class or -1
};

Preprocessor::Preprocessor(PreprocessOptions opts, std::vector<std::string> features,
                           std::string target, Task task)
    : opts_(std::move(opts)),
      feature_names_in_(std::move(features)),
      target_(std::move(target)),
      task_(task) {
  check_choice("missing", opts_.missing, {"drop", "mean", "median", "mode", "constant"});
  check_choice("outliers", opts_.outliers, {"none", "zscore", "iqr"});
  check_choice("outlier_action", opts_.outlier_action, {"clip", "drop"});
  check_choice("normalize", opts_.normalize, {"none", "minmax", "minmax_sym", "standard"});
  check_choice("categorical", opts_.categorical, {"onehot", "index"});
  EMBER_CHECK_T(ConfigError, std::isfinite(opts_.fill_value),
                "preprocess: fill_value = ", opts_.fill_value, " must be a finite number");
  EMBER_CHECK_T(ConfigError, opts_.outlier_threshold >= 0 && std::isfinite(opts_.outlier_threshold),
                "preprocess: outlier_threshold = ", opts_.outlier_threshold,
                " must be >= 0 (0 means the default: 3 for zscore, 1.5 for iqr)");
  for (const std::string& f : feature_names_in_)
    EMBER_CHECK_T(ConfigError, f != target_, "preprocess: the target '", target_,
                  "' is also listed as a feature");
}

void Preprocessor::check_fitted(const char* what) const {
  EMBER_CHECK(fitted_, "Preprocessor::", what, ": call fit first");
}

void Preprocessor::fit(const Table& train) {
  std::vector<std::string> names = feature_names_in_;
  if (names.empty())
    for (const Column& c : train.columns)
      if (c.name != target_) names.push_back(c.name);
  EMBER_CHECK_T(ConfigError, !names.empty(), train.source,
                ": no feature columns besides the target '", target_, "'");
  fitted_ = false;
  features_.clear();
  classes_.clear();
  class_values_.clear();

  const Column& target = train.column(target_);
  target_categorical_ = target.type == ColumnType::Categorical;
  if (task_ == Task::Regression) {
    EMBER_CHECK_T(ConfigError, !target_categorical_, train.source, ": target '", target_,
                  "' is categorical; regression needs a numeric target (or use classification)");
  } else {
    std::vector<double> present;
    for (double v : target.values)
      if (!std::isnan(v)) present.push_back(v);
    std::sort(present.begin(), present.end());
    present.erase(std::unique(present.begin(), present.end()), present.end());
    for (double v : present) classes_.push_back(value_text(target, v));
    if (target_categorical_)
      std::sort(classes_.begin(), classes_.end());
    else
      class_values_ = present;
  }

  const double threshold = opts_.outlier_threshold > 0  ? opts_.outlier_threshold
                           : opts_.outliers == "zscore" ? 3.0
                                                        : 1.5;
  for (const std::string& name : names) {
    const Column& c = train.column(name);
    Feature f;
    f.name = name;
    f.categorical = c.type == ColumnType::Categorical;
    std::vector<double> present;
    for (double v : c.values)
      if (!std::isnan(v)) present.push_back(v);
    EMBER_CHECK(!present.empty(), train.source, ": column '", name,
                "' has no values in the training rows");
    std::sort(present.begin(), present.end());
    if (f.categorical) {
      std::map<std::string, int64_t> counts;  // sorted by name
      for (double v : present) ++counts[c.categories[static_cast<size_t>(v)]];
      int64_t best = 0;
      for (const auto& [category, count] : counts) {
        if (count > best) f.fill = static_cast<double>(f.categories.size()), best = count;
        f.categories.push_back(category);
      }
      features_.push_back(std::move(f));
      continue;
    }
    if (opts_.missing == "mean") f.fill = mean_of(present);
    if (opts_.missing == "median") f.fill = quantile(present, 0.5);
    if (opts_.missing == "mode") f.fill = mode_of(present);
    if (opts_.missing == "constant") f.fill = opts_.fill_value;
    f.low = -kInf;
    f.high = kInf;
    if (opts_.outliers == "zscore") {
      const double m = mean_of(present), s = std_of(present, m);
      f.low = m - threshold * s;
      f.high = m + threshold * s;
    } else if (opts_.outliers == "iqr") {
      const double q1 = quantile(present, 0.25), q3 = quantile(present, 0.75);
      f.low = q1 - threshold * (q3 - q1);
      f.high = q3 + threshold * (q3 - q1);
    }
    features_.push_back(std::move(f));
  }
  fitted_ = true;

  // Normalization (and the target's) from the rows transform(train, true) keeps, after clipping.
  const Bound b = bind(train);
  const std::vector<int64_t> rows = kept_rows(train, b, true);
  EMBER_CHECK(!rows.empty(), train.source,
              ": no training rows left after dropping rows with missing values or outliers");
  for (size_t i = 0; i < features_.size(); ++i) {
    Feature& f = features_[i];
    if (f.categorical) continue;
    std::vector<double> v;
    for (int64_t r : rows)
      if (!std::isnan(b.cols[i]->values[r]))
        v.push_back(std::clamp(b.cols[i]->values[r], f.low, f.high));
    if (v.empty()) v.push_back(f.fill);
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    const double range = *hi - *lo;
    if (opts_.normalize == "standard") {
      f.shift = mean_of(v);
      f.scale = std_of(v, f.shift);
    } else if (opts_.normalize == "minmax") {
      f.shift = *lo;
      f.scale = range;
    } else if (opts_.normalize == "minmax_sym") {
      f.shift = *lo + range / 2;
      f.scale = range / 2;
    }
    if (f.scale == 0) f.scale = 1;
  }
  if (task_ == Task::Regression && opts_.normalize_target) {
    std::vector<double> y;
    for (int64_t r : rows) y.push_back(target.values[r]);
    target_mean_ = mean_of(y);
    target_std_ = std_of(y, target_mean_);
    if (target_std_ == 0) target_std_ = 1;
  }
}

Preprocessor::Bound Preprocessor::bind(const Table& t) const {
  Bound b;
  for (const Feature& f : features_) {
    const Column& c = t.column(f.name);
    const bool categorical = c.type == ColumnType::Categorical;
    EMBER_CHECK_T(ConfigError, categorical == f.categorical, t.source, ": column '", f.name,
                  "' is ", type_word(categorical), " here but was ", type_word(f.categorical),
                  " in training; read it with the same categorical columns");
    b.cols.push_back(&c);
    std::vector<int64_t> remap;
    for (const std::string& cat : c.categories) {
      const auto it = std::lower_bound(f.categories.begin(), f.categories.end(), cat);
      remap.push_back(it != f.categories.end() && *it == cat ? it - f.categories.begin() : -1);
    }
    b.remap.push_back(std::move(remap));
  }
  if (!t.has_column(target_)) return b;
  b.target = &t.column(target_);
  if (task_ == Task::Classification) {
    const bool categorical = b.target->type == ColumnType::Categorical;
    EMBER_CHECK_T(ConfigError, categorical == target_categorical_, t.source, ": target '", target_,
                  "' is ", type_word(categorical), " here but was ", type_word(target_categorical_),
                  " in training; read it with the same categorical columns");
    for (const std::string& cat : b.target->categories) {
      const auto it = std::lower_bound(classes_.begin(), classes_.end(), cat);
      b.target_remap.push_back(it != classes_.end() && *it == cat ? it - classes_.begin() : -1);
    }
  } else {
    EMBER_CHECK_T(ConfigError, b.target->type == ColumnType::Numeric, t.source, ": target '",
                  target_, "' is categorical here but was numeric in training");
  }
  return b;
}

int64_t Preprocessor::target_class(const Table& t, const Bound& b, int64_t row) const {
  const double v = b.target->values[row];
  int64_t cls = -1;
  if (target_categorical_) {
    cls = b.target_remap[static_cast<size_t>(v)];
  } else {
    const auto it = std::lower_bound(class_values_.begin(), class_values_.end(), v);
    if (it != class_values_.end() && *it == v) cls = it - class_values_.begin();
  }
  EMBER_CHECK(cls >= 0, t.source, ":", t.lines[row], ": target '", target_, "' has class '",
              value_text(*b.target, v),
              "', which is not in the training data; classes: ", join(classes_));
  return cls;
}

std::vector<int64_t> Preprocessor::kept_rows(const Table& t, const Bound& b, bool training) const {
  const bool drop_missing = opts_.missing == "drop";
  const bool drop_outliers = training && opts_.outlier_action == "drop";
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < t.rows(); ++r) {
    bool keep = b.target == nullptr || !std::isnan(b.target->values[r]);
    for (size_t i = 0; i < features_.size() && keep; ++i) {
      const double v = b.cols[i]->values[r];
      if (std::isnan(v))
        keep = !drop_missing;
      else if (drop_outliers && !features_[i].categorical)
        keep = v >= features_[i].low && v <= features_[i].high;
    }
    if (keep) rows.push_back(r);
  }
  return rows;
}

void Preprocessor::encode_row(const Table& t, const Bound& b, int64_t row, float* out) const {
  for (size_t i = 0; i < features_.size(); ++i) {
    const Feature& f = features_[i];
    const double v = b.cols[i]->values[row];
    EMBER_CHECK(!std::isnan(v) || opts_.missing != "drop", t.source, ":", t.lines[row],
                ": column '", f.name,
                "' is missing and missing = 'drop' cannot fill it; choose mean, median, mode or "
                "constant");
    if (!f.categorical) {
      const double x = std::isnan(v) ? f.fill : std::clamp(v, f.low, f.high);
      *out++ = static_cast<float>((x - f.shift) / f.scale);
      continue;
    }
    const int64_t k = std::isnan(v) ? static_cast<int64_t>(f.fill) : b.remap[i][size_t(v)];
    if (opts_.categorical == "index") {
      EMBER_CHECK(k >= 0, t.source, ":", t.lines[row], ": column '", f.name, "' has category '",
                  b.cols[i]->categories[size_t(v)],
                  "', which is not in the training data (categorical = 'index' cannot encode "
                  "it; 'onehot' encodes it as all zeros); categories: ",
                  join(f.categories));
      *out++ = static_cast<float>(k);
      continue;
    }
    std::fill(out, out + f.categories.size(), 0.0f);
    if (k >= 0) out[k] = 1.0f;
    out += f.categories.size();
  }
}

Preprocessor::Result Preprocessor::transform(const Table& t, bool training) const {
  check_image("transform", false);
  check_fitted("transform");
  t.column(target_);  // the usual "no column" error when the target is absent
  if (is_fields()) {  // every row through the fitted fields; a missing target is an error
    Result r;
    r.rows.resize(static_cast<size_t>(t.rows()));
    std::iota(r.rows.begin(), r.rows.end(), int64_t{0});
    FieldEncoder::Encoded e = fields_->transform(t, r.rows);
    r.x = e.x;
    r.y = e.y.to(kInt64);
    return r;
  }
  const Bound b = bind(t);
  Result res;
  res.rows = kept_rows(t, b, training);
  const auto n = static_cast<int64_t>(res.rows.size());
  const int64_t nf = num_features();
  res.x = detail::make_tensor({n, nf}, kFloat32);
  float* x = res.x.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) encode_row(t, b, res.rows[i], x + i * nf);
  if (task_ == Task::Classification) {
    res.y = detail::make_tensor({n}, kInt64);
    int64_t* y = res.y.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) y[i] = target_class(t, b, res.rows[i]);
  } else {
    res.y = detail::make_tensor({n, 1}, kFloat32);
    float* y = res.y.data_ptr<float>();
    const double mean = opts_.normalize_target ? target_mean_ : 0.0;
    const double scale = opts_.normalize_target ? target_std_ : 1.0;
    for (int64_t i = 0; i < n; ++i)
      y[i] = static_cast<float>((b.target->values[res.rows[i]] - mean) / scale);
  }
  return res;
}

Tensor Preprocessor::transform_features(const Table& t) const {
  check_image("transform_features", false);
  check_fitted("transform_features");
  if (is_fields()) {  // every row through the fitted fields: (N, 2, S)
    std::vector<int64_t> rows(static_cast<size_t>(t.rows()));
    std::iota(rows.begin(), rows.end(), int64_t{0});
    return fields_->transform_features(t, rows);
  }
  Bound b = bind(t);
  const int64_t n = t.rows(), nf = num_features();
  Tensor x = detail::make_tensor({n, nf}, kFloat32);
  float* p = x.data_ptr<float>();
  for (int64_t r = 0; r < n; ++r) encode_row(t, b, r, p + r * nf);
  return x;
}

Tensor Preprocessor::inverse_target(const Tensor& y) const {
  check_fitted("inverse_target");
  EMBER_CHECK(task_ == Task::Regression,
              "Preprocessor::inverse_target: only regression targets are normalized");
  if (!opts_.normalize_target) return y;
  return y * target_std_ + target_mean_;
}

std::vector<std::string> Preprocessor::feature_names() const {
  check_fitted("feature_names");
  std::vector<std::string> out;
  for (const Feature& f : features_) {
    if (!f.categorical || opts_.categorical == "index")
      out.push_back(f.name);
    else
      for (const std::string& c : f.categories) out.push_back(f.name + "=" + c);
  }
  return out;
}

std::vector<std::string> Preprocessor::class_names() const {
  return classes_;
}

std::vector<std::string> Preprocessor::categorical_columns() const {
  std::vector<std::string> out;
  for (const Feature& f : features_)
    if (f.categorical) out.push_back(f.name);
  if (target_categorical_) out.push_back(target_);
  return out;
}

int64_t Preprocessor::num_features() const {
  if (image_mode_) return image_.channels * image_.height * image_.width;
  int64_t n = 0;
  for (const Feature& f : features_)
    n += f.categorical && opts_.categorical == "onehot" ? int64_t(f.categories.size()) : 1;
  return n;
}

int64_t Preprocessor::num_classes() const {
  if (is_text()) return vocab_size_;
  return static_cast<int64_t>(classes_.size());
}

json::Value Preprocessor::to_json() const {
  check_fitted("to_json");
  if (image_mode_) return image_to_json();
  if (is_fields()) return fields_to_json();
  if (is_text() || is_text_classes()) {
    json::Value o = json::Value::object();
    o["format"] = "ember.preprocessor";
    o["version"] = 1;
    o["task"] = is_text() ? "language_model" : "text_classification";
    o["vocab_size"] = vocab_size_;
    o["block_size"] = block_size_;
    if (is_text_classes()) o["classes"] = json::Array(classes_.begin(), classes_.end());
    return o;
  }
  const auto bound = [](double v) { return std::isinf(v) ? json::Value() : json::Value(v); };
  json::Value o = json::Value::object();
  o["format"] = "ember.preprocessor";
  o["version"] = 1;
  o["task"] = task_ == Task::Classification ? "classification" : "regression";
  o["target"] = target_;
  json::Value opt = json::Value::object();
  opt["missing"] = opts_.missing;
  opt["fill_value"] = opts_.fill_value;
  opt["outliers"] = opts_.outliers;
  opt["outlier_threshold"] = opts_.outlier_threshold;
  opt["outlier_action"] = opts_.outlier_action;
  opt["normalize"] = opts_.normalize;
  opt["categorical"] = opts_.categorical;
  opt["normalize_target"] = opts_.normalize_target;
  o["options"] = std::move(opt);
  json::Array feats;
  for (const Feature& f : features_) {
    json::Value j = json::Value::object();
    j["name"] = f.name;
    j["type"] = type_word(f.categorical);
    j["fill"] = f.fill;
    if (f.categorical) {
      j["categories"] = json::Array(f.categories.begin(), f.categories.end());
    } else {
      j["low"] = bound(f.low);
      j["high"] = bound(f.high);
      j["shift"] = f.shift;
      j["scale"] = f.scale;
    }
    feats.push_back(std::move(j));
  }
  o["features"] = std::move(feats);
  o["target_categorical"] = target_categorical_;
  o["classes"] = json::Array(classes_.begin(), classes_.end());
  o["class_values"] = json::Array(class_values_.begin(), class_values_.end());
  o["target_mean"] = target_mean_;
  o["target_std"] = target_std_;
  return o;
}

Preprocessor Preprocessor::from_json(const json::Value& v) {
  if (v.contains("image")) return image_from_json(v);
  if (v.contains("fields")) return fields_from_json(v);
  if (v.contains("task") && v["task"].as_string() == "language_model")
    return for_text(v["vocab_size"].as_int(), v["block_size"].as_int());
  if (v.contains("task") && v["task"].as_string() == "text_classification") {
    std::vector<std::string> classes;
    for (const json::Value& c : v["classes"].as_array()) classes.push_back(c.as_string());
    return for_text_classes(v["vocab_size"].as_int(), v["block_size"].as_int(), classes);
  }
  EMBER_CHECK(v["format"].as_string() == "ember.preprocessor" && v["version"].as_int() == 1,
              "Preprocessor::from_json: not an ember.preprocessor version 1 object");
  const json::Value& jo = v["options"];
  PreprocessOptions opts;
  opts.missing = jo["missing"].as_string();
  opts.fill_value = jo["fill_value"].as_double();
  opts.outliers = jo["outliers"].as_string();
  opts.outlier_threshold = jo["outlier_threshold"].as_double();
  opts.outlier_action = jo["outlier_action"].as_string();
  opts.normalize = jo["normalize"].as_string();
  opts.categorical = jo["categorical"].as_string();
  opts.normalize_target = jo["normalize_target"].as_bool();
  const std::string& task = v["task"].as_string();
  check_choice("task", task, {"classification", "regression"});
  std::vector<std::string> names;
  for (const json::Value& f : v["features"].as_array()) names.push_back(f["name"].as_string());
  Preprocessor p(opts, names, v["target"].as_string(),
                 task == "classification" ? Task::Classification : Task::Regression);
  const auto bound = [](const json::Value& b, double inf) {
    return b.is_null() ? inf : b.as_double();
  };
  for (const json::Value& j : v["features"].as_array()) {
    Feature f;
    f.name = j["name"].as_string();
    f.categorical = j["type"].as_string() == "categorical";
    f.fill = j["fill"].as_double();
    if (f.categorical) {
      for (const json::Value& c : j["categories"].as_array()) f.categories.push_back(c.as_string());
      EMBER_CHECK(f.fill >= 0 && f.fill < double(f.categories.size()) &&
                      std::adjacent_find(f.categories.begin(), f.categories.end(),
                                         std::greater_equal<>()) == f.categories.end(),
                  "Preprocessor::from_json: feature '", f.name,
                  "' needs sorted, distinct categories and a fill index among them");
    } else {
      f.low = bound(j["low"], -kInf);
      f.high = bound(j["high"], kInf);
      f.shift = j["shift"].as_double();
      f.scale = j["scale"].as_double();
    }
    p.features_.push_back(std::move(f));
  }
  p.target_categorical_ = v["target_categorical"].as_bool();
  for (const json::Value& c : v["classes"].as_array()) p.classes_.push_back(c.as_string());
  for (const json::Value& c : v["class_values"].as_array())
    p.class_values_.push_back(c.as_double());
  EMBER_CHECK(std::adjacent_find(p.classes_.begin(), p.classes_.end(), std::greater_equal<>()) ==
                      p.classes_.end() &&
                  (p.target_categorical_ || p.class_values_.size() == p.classes_.size()),
              "Preprocessor::from_json: classes must be sorted and distinct, with one value each "
              "for a numeric target");
  p.target_mean_ = v["target_mean"].as_double();
  p.target_std_ = v["target_std"].as_double();
  p.fitted_ = true;
  return p;
}

}  // namespace ember::data
