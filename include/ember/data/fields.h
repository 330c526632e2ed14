// Field encoding for CTR / recommendation models: table columns -> (N, 2, S) id/value inputs.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ember/core/tensor.h"
#include "ember/data/csv.h"
#include "ember/io/json.h"

namespace ember::data {

/// One input field of a CTR / recommendation model (one [[fields]] entry of a config).
struct FieldSpec {
  std::string name;    ///< the field's name (also its column unless `column` is set)
  std::string column;  ///< source column; "" = name
  /// categorical | multi (values split on sep) | numeric (normalized: one id, value = the
  /// standardized number) | bucket (numeric cut into buckets: width, boundaries or quantiles)
  /// | timestamp (unix seconds -> one categorical sub-field per part, named name.part)
  /// | count (how many training rows share this row's `column` value, bucketized by quantiles)
  /// | mean_label (the smoothed mean label of this row's `column` value over the training
  ///   rows, leave-one-out on training rows so it does not leak the row's own label;
  ///   bucketized by quantiles)
  /// | recent_mean_label (the smoothed mean label of the `window` latest training rows of this
  ///   row's `column` value that come before it in `time_column` order; bucketized by quantiles)
  std::string type = "categorical";
  int64_t min_freq = 1;          ///< categorical, multi: rarer values go to the OOV id
  int64_t hash_buckets = 0;      ///< categorical, multi: > 0 hashes values instead of a vocabulary
  std::string sep = "|";         ///< multi
  std::string pooling = "mean";  ///< multi: mean | sum (for the model's embedding_bag)
  double width = 0;              ///< bucket: fixed-width buckets (e.g. 5 years)
  std::vector<double> boundaries;  ///< bucket: explicit edges
  int64_t quantiles = 0;  ///< bucket, count, (recent_)mean_label: equal-frequency buckets (0: 10)
  std::vector<std::string> parts = {"year", "month", "weekday", "hour"};  ///< timestamp (UTC)
  double smoothing = 10;    ///< (recent_)mean_label: prior weight m: (sum + m*p) / (n + m)
  std::string time_column;  ///< recent_mean_label: the numeric column that orders rows in time
  int64_t window = 10;      ///< recent_mean_label: how many of the latest earlier rows count (>= 1)
  bool operator==(const FieldSpec&) const = default;
};

/// Where each field lives in the model input.
struct FieldSlot {
  std::string name;             ///< the field's name; timestamp parts are "name.part"
  int64_t first_slot = 0;       ///< first column of the (N, 2, S) input
  int64_t n_slots = 1;          ///< columns used; multi: the most values a training row had
  int64_t id_begin = 0;         ///< its ids in the one global id space [1, num_ids):
  int64_t id_end = 0;           ///< [id_begin, id_end); id_begin is the field's OOV id
  std::string pooling = "sum";  ///< "sum" for single-valued fields, the spec's for multi
};

/// Fits on the training rows, encodes any table the same way, saves to / loads from JSON.
///
/// Ids. Id 0 is padding; every (sub-)field owns a contiguous range [id_begin, id_end) in spec
/// order (timestamp parts in the order of `parts`). id_begin is the field's OOV id: missing
/// values, values unseen at fit or rarer than min_freq. Then:
/// - categorical, multi: one id per kept training value, ordered by training frequency
///   (descending), ties by value (byte order). Numbers are keyed by their shortest exact text
///   ("31", "4.5"), so a column read as numbers matches one read as strings. With hash_buckets
///   = B the field has exactly B ids: FNV-1a 64 of the text mod B; missing values use the first.
/// - numeric: one id; missing values use it too, with the training mean (value 0).
/// - bucket, count, mean_label, recent_mean_label: bucket j of the sorted edges e (x < e[0], e[0]
/// <= x < e[1], ...,
///   x >= e[k-1]) is id_begin + 1 + j. width w: edges at multiples of w from floor(min/w)*w to
///   floor(max/w)*w + w of the training values (so the outer buckets start empty);
///   boundaries: as given; quantiles q (0 means 10): the training rows' values at i/q,
///   i = 1..q-1 (linear interpolation, as numpy), duplicates removed.
/// - timestamp (UTC): year (the training range; other years are OOV), month 1-12, day 1-31,
///   weekday 0-6 (Monday = 0), hour 0-23, minute 0-59, each part in value order.
/// - count: the number of training rows (with repeats) having this row's value; 0 if unseen.
/// - mean_label: (sum + m*p) / (n + m) over the training rows with this row's value, where p is
///   the training mean label; a training row leaves itself out ((sum - y) / (n - 1 + m)...).
///   A row counts as a training row when `t` is the table given to fit (same source, row count
///   and a fingerprint of the target, key and time columns) and its index was in train_rows.
/// - recent_mean_label: (sum + m*p) / (n + m) over the training rows with this row's key that
///   come strictly before it in time, at most the `window` latest of them (sum: their labels, n:
///   how many). "Before" means a smaller time; in the table given to fit (as above) also an
///   equal time and a smaller row index, so rows of one time are ordered by row. A row never sees
///   itself or later rows, so training and other rows are treated alike (no leave-one-out).
///   A missing key or time, an unseen key or no earlier training row give the prior p (n = 0),
///   a normal bucket: this field never uses its OOV id. Training rows with a missing time are
///   not in any key's history. The quantile edges come from all training rows' values. The
///   fitted state is each key's training rows (time, row index, label) in (time, row) order.
class FieldEncoder {
 public:
  /// Bad types and options are ConfigErrors naming the field and key.
  FieldEncoder(std::vector<FieldSpec> specs, std::string target, double label_threshold);

  /// Fits every field on t's train_rows. Unknown columns: the Table's ConfigError; a numeric,
  /// bucket or timestamp field on a categorical column, or a field on the target: ConfigError;
  /// no training rows, a missing target in a training row, a numeric field without values, or
  /// more than 2^24 ids: ValueError.
  void fit(const Table& t, const std::vector<int64_t>& train_rows);

  /// x: (N, 2, S) float32: x[:,0,:] = ids (as exact floats), x[:,1,:] = values (1 for
  /// categorical ids, the standardized number for numeric, 0 in unused multi slots whose id is
  /// 0 = padding; a multi row with more values than n_slots keeps the first n_slots).
  /// y: (N,) float32 labels (1 if target >= label_threshold else 0). A missing target is a
  /// ValueError naming source:line.
  struct Encoded {
    Tensor x, y;
  };
  Encoded transform(const Table& t, const std::vector<int64_t>& rows) const;
  /// x only (no target column needed).
  Tensor transform_features(const Table& t, const std::vector<int64_t>& rows) const;

  const std::vector<FieldSlot>& slots() const { return slots_; }  ///< one per (sub-)field
  int64_t num_ids() const { return num_ids_; }      ///< size of the global id table (0 = padding)
  int64_t num_slots() const { return num_slots_; }  ///< S
  const std::vector<FieldSpec>& specs() const { return specs_; }
  const std::string& target() const { return target_; }
  double label_threshold() const { return threshold_; }
  bool fitted() const { return fitted_; }

  /// Everything needed to transform again; from_json(to_json()) transforms bit-identically.
  json::Value to_json() const;
  /// ValueError naming the key when a member is missing, has the wrong type or is inconsistent.
  static FieldEncoder from_json(const json::Value& value);

  /// The id of value `v` of (sub-)field `field` (OOV id if unseen; bucket fields parse v as a
  /// number; count and mean_label look up v's statistic, without leave-one-out;
  /// recent_mean_label gives the bucket of a row of key v later than all training rows: its
  /// `window` latest training rows, the prior for "" or an unseen key). An unknown field is a
  /// ConfigError listing the fields.
  int64_t id_of(const std::string& field, const std::string& value) const;
  /// count, mean_label, recent_mean_label: the number each row is bucketized by (the training
  /// count of its value; its smoothed mean label, leave-one-out on training rows; the smoothed
  /// mean label of its key's earlier training rows); NaN where the value is missing (count,
  /// mean_label; recent_mean_label gives the prior there).
  std::vector<double> statistic(const std::string& field, const Table& t,
                                const std::vector<int64_t>& rows) const;
  /// The display string of an id: "genres=Comedy", "year=[1995, 2000)", "userId=<OOV>",
  /// "age" (numeric), "<pad>" (0). IndexError outside [0, num_ids).
  std::string describe(int64_t id) const;

 private:
  enum class Kind { Categorical, Multi, Numeric, Bucket, Part, Count, MeanLabel, RecentMeanLabel };
  struct Stat {  // count and mean_label: per key over the training rows
    int64_t n = 0;
    double sum = 0;
  };
  struct Field {  // the fitted state of one slot
    Kind kind = Kind::Categorical;
    size_t spec = 0;                                 // index into specs_
    std::string part;                                // Part: year | month | ...
    std::vector<std::string> vocab;                  // Categorical, Multi: ids id_begin + 1 + i
    std::unordered_map<std::string, int64_t> index;  // vocab -> i
    double mean = 0, std = 1;                        // Numeric
    std::vector<double> edges;                       // Bucket, Count, (Recent)MeanLabel
    int64_t lo = 0, hi = -1;                         // Part: values lo..hi
    std::vector<std::string> keys;                   // Count, (Recent)MeanLabel: training values
    std::vector<Stat> stats;                         // one per key (Recent: its history)
    std::unordered_map<std::string, int64_t> key_index;
    double prior = 0;  // (Recent)MeanLabel: the training mean label
    // RecentMeanLabel: the training rows of key k are entries [begin[k], begin[k + 1]) of
    // time/row/label, sorted by (time, row); cum[i] = label[0] + ... + label[i - 1].
    std::vector<double> time, label, cum;
    std::vector<int64_t> row, begin;
  };

  const Field& field_named(const std::string& name, size_t* slot) const;
  void check_fitted(const char* what) const;
  uint64_t fingerprint(const Table& t) const;
  std::vector<double> row_stats(const Field& f, const Table& t, const std::vector<int64_t>& rows,
                                int* fit_table) const;
  void encode(const Table& t, const std::vector<int64_t>& rows, float* x) const;
  bool is_fit_table(const Table& t) const;
  // RecentMeanLabel (fields_stats.cpp): fill f's history from t's training rows; each row's
  // smoothed mean label of its key's earlier training rows; the value after all of key k's.
  void fit_recent(Field& f, const Table& t, const std::vector<int64_t>& train_rows,
                  const std::vector<double>& labels) const;
  std::vector<double> recent_stats(const Field& f, const Table& t, const std::vector<int64_t>& rows,
                                   bool fit_table) const;
  double recent_latest(const Field& f, int64_t key) const;
  static void index_recent(Field& f);  // begin and cum from stats[k].n and label
  static void read_recent(Field& f, const json::Value& slot, const std::string& name,
                          int64_t fit_rows);  // fields_json.cpp: history from JSON, validated

  std::vector<FieldSpec> specs_;
  std::string target_;
  double threshold_ = 0;
  bool fitted_ = false;
  std::vector<Field> fields_;
  std::vector<FieldSlot> slots_;
  int64_t num_ids_ = 1, num_slots_ = 0;
  // The fitting table, for leave-one-out (only with mean_label fields).
  std::string fit_source_;
  int64_t fit_rows_ = 0;
  uint64_t fit_fingerprint_ = 0;
  std::vector<uint8_t> train_mask_;  // per fitting-table row: 1 if it was in train_rows
};

}  // namespace ember::data
