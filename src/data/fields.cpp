// FieldEncoder: fit per-field vocabularies, buckets and target statistics; encode (N, 2, S) ids.
#include "ember/data/fields.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>

#include "ember/core/error.h"
#include "ember/core/strings.h"
#include "fields_internal.h"

namespace ember::data {

namespace fields_internal {

const std::string& column_of(const FieldSpec& s) {
  return s.column.empty() ? s.name : s.column;
}

}  // namespace fields_internal

using namespace fields_internal;

namespace {

constexpr int64_t kMaxIds = int64_t{1} << 24;  // ids are stored as exact float32 values
constexpr int64_t kMaxWidthBuckets = 1000000;
const std::vector<std::string> kTypes = {"categorical", "multi", "numeric",    "bucket",
                                         "timestamp",   "count", "mean_label", "recent_mean_label"};
const std::vector<std::string> kParts = {"year", "month", "day", "weekday", "hour", "minute"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// number_text, with -0 named "0" (they are one key).
std::string number_name(double v) {
  return number_text(v == 0 ? 0.0 : v);
}

uint64_t fnv1a(const void* data, size_t n, uint64_t h = 14695981039346656037ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

void check_spec(const FieldSpec& s) {
  const auto fail = [&](bool ok, const char* key, const auto&... what) {
    EMBER_CHECK_T(ConfigError, ok, "field '", s.name, "' (type ", s.type, "): ", key, " ", what...);
  };
  EMBER_CHECK_T(ConfigError, !s.name.empty(), "fields: a field has an empty name");
  fail(contains(kTypes, s.type), "type", "must be one of: ", join(kTypes));
  const bool vocab = s.type == "categorical" || s.type == "multi";
  const bool recent = s.type == "recent_mean_label";
  const bool quantiled =
      s.type == "bucket" || s.type == "count" || s.type == "mean_label" || recent;
  fail(s.min_freq >= 1, "min_freq", "= ", s.min_freq, " must be >= 1");
  fail(vocab || s.min_freq == 1, "min_freq", "applies only to categorical and multi fields");
  fail(s.hash_buckets >= 0 && s.hash_buckets < kMaxIds, "hash_buckets", "= ", s.hash_buckets,
       " must be in [0, 2^24)");
  fail(vocab || s.hash_buckets == 0, "hash_buckets",
       "applies only to categorical and multi fields");
  fail(!s.sep.empty(), "sep", "must not be empty");
  fail(s.pooling == "mean" || s.pooling == "sum", "pooling", "= '", s.pooling,
       "' must be mean or sum");
  fail(std::isfinite(s.width) && s.width >= 0, "width", "= ", s.width, " must be >= 0");
  fail(s.type == "bucket" || (s.width == 0 && s.boundaries.empty()), "width/boundaries",
       "apply only to bucket fields");
  fail(s.quantiles >= 0 && s.quantiles <= 100000, "quantiles", "= ", s.quantiles,
       " must be in [0, 100000]");
  fail(quantiled || s.quantiles == 0, "quantiles",
       "applies only to bucket, count, mean_label and recent_mean_label fields");
  const int given = (s.width > 0) + !s.boundaries.empty() + (s.quantiles > 0);
  fail(given <= 1, "width/boundaries/quantiles", "are exclusive; give one of them");
  for (size_t i = 0; i < s.boundaries.size(); ++i)
    fail(std::isfinite(s.boundaries[i]) && (i == 0 || s.boundaries[i] > s.boundaries[i - 1]),
         "boundaries", "must be finite and strictly increasing");
  fail(std::isfinite(s.smoothing) && s.smoothing >= 0, "smoothing", "= ", s.smoothing,
       " must be >= 0");
  fail(!recent || !s.time_column.empty(), "time_column", "must name the column ordering rows");
  fail(recent || s.time_column.empty(), "time_column", "applies only to recent_mean_label fields");
  fail(s.window >= 1, "window", "= ", s.window, " must be >= 1");
  fail(recent || s.window == 10, "window", "applies only to recent_mean_label fields");
  if (s.type == "timestamp") {
    fail(!s.parts.empty(), "parts", "must not be empty");
    for (size_t i = 0; i < s.parts.size(); ++i) {
      fail(contains(kParts, s.parts[i]), "parts", "'", s.parts[i],
           "' is not one of: ", join(kParts));
      fail(std::find(s.parts.begin(), s.parts.begin() + i, s.parts[i]) == s.parts.begin() + i,
           "parts", "lists '", s.parts[i], "' twice");
    }
  }
}

}  // namespace

// Categorical columns map category indices, numeric ones hash the doubles, so only distinct
// values allocate strings.
Dense fields_internal::densify(const Column& c, const std::vector<int64_t>& rows) {
  Dense d;
  d.code.resize(rows.size(), -1);
  if (c.type == ColumnType::Categorical) {
    std::vector<int64_t> seen(c.categories.size(), -1);
    for (size_t i = 0; i < rows.size(); ++i) {
      const double v = c.values[rows[i]];
      if (std::isnan(v)) continue;
      int64_t& k = seen[static_cast<size_t>(v)];
      if (k < 0) {
        k = static_cast<int64_t>(d.keys.size());
        d.keys.push_back(c.categories[static_cast<size_t>(v)]);
      }
      d.code[i] = k;
    }
    return d;
  }
  std::unordered_map<double, int64_t> seen;
  for (size_t i = 0; i < rows.size(); ++i) {
    const double v = c.values[rows[i]];
    if (std::isnan(v)) continue;
    const auto [it, added] = seen.try_emplace(v, static_cast<int64_t>(d.keys.size()));
    if (added) d.keys.push_back(number_name(v));
    d.code[i] = it->second;
  }
  return d;
}

namespace {

// The non-empty pieces of s between separators.
std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + sep.size();
  }
  return out;
}

}  // namespace

std::vector<double> fields_internal::quantile_edges(std::vector<double> v, int64_t q) {
  std::vector<double> edges;
  if (v.empty()) return edges;
  std::sort(v.begin(), v.end());
  for (int64_t i = 1; i < q; ++i) {
    const double pos =
        static_cast<double>(i) / static_cast<double>(q) * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    const double e = v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
    if (edges.empty() || e > edges.back()) edges.push_back(e);
  }
  return edges;
}

namespace {

int64_t bucket_of(const std::vector<double>& edges, double v) {
  return std::upper_bound(edges.begin(), edges.end(), v) - edges.begin();
}

// One UTC part of unix time s; INT64_MIN when s is missing or out of range.
int64_t time_part(double s, const std::string& part) {
  if (!(std::abs(s) < 1e14)) return std::numeric_limits<int64_t>::min();
  const auto t = static_cast<int64_t>(std::floor(s));
  const int64_t days = (t >= 0 ? t : t - 86399) / 86400, sod = t - days * 86400;
  if (part == "hour") return sod / 3600;
  if (part == "minute") return sod / 60 % 60;
  if (part == "weekday") return ((days + 3) % 7 + 7) % 7;  // 1970-01-01 was a Thursday
  // Civil date from days (H. Hinnant's algorithm).
  const int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
  if (part == "day") return day;
  if (part == "month") return month;
  return yoe + era * 400 + (month <= 2);
}

}  // namespace

FieldEncoder::FieldEncoder(std::vector<FieldSpec> specs, std::string target, double label_threshold)
    : specs_(std::move(specs)), target_(std::move(target)), threshold_(label_threshold) {
  EMBER_CHECK_T(ConfigError, !specs_.empty(), "fields: no fields given");
  EMBER_CHECK_T(ConfigError, std::isfinite(threshold_), "fields: label_threshold = ", threshold_,
                " must be finite");
  for (size_t i = 0; i < specs_.size(); ++i) {
    check_spec(specs_[i]);
    for (size_t j = 0; j < i; ++j)
      EMBER_CHECK_T(ConfigError, specs_[j].name != specs_[i].name, "fields: two fields are named '",
                    specs_[i].name, "'");
    EMBER_CHECK_T(ConfigError, column_of(specs_[i]) != target_, "field '", specs_[i].name,
                  "': its column is the target '", target_, "' (it would leak the label)");
    EMBER_CHECK_T(ConfigError, specs_[i].time_column.empty() || specs_[i].time_column != target_,
                  "field '", specs_[i].name, "': its time_column is the target '", target_, "'");
  }
}

void FieldEncoder::check_fitted(const char* what) const {
  EMBER_CHECK(fitted_, "FieldEncoder::", what, ": call fit first");
}

uint64_t FieldEncoder::fingerprint(const Table& t) const {
  uint64_t h = fnv1a(t.source.data(), t.source.size());
  const auto add = [&](const Column& c) {
    h = fnv1a(c.values.data(), c.values.size() * sizeof(double), h);
    for (const std::string& s : c.categories) h = fnv1a(s.data(), s.size() + 1, h);
  };
  add(t.column(target_));
  for (const Field& f : fields_) {
    if (f.kind == Kind::MeanLabel || f.kind == Kind::RecentMeanLabel)
      add(t.column(column_of(specs_[f.spec])));
    if (f.kind == Kind::RecentMeanLabel) add(t.column(specs_[f.spec].time_column));
  }
  return h;
}

bool FieldEncoder::is_fit_table(const Table& t) const {
  return t.source == fit_source_ && t.rows() == fit_rows_ && t.has_column(target_) &&
         fingerprint(t) == fit_fingerprint_;
}

void FieldEncoder::fit(const Table& t, const std::vector<int64_t>& train_rows) {
  fitted_ = false;
  fields_.clear();
  slots_.clear();
  num_ids_ = 1, num_slots_ = 0;
  EMBER_CHECK(!train_rows.empty(), t.source, ": FieldEncoder::fit: no training rows");
  for (int64_t r : train_rows)
    EMBER_CHECK_INDEX(r >= 0 && r < t.rows(), t.source, ": FieldEncoder::fit: row ", r,
                      " is out of range for ", t.rows(), " rows");
  const Column& target = t.column(target_);
  EMBER_CHECK_T(ConfigError, target.type == ColumnType::Numeric, t.source, ": target '", target_,
                "' must be numeric (labels are target >= ", threshold_, ")");
  std::vector<double> labels(train_rows.size());
  double label_sum = 0;
  for (size_t i = 0; i < train_rows.size(); ++i) {
    const double v = target.values[train_rows[i]];
    EMBER_CHECK(!std::isnan(v), t.source, ":", t.lines[train_rows[i]], ": target '", target_,
                "' is missing");
    label_sum += labels[i] = v >= threshold_ ? 1.0 : 0.0;
  }

  const auto add = [&](Field f, std::string name, int64_t n_ids, int64_t n_slots,
                       std::string pooling) {
    FieldSlot s{std::move(name), num_slots_,       n_slots,
                num_ids_,        num_ids_ + n_ids, std::move(pooling)};
    num_ids_ += n_ids, num_slots_ += n_slots;
    EMBER_CHECK(num_ids_ <= kMaxIds, t.source, ": fields need ", num_ids_, " ids (after field '",
                s.name,
                "'); ids must stay below 2^24 (use hash_buckets "
                "or min_freq)");
    slots_.push_back(std::move(s));
    fields_.push_back(std::move(f));
  };
  bool loo = false;
  for (size_t si = 0; si < specs_.size(); ++si) {
    const FieldSpec& spec = specs_[si];
    const Column& c = t.column(column_of(spec));
    const bool numeric = c.type == ColumnType::Numeric;
    const std::string& ty = spec.type;
    EMBER_CHECK_T(ConfigError, numeric || !(ty == "numeric" || ty == "bucket" || ty == "timestamp"),
                  t.source, ": field '", spec.name, "' (type ", ty, ") needs a numeric column; '",
                  column_of(spec), "' is categorical");
    Field f;
    f.spec = si;
    std::vector<double> present;
    if (numeric && (ty == "numeric" || ty == "bucket" || ty == "timestamp")) {
      for (int64_t r : train_rows)
        if (!std::isnan(c.values[r])) present.push_back(c.values[r]);
      EMBER_CHECK(!present.empty(), t.source, ": field '", spec.name, "': column '",
                  column_of(spec), "' has no values in the training rows");
    }
    if (ty == "categorical" || ty == "multi") {
      f.kind = ty == "multi" ? Kind::Multi : Kind::Categorical;
      const Dense d = densify(c, train_rows);
      std::vector<int64_t> key_count(d.keys.size());
      for (int64_t k : d.code)
        if (k >= 0) ++key_count[k];
      std::unordered_map<std::string, int64_t> counts;
      int64_t n_slots = 1;
      for (size_t k = 0; k < d.keys.size(); ++k) {
        const std::vector<std::string> tokens = f.kind == Kind::Multi && !numeric
                                                    ? split(d.keys[k], spec.sep)
                                                    : std::vector<std::string>{d.keys[k]};
        n_slots = std::max<int64_t>(n_slots, static_cast<int64_t>(tokens.size()));
        for (const std::string& tok : tokens) counts[tok] += key_count[k];
      }
      if (spec.hash_buckets == 0) {
        std::vector<std::pair<int64_t, std::string>> kept;
        for (auto& [tok, n] : counts)
          if (n >= spec.min_freq) kept.emplace_back(-n, tok);
        std::sort(kept.begin(), kept.end());
        for (auto& [n, tok] : kept) {
          f.index.emplace(tok, static_cast<int64_t>(f.vocab.size()));
          f.vocab.push_back(std::move(tok));
        }
      }
      const int64_t n_ids =
          spec.hash_buckets > 0 ? spec.hash_buckets : 1 + static_cast<int64_t>(f.vocab.size());
      const bool multi = f.kind == Kind::Multi;
      add(std::move(f), spec.name, n_ids, multi ? n_slots : 1, multi ? spec.pooling : "sum");
    } else if (ty == "numeric") {
      f.kind = Kind::Numeric;
      double sum = 0, ss = 0;
      for (double v : present) sum += v;
      f.mean = sum / static_cast<double>(present.size());
      for (double v : present) ss += (v - f.mean) * (v - f.mean);
      f.std = std::sqrt(ss / static_cast<double>(present.size()));
      if (!(f.std > 0)) f.std = 1;  // a constant column is only shifted
      add(std::move(f), spec.name, 1, 1, "sum");
    } else if (ty == "bucket") {
      f.kind = Kind::Bucket;
      if (!spec.boundaries.empty()) {
        f.edges = spec.boundaries;
      } else if (spec.width > 0) {
        const auto [mn, mx] = std::minmax_element(present.begin(), present.end());
        const double lo = std::floor(*mn / spec.width), hi = std::floor(*mx / spec.width) + 1;
        EMBER_CHECK_T(ConfigError, hi - lo < kMaxWidthBuckets, "field '", spec.name,
                      "': width = ", spec.width, " cuts [", *mn, ", ", *mx, "] into ", hi - lo,
                      " buckets; the most allowed is ", kMaxWidthBuckets);
        for (double k = lo; k <= hi; ++k) f.edges.push_back(k * spec.width);
      } else {
        f.edges = quantile_edges(present, spec.quantiles > 0 ? spec.quantiles : 10);
      }
      const auto n = static_cast<int64_t>(f.edges.size()) + 2;
      add(std::move(f), spec.name, n, 1, "sum");
    } else if (ty == "timestamp") {
      for (const std::string& part : spec.parts) {
        Field p = f;
        p.kind = Kind::Part;
        p.part = part;
        const std::vector<int64_t> range = part == "month"     ? std::vector<int64_t>{1, 12}
                                           : part == "day"     ? std::vector<int64_t>{1, 31}
                                           : part == "weekday" ? std::vector<int64_t>{0, 6}
                                           : part == "hour"    ? std::vector<int64_t>{0, 23}
                                                               : std::vector<int64_t>{0, 59};
        p.lo = range[0], p.hi = range[1];
        if (part == "year") {
          p.lo = std::numeric_limits<int64_t>::max(), p.hi = std::numeric_limits<int64_t>::min();
          for (double v : present) {
            const int64_t y = time_part(v, "year");
            if (y == std::numeric_limits<int64_t>::min()) continue;
            p.lo = std::min(p.lo, y), p.hi = std::max(p.hi, y);
          }
          EMBER_CHECK(p.lo <= p.hi, t.source, ": field '", spec.name,
                      "': no training value is a unix time in range");
        }
        const int64_t n = p.hi - p.lo + 2;
        add(std::move(p), spec.name + "." + part, n, 1, "sum");
      }
    } else if (ty == "recent_mean_label") {
      f.kind = Kind::RecentMeanLabel;
      fit_recent(f, t, train_rows, labels);
      loo = true;
      const auto n = static_cast<int64_t>(f.edges.size()) + 2;
      add(std::move(f), spec.name, n, 1, "sum");
    } else {  // count, mean_label
      f.kind = ty == "count" ? Kind::Count : Kind::MeanLabel;
      const Dense d = densify(c, train_rows);
      f.keys = d.keys;
      f.stats.resize(d.keys.size());
      for (size_t i = 0; i < d.code.size(); ++i)
        if (d.code[i] >= 0) ++f.stats[d.code[i]].n, f.stats[d.code[i]].sum += labels[i];
      for (size_t k = 0; k < f.keys.size(); ++k) f.key_index.emplace(f.keys[k], k);
      f.prior = label_sum / static_cast<double>(train_rows.size());
      std::vector<double> per_row;
      for (size_t i = 0; i < d.code.size(); ++i) {
        if (d.code[i] < 0) continue;
        const Stat& s = f.stats[d.code[i]];
        per_row.push_back(f.kind == Kind::Count
                              ? static_cast<double>(s.n)
                              : smoothed(s.sum - labels[i], s.n - 1.0, spec.smoothing, f.prior));
      }
      f.edges = quantile_edges(per_row, spec.quantiles > 0 ? spec.quantiles : 10);
      loo = loo || f.kind == Kind::MeanLabel;
      const auto n = static_cast<int64_t>(f.edges.size()) + 2;
      add(std::move(f), spec.name, n, 1, "sum");
    }
  }
  fit_source_.clear();
  fit_rows_ = 0, fit_fingerprint_ = 0;
  train_mask_.clear();
  if (loo) {
    fit_source_ = t.source;
    fit_rows_ = t.rows();
    fit_fingerprint_ = fingerprint(t);
    train_mask_.assign(static_cast<size_t>(t.rows()), 0);
    for (int64_t r : train_rows) train_mask_[r] = 1;
  }
  fitted_ = true;
}

void FieldEncoder::encode(const Table& t, const std::vector<int64_t>& rows, float* x) const {
  const int64_t S = num_slots_;
  const size_t n = rows.size();
  std::fill(x, x + static_cast<int64_t>(n) * 2 * S, 0.0f);
  int fit_table = -1;  // computed on first use: is t the table given to fit?
  for (size_t fi = 0; fi < fields_.size(); ++fi) {
    const Field& f = fields_[fi];
    const FieldSlot& sl = slots_[fi];
    const FieldSpec& spec = specs_[f.spec];
    const Column& c = t.column(column_of(spec));
    const bool numeric = c.type == ColumnType::Numeric;
    const int64_t oov = sl.id_begin;
    const auto put = [&](size_t i, int64_t j, int64_t id, float value) {
      float* row = x + static_cast<int64_t>(i) * 2 * S + sl.first_slot + j;
      row[0] = static_cast<float>(id);
      row[S] = value;
    };
    EMBER_CHECK_T(
        ConfigError,
        numeric || !(f.kind == Kind::Numeric || f.kind == Kind::Bucket || f.kind == Kind::Part),
        t.source, ": field '", sl.name, "' needs a numeric column; '", column_of(spec),
        "' is categorical");
    if (f.kind == Kind::Categorical || f.kind == Kind::Multi) {
      const Dense d = densify(c, rows);
      std::vector<std::vector<int64_t>> key_ids(d.keys.size());
      for (size_t k = 0; k < d.keys.size(); ++k) {
        const std::vector<std::string> tokens = f.kind == Kind::Multi && !numeric
                                                    ? split(d.keys[k], spec.sep)
                                                    : std::vector<std::string>{d.keys[k]};
        for (const std::string& tok : tokens) {
          if (spec.hash_buckets > 0) {
            const uint64_t h = fnv1a(tok.data(), tok.size());
            key_ids[k].push_back(oov + static_cast<int64_t>(h % uint64_t(spec.hash_buckets)));
          } else {
            const auto it = f.index.find(tok);
            key_ids[k].push_back(it == f.index.end() ? oov : oov + 1 + it->second);
          }
        }
      }
      for (size_t i = 0; i < n; ++i) {
        if (d.code[i] < 0 || key_ids[d.code[i]].empty()) {
          put(i, 0, oov, 1);
          continue;
        }
        const std::vector<int64_t>& ids = key_ids[d.code[i]];
        const auto m = std::min<int64_t>(sl.n_slots, static_cast<int64_t>(ids.size()));
        for (int64_t j = 0; j < m; ++j) put(i, j, ids[j], 1);
      }
    } else if (f.kind == Kind::Numeric) {
      for (size_t i = 0; i < n; ++i) {
        const double v = c.values[rows[i]];
        put(i, 0, oov, std::isnan(v) ? 0.0f : static_cast<float>((v - f.mean) / f.std));
      }
    } else if (f.kind == Kind::Bucket) {
      for (size_t i = 0; i < n; ++i) {
        const double v = c.values[rows[i]];
        put(i, 0, std::isnan(v) ? oov : oov + 1 + bucket_of(f.edges, v), 1);
      }
    } else if (f.kind == Kind::Part) {
      for (size_t i = 0; i < n; ++i) {
        const int64_t p = time_part(c.values[rows[i]], f.part);
        put(i, 0, p >= f.lo && p <= f.hi ? oov + 1 + (p - f.lo) : oov, 1);
      }
    } else {  // Count, MeanLabel, RecentMeanLabel
      const std::vector<double> v = row_stats(f, t, rows, &fit_table);
      for (size_t i = 0; i < n; ++i)
        put(i, 0, std::isnan(v[i]) ? oov : oov + 1 + bucket_of(f.edges, v[i]), 1);
    }
  }
}

Tensor FieldEncoder::transform_features(const Table& t, const std::vector<int64_t>& rows) const {
  check_fitted("transform_features");
  for (int64_t r : rows)
    EMBER_CHECK_INDEX(r >= 0 && r < t.rows(), t.source, ": FieldEncoder::transform: row ", r,
                      " is out of range for ", t.rows(), " rows");
  Tensor x = detail::make_tensor({static_cast<int64_t>(rows.size()), 2, num_slots_}, kFloat32);
  encode(t, rows, x.data_ptr<float>());
  return x;
}

FieldEncoder::Encoded FieldEncoder::transform(const Table& t,
                                              const std::vector<int64_t>& rows) const {
  check_fitted("transform");
  const Column& target = t.column(target_);
  EMBER_CHECK_T(ConfigError, target.type == ColumnType::Numeric, t.source, ": target '", target_,
                "' must be numeric (labels are target >= ", threshold_, ")");
  Encoded e;
  e.x = transform_features(t, rows);
  e.y = detail::make_tensor({static_cast<int64_t>(rows.size())}, kFloat32);
  float* y = e.y.data_ptr<float>();
  for (size_t i = 0; i < rows.size(); ++i) {
    const double v = target.values[rows[i]];
    EMBER_CHECK(!std::isnan(v), t.source, ":", t.lines[rows[i]], ": target '", target_,
                "' is missing");
    y[i] = v >= threshold_ ? 1.0f : 0.0f;
  }
  return e;
}

const FieldEncoder::Field& FieldEncoder::field_named(const std::string& name, size_t* slot) const {
  check_fitted("id_of");
  std::vector<std::string> names;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].name == name) return *slot = i, fields_[i];
    names.push_back(slots_[i].name);
  }
  EMBER_THROW(ConfigError, "FieldEncoder: no field '", name, "'; fields are: ", join(names));
}

int64_t FieldEncoder::id_of(const std::string& field, const std::string& value) const {
  size_t si = 0;
  const Field& f = field_named(field, &si);
  const FieldSlot& sl = slots_[si];
  const FieldSpec& spec = specs_[f.spec];
  const int64_t oov = sl.id_begin;
  double num = std::nan("");
  std::from_chars(value.data(), value.data() + value.size(), num);
  switch (f.kind) {
    case Kind::Categorical:
    case Kind::Multi: {
      if (value.empty()) return oov;
      if (spec.hash_buckets > 0)
        return oov + static_cast<int64_t>(fnv1a(value.data(), value.size()) %
                                          uint64_t(spec.hash_buckets));
      const auto it = f.index.find(value);
      return it == f.index.end() ? oov : oov + 1 + it->second;
    }
    case Kind::Numeric:
      return oov;
    case Kind::Bucket:
      return std::isnan(num) ? oov : oov + 1 + bucket_of(f.edges, num);
    case Kind::Part: {
      if (std::isnan(num) || num < double(f.lo) || num > double(f.hi)) return oov;
      return num == std::floor(num) ? oov + 1 + (static_cast<int64_t>(num) - f.lo) : oov;
    }
    default: {
      if (f.kind == Kind::RecentMeanLabel) {
        const auto it = f.key_index.find(value);
        const double v = it == f.key_index.end() ? f.prior : recent_latest(f, it->second);
        return oov + 1 + bucket_of(f.edges, v);
      }
      if (value.empty()) return oov;
      const auto it = f.key_index.find(value);
      const Stat s = it == f.key_index.end() ? Stat{} : f.stats[it->second];
      const double v = f.kind == Kind::Count
                           ? static_cast<double>(s.n)
                           : smoothed(s.sum, static_cast<double>(s.n), spec.smoothing, f.prior);
      return oov + 1 + bucket_of(f.edges, v);
    }
  }
}

std::string FieldEncoder::describe(int64_t id) const {
  check_fitted("describe");
  EMBER_CHECK_INDEX(id >= 0 && id < num_ids_, "FieldEncoder::describe: id ", id,
                    " is out of range [0, ", num_ids_, ")");
  if (id == 0) return "<pad>";
  size_t i = 0;
  while (slots_[i].id_end <= id) ++i;
  const Field& f = fields_[i];
  const FieldSlot& sl = slots_[i];
  const int64_t j = id - sl.id_begin - 1;  // -1: the OOV id
  if (f.kind == Kind::Numeric) return sl.name;
  if (f.kind == Kind::Categorical || f.kind == Kind::Multi) {
    if (specs_[f.spec].hash_buckets > 0) return sl.name + "=#" + std::to_string(j + 1);
    return sl.name + "=" + (j < 0 ? "<OOV>" : f.vocab[j]);
  }
  if (j < 0) return sl.name + "=<OOV>";
  if (f.kind == Kind::Part) return sl.name + "=" + std::to_string(f.lo + j);
  const auto k = static_cast<size_t>(j);
  const std::string lo = k == 0 ? "(-inf" : "[" + number_name(f.edges[k - 1]);
  const std::string hi = k == f.edges.size() ? "inf" : number_name(f.edges[k]);
  return sl.name + "=" + lo + ", " + hi + ")";
}

}  // namespace ember::data
