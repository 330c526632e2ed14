// inspect: column statistics, duplicate rows, target balance and findings; format_inspect prints
// them.
#include "ember/data/inspect.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <unordered_set>

namespace ember::data {

namespace {

// printf-style formatting of one number ("%.4g", "%.1f").
std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

// "1 row", "3 rows".
std::string count_of(int64_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

double pct(int64_t count, int64_t total) {
  return total == 0 ? 0.0 : 100.0 * static_cast<double>(count) / static_cast<double>(total);
}

std::vector<double> present_values(const Column& c) {
  std::vector<double> v;
  for (double x : c.values)
    if (!std::isnan(x)) v.push_back(x);
  return v;
}

// q-th quantile of sorted values, linear interpolation (numpy's default).
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// A JSON number, or null when v overflowed to infinity (JSON has no infinity).
json::Value number(double v) {
  return std::isfinite(v) ? json::Value(v) : json::Value();
}

struct Summary {
  double min = 0, max = 0, mean = 0, std = 0;
};

Summary summarize(const std::vector<double>& v) {
  Summary s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.std += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(s.std / static_cast<double>(v.size()));
  return s;
}

// Category counts of a categorical column, by category index.
std::vector<int64_t> category_counts(const Column& c) {
  std::vector<int64_t> counts(c.categories.size(), 0);
  for (double x : c.values)
    if (!std::isnan(x)) ++counts[static_cast<size_t>(x)];
  return counts;
}

json::Value column_stats(const Column& c, int64_t rows, json::Array& findings) {
  const std::string quoted = "column '" + c.name + "'";
  const int64_t missing = c.missing_count();
  json::Value s = json::Value::object();
  s["name"] = c.name;
  s["type"] = c.type == ColumnType::Numeric ? "numeric" : "categorical";
  s["missing"] = missing;
  s["missing_pct"] = pct(missing, rows);
  if (missing > 0)
    findings.push_back(quoted + " has " + count_of(missing, "missing value") + " (" +
                       fmt("%.1f", pct(missing, rows)) + "%)");
  std::vector<double> v = present_values(c);
  std::sort(v.begin(), v.end());
  int64_t distinct = 0;
  for (size_t i = 0; i < v.size(); ++i) distinct += i == 0 || v[i] != v[i - 1];
  s["distinct"] = distinct;

  if (c.type == ColumnType::Numeric) {
    for (const char* key : {"min", "max", "mean", "std", "outliers_z", "outliers_iqr"}) s[key];
    if (v.empty()) return s;
    const Summary m = summarize(v);
    const double q1 = quantile(v, 0.25), q3 = quantile(v, 0.75);
    int64_t out_z = 0, out_iqr = 0;
    for (double x : v) {
      out_z += m.std > 0 && std::abs(x - m.mean) > 3 * m.std;
      out_iqr += x < q1 - 1.5 * (q3 - q1) || x > q3 + 1.5 * (q3 - q1);
    }
    s["min"] = m.min;
    s["max"] = m.max;
    s["mean"] = number(m.mean);
    s["std"] = number(m.std);
    s["outliers_z"] = out_z;
    s["outliers_iqr"] = out_iqr;
    if (out_z > 0 || out_iqr > 0)
      findings.push_back(quoted + " has outliers: " + std::to_string(out_z) + " with |z| > 3, " +
                         std::to_string(out_iqr) + " outside 1.5 IQR");
    return s;
  }
  const std::vector<int64_t> counts = category_counts(c);
  s["top"];
  s["top_count"] = 0;
  const auto top = std::max_element(counts.begin(), counts.end());
  if (top != counts.end() && *top > 0) {
    s["top"] = c.categories[top - counts.begin()];
    s["top_count"] = *top;
  }
  const auto n = static_cast<int64_t>(v.size());
  if (n >= 20 && distinct == n)
    findings.push_back(quoted + " has a different value in every row (an identifier? leave it " +
                       "out of the features)");
  return s;
}

// Rows equal to an earlier row (missing equals missing; -0 equals 0).
int64_t duplicate_rows(const Table& t) {
  std::unordered_set<std::string> seen;
  std::string key(t.columns.size() * sizeof(double), '\0');
  int64_t dups = 0;
  for (int64_t r = 0; r < t.rows(); ++r) {
    for (size_t j = 0; j < t.columns.size(); ++j) {
      double v = t.columns[j].values[r];
      if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
      if (v == 0) v = 0;
      std::memcpy(key.data() + j * sizeof(double), &v, sizeof(double));
    }
    dups += !seen.insert(key).second;
  }
  return dups;
}

// The target as classes (categorical, or at most 20 distinct integers) or as a numeric summary.
json::Value target_report(const Column& c, int64_t rows, json::Array& findings) {
  json::Value s = json::Value::object();
  s["name"] = c.name;
  const int64_t missing = c.missing_count();
  const std::vector<double> v = present_values(c);
  std::vector<double> distinct = v;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  const bool integers =
      std::all_of(v.begin(), v.end(), [](double x) { return x == std::round(x); });
  const bool classes =
      c.type == ColumnType::Categorical || (integers && !v.empty() && distinct.size() <= 20);
  s["kind"] = classes ? "classes" : "numeric";
  s["missing"] = missing;
  if (missing > 0)
    findings.push_back("target '" + c.name + "' is missing in " + count_of(missing, "row") +
                       "; training drops them");
  if (!classes) {
    for (const char* key : {"min", "max", "mean", "std"}) s[key];
    if (v.empty()) return s;
    const Summary m = summarize(v);
    s["min"] = m.min;
    s["max"] = m.max;
    s["mean"] = number(m.mean);
    s["std"] = number(m.std);
    return s;
  }
  std::vector<std::pair<std::string, int64_t>> counts;  // in category order, or sorted numbers
  if (c.type == ColumnType::Categorical) {
    const std::vector<int64_t> k = category_counts(c);
    for (size_t i = 0; i < k.size(); ++i)
      if (k[i] > 0) counts.emplace_back(c.categories[i], k[i]);
  } else {
    for (double d : distinct)
      counts.emplace_back(number_text(d), std::count(v.begin(), v.end(), d));
  }
  const auto n = static_cast<int64_t>(v.size());
  json::Array list;
  for (const auto& [name, count] : counts) {
    json::Value e = json::Value::object();
    e["name"] = name;
    e["count"] = count;
    e["pct"] = pct(count, n);
    list.push_back(std::move(e));
  }
  s["classes"] = std::move(list);
  if (counts.size() == 1) findings.push_back("target has a single class '" + counts[0].first + "'");
  if (counts.size() < 2) return s;
  const auto smallest = std::min_element(counts.begin(), counts.end(),
                                         [](auto& a, auto& b) { return a.second < b.second; });
  const double even = 100.0 / static_cast<double>(counts.size());
  if (pct(smallest->second, n) < even / 2)
    findings.push_back("target is imbalanced: class '" + smallest->first + "' has " +
                       count_of(smallest->second, "row") + " (" +
                       fmt("%.1f", pct(smallest->second, n)) + "%), under half of an even share (" +
                       fmt("%.1f", even) + "%)");
  return s;
}

// Pads each cell of each row to its column's width, two spaces apart.
std::string align(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows)
    for (size_t j = 0; j < row.size(); ++j) {
      if (width.size() <= j) width.push_back(0);
      width[j] = std::max(width[j], row[j].size());
    }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t j = 0; j < row.size(); ++j)
      line += row[j] + std::string(j + 1 < row.size() ? width[j] - row[j].size() + 2 : 0, ' ');
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string num(const json::Value& v) {
  return v.is_null() ? "" : fmt("%.4g", v.as_double());
}

}  // namespace

json::Value inspect(const Table& t, const std::string& target) {
  const Column* target_col = target.empty() ? nullptr : &t.column(target);
  json::Array stats, constant, findings;
  for (const Column& c : t.columns) {
    stats.push_back(column_stats(c, t.rows(), findings));
    const int64_t missing = stats.back()["missing"].as_int();
    const int64_t distinct = stats.back()["distinct"].as_int();
    if (t.rows() == 0 || !((distinct == 1 && missing == 0) || missing == t.rows())) continue;
    constant.push_back(c.name);
    if (missing == t.rows()) {
      findings.push_back("column '" + c.name + "' is empty (every value is missing)");
    } else {
      const double v = c.values[0];
      findings.push_back("column '" + c.name + "' is constant (every value is " + value_text(c, v) +
                         ")");
    }
  }
  const int64_t dups = duplicate_rows(t);
  if (dups > 0) findings.push_back(count_of(dups, "duplicate row") + " (equal to an earlier row)");
  json::Value target_value;
  if (target_col) target_value = target_report(*target_col, t.rows(), findings);

  json::Value r = json::Value::object();
  r["source"] = t.source;
  r["rows"] = t.rows();
  r["columns"] = t.cols();
  r["column_stats"] = std::move(stats);
  r["constant_columns"] = std::move(constant);
  r["duplicate_rows"] = dups;
  r["target"] = std::move(target_value);
  r["findings"] = std::move(findings);
  return r;
}

std::string format_inspect(const json::Value& report) {
  std::string out = report["source"].as_string() + ": " + std::to_string(report["rows"].as_int()) +
                    " rows, " + std::to_string(report["columns"].as_int()) + " columns\n\n";
  std::vector<std::vector<std::string>> rows = {{"column", "type", "missing", "distinct", "min",
                                                 "max", "mean", "std", "outliers z/iqr", "top"}};
  for (const json::Value& s : report["column_stats"].as_array()) {
    const int64_t missing = s["missing"].as_int();
    std::vector<std::string> row = {
        s["name"].as_string(), s["type"].as_string(),
        missing == 0
            ? "0"
            : std::to_string(missing) + " (" + fmt("%.1f", s["missing_pct"].as_double()) + "%)",
        std::to_string(s["distinct"].as_int())};
    if (s["type"].as_string() == "numeric") {
      for (const char* key : {"min", "max", "mean", "std"}) row.push_back(num(s[key]));
      row.push_back(s["outliers_z"].is_null() ? ""
                                              : std::to_string(s["outliers_z"].as_int()) + "/" +
                                                    std::to_string(s["outliers_iqr"].as_int()));
      row.push_back("");
    } else {
      row.insert(row.end(), 5, "");
      if (!s["top"].is_null())
        row.push_back(s["top"].as_string() + " (" + std::to_string(s["top_count"].as_int()) + ")");
    }
    rows.push_back(std::move(row));
  }
  out += align(rows);

  const json::Value& target = report["target"];
  if (!target.is_null()) {
    out += "\ntarget '" + target["name"].as_string() + "'";
    if (target["kind"].as_string() == "classes") {
      out += " (" + std::to_string(target["classes"].size()) + " classes):";
      std::string sep = " ";
      for (const json::Value& c : target["classes"].as_array()) {
        out += sep + c["name"].as_string() + " " + std::to_string(c["count"].as_int()) + " (" +
               fmt("%.1f", c["pct"].as_double()) + "%)";
        sep = ", ";
      }
    } else {
      out += ": min " + num(target["min"]) + ", max " + num(target["max"]) + ", mean " +
             num(target["mean"]) + ", std " + num(target["std"]);
    }
    out += "\n";
  }
  const json::Array& findings = report["findings"].as_array();
  out += findings.empty() ? "\nfindings: none\n" : "\nfindings:\n";
  for (const json::Value& f : findings) out += "  - " + f.as_string() + "\n";
  return out;
}

}  // namespace ember::data
