// Data-quality report of a table: per-column statistics, duplicates, target balance, findings.
#pragma once

#include <string>

#include "ember/data/csv.h"
#include "ember/io/json.h"

namespace ember::data {

/// The report behind `ember inspect DATA.csv [--target COL] [--json]`, as JSON:
///   {"source", "rows", "columns",
///    "column_stats": [{"name", "type", "missing", "missing_pct", "distinct",
///                      numeric: "min", "max", "mean", "std", "outliers_z", "outliers_iqr",
///                      categorical: "top", "top_count"}],
///    "constant_columns": [names], "duplicate_rows",
///    "target": {"name", "kind": "classes", "missing", "classes": [{"name", "count", "pct"}]}
///           or {"name", "kind": "numeric", "missing", "min", "max", "mean", "std"},
///    "findings": ["column 'x' is constant (every value is 5)", ...]}
/// Statistics ignore missing values (null when a column has none); std is the population std;
/// outliers_z counts |x - mean| > 3 std, outliers_iqr counts values outside
/// [q1 - 1.5 iqr, q3 + 1.5 iqr]. duplicate_rows counts rows equal to an earlier row (missing
/// equals missing). The target (optional; an unknown name is the ConfigError of Table::column) is
/// reported as classes when it is categorical or holds at most 20 distinct integers.
json::Value inspect(const Table& t, const std::string& target = "");

/// The report as text: a header line, an aligned table of the columns, the target's balance and
/// the findings list.
std::string format_inspect(const json::Value& report);

}  // namespace ember::data
