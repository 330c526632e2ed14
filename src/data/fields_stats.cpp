// FieldEncoder target statistics per row: count, mean_label (leave-one-out), recent_mean_label.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ember/core/error.h"
#include "ember/data/fields.h"
#include "fields_internal.h"

namespace ember::data {

using namespace fields_internal;

namespace {

const Column& time_column_of(const FieldSpec& spec, const Table& t) {
  const Column& c = t.column(spec.time_column);
  EMBER_CHECK_T(ConfigError, c.type == ColumnType::Numeric, t.source, ": field '", spec.name,
                "' (type recent_mean_label): time_column '", spec.time_column,
                "' must be numeric; it is categorical");
  return c;
}

}  // namespace

std::vector<double> FieldEncoder::row_stats(const Field& f, const Table& t,
                                            const std::vector<int64_t>& rows,
                                            int* fit_table) const {
  if (f.kind != Kind::Count && *fit_table < 0) *fit_table = is_fit_table(t);
  if (f.kind == Kind::RecentMeanLabel) return recent_stats(f, t, rows, *fit_table > 0);
  const double m = specs_[f.spec].smoothing;
  const Dense d = densify(t.column(column_of(specs_[f.spec])), rows);
  const Stat none;
  std::vector<const Stat*> stat(d.keys.size());
  std::vector<double> key_value(d.keys.size());
  for (size_t k = 0; k < d.keys.size(); ++k) {
    const auto it = f.key_index.find(d.keys[k]);
    stat[k] = it == f.key_index.end() ? &none : &f.stats[it->second];
    key_value[k] = f.kind == Kind::Count
                       ? static_cast<double>(stat[k]->n)
                       : smoothed(stat[k]->sum, static_cast<double>(stat[k]->n), m, f.prior);
  }
  const Column* target = f.kind == Kind::MeanLabel && *fit_table > 0 ? &t.column(target_) : nullptr;
  std::vector<double> out(rows.size(), std::nan(""));
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t k = d.code[i];
    if (k < 0) continue;
    out[i] = key_value[k];
    if (target && train_mask_[rows[i]] && stat[k]->n > 0) {  // leave the row's own label out
      const double y = target->values[rows[i]] >= threshold_ ? 1.0 : 0.0;
      out[i] = smoothed(stat[k]->sum - y, stat[k]->n - 1.0, m, f.prior);
    }
  }
  return out;
}

std::vector<double> FieldEncoder::statistic(const std::string& field, const Table& t,
                                            const std::vector<int64_t>& rows) const {
  size_t si = 0;
  const Field& f = field_named(field, &si);
  EMBER_CHECK(f.kind == Kind::Count || f.kind == Kind::MeanLabel || f.kind == Kind::RecentMeanLabel,
              "FieldEncoder::statistic: field '", field,
              "' is not a count, mean_label or recent_mean_label field");
  for (int64_t r : rows)
    EMBER_CHECK_INDEX(r >= 0 && r < t.rows(), t.source, ": FieldEncoder::statistic: row ", r,
                      " is out of range for ", t.rows(), " rows");
  int fit_table = -1;
  return row_stats(f, t, rows, &fit_table);
}

// recent_mean_label: per key, the smoothed mean label of its latest earlier training rows.

void FieldEncoder::index_recent(Field& f) {
  f.begin.assign(f.stats.size() + 1, 0);
  for (size_t k = 0; k < f.stats.size(); ++k) f.begin[k + 1] = f.begin[k] + f.stats[k].n;
  f.cum.assign(f.label.size() + 1, 0);
  for (size_t i = 0; i < f.label.size(); ++i) f.cum[i + 1] = f.cum[i] + f.label[i];
}

void FieldEncoder::fit_recent(Field& f, const Table& t, const std::vector<int64_t>& train_rows,
                              const std::vector<double>& labels) const {
  const FieldSpec& spec = specs_[f.spec];
  const Column& time = time_column_of(spec, t);
  f.prior = std::accumulate(labels.begin(), labels.end(), 0.0) / static_cast<double>(labels.size());
  // The history: training rows with a time (and, below, a key), grouped by key in (time, row)
  // order.
  std::vector<int64_t> rows;
  std::vector<double> row_label;
  for (size_t i = 0; i < train_rows.size(); ++i)
    if (!std::isnan(time.values[train_rows[i]]))
      rows.push_back(train_rows[i]), row_label.push_back(labels[i]);
  const Dense d = densify(t.column(column_of(spec)), rows);
  std::vector<size_t> order;
  for (size_t j = 0; j < rows.size(); ++j)
    if (d.code[j] >= 0) order.push_back(j);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double ta = time.values[rows[a]], tb = time.values[rows[b]];
    if (d.code[a] != d.code[b]) return d.code[a] < d.code[b];
    if (ta != tb) return ta < tb;
    return rows[a] < rows[b];
  });
  f.keys = d.keys;
  f.stats.assign(d.keys.size(), Stat{});
  for (size_t k = 0; k < f.keys.size(); ++k) f.key_index.emplace(f.keys[k], k);
  for (size_t j : order) {
    Stat& s = f.stats[d.code[j]];
    ++s.n, s.sum += row_label[j];
    f.time.push_back(time.values[rows[j]]);
    f.row.push_back(rows[j]);
    f.label.push_back(row_label[j]);
  }
  index_recent(f);
  const std::vector<double> values = recent_stats(f, t, train_rows, true);
  f.edges = quantile_edges(values, spec.quantiles > 0 ? spec.quantiles : 10);
}

std::vector<double> FieldEncoder::recent_stats(const Field& f, const Table& t,
                                               const std::vector<int64_t>& rows,
                                               bool fit_table) const {
  const FieldSpec& spec = specs_[f.spec];
  const Column& time = time_column_of(spec, t);
  const Dense d = densify(t.column(column_of(spec)), rows);
  std::vector<int64_t> key(d.keys.size(), -1);
  for (size_t k = 0; k < d.keys.size(); ++k) {
    const auto it = f.key_index.find(d.keys[k]);
    if (it != f.key_index.end()) key[k] = it->second;
  }
  std::vector<double> out(rows.size(), f.prior);
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t k = d.code[i] < 0 ? -1 : key[d.code[i]];
    const double now = time.values[rows[i]];
    if (k < 0 || std::isnan(now)) continue;
    // pos: the first of key k's entries not before row i (binary search over [begin, end)).
    int64_t lo = f.begin[k], hi = f.begin[k + 1];
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      const bool before =
          f.time[mid] < now || (fit_table && f.time[mid] == now && f.row[mid] < rows[i]);
      before ? lo = mid + 1 : hi = mid;
    }
    const int64_t first = std::max(f.begin[k], lo - spec.window);
    out[i] = smoothed(f.cum[lo] - f.cum[first], static_cast<double>(lo - first), spec.smoothing,
                      f.prior);
  }
  return out;
}

double FieldEncoder::recent_latest(const Field& f, int64_t key) const {
  const FieldSpec& spec = specs_[f.spec];
  const int64_t end = f.begin[key + 1], first = std::max(f.begin[key], end - spec.window);
  return smoothed(f.cum[end] - f.cum[first], static_cast<double>(end - first), spec.smoothing,
                  f.prior);
}

}  // namespace ember::data
