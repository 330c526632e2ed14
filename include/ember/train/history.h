// Training history: one row of named values per evaluation point, written as metrics.csv/json.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/io/json.h"
#include "ember/train/metrics.h"

namespace ember::train {

/// The values logged during a run, one row per evaluation point (epoch, step, then named values
/// such as lr, train_loss, val_loss, val_accuracy). Columns are the union of the names in the
/// order they were first seen; a row may lack some of them (a missing cell). A NaN value counts
/// as missing.
class History {
 public:
  /// Appends a row. Names must be non-empty, distinct, and not "epoch" or "step" (ValueError).
  void add(int64_t epoch, int64_t step, const Metrics& values);

  /// Number of rows.
  int64_t size() const { return static_cast<int64_t>(rows_.size()); }
  /// "epoch", "step", then the value names in first-seen order.
  std::vector<std::string> columns() const;
  /// One value per row for a column (also "epoch" or "step"), NaN where a row lacks it. An
  /// unknown name throws ValueError listing the columns.
  std::vector<double> series(const std::string& name) const;
  std::vector<double> steps() const { return series("step"); }
  std::vector<double> epochs() const { return series("epoch"); }

  /// CSV with a header of columns(); missing cells are empty; numbers in their shortest form that
  /// reads back exactly ("inf" / "-inf" for infinities). Written atomically.
  void write_csv(const std::string& path) const;
  /// {"history": to_json(), "final": {name: value, ...}} with two-space indents, written
  /// atomically; values are encoded as in to_json.
  void write_json(const std::string& path, const Metrics& final_metrics) const;

  /// The rows as a JSON array of objects, each with every column. Strict JSON: a missing (or NaN)
  /// value is null and an infinity is the string "Infinity" or "-Infinity".
  json::Value to_json() const;
  /// The inverse of to_json (exact round trip, for checkpoints); ValueError names the offending
  /// row and key.
  static History from_json(const json::Value& rows);

 private:
  struct Row {
    int64_t epoch = 0;
    int64_t step = 0;
    std::vector<double> values;  // indexed like names_, NaN = missing
  };
  size_t column_index(const std::string& name);  // adds the column when new

  std::vector<std::string> names_;
  std::vector<Row> rows_;
};

}  // namespace ember::train
