// FieldEncoder internals shared by fields.cpp and fields_stats.cpp (not a public header).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ember/data/fields.h"

namespace ember::data::fields_internal {

/// The spec's source column: `column`, or the name when that is empty.
const std::string& column_of(const FieldSpec& s);

/// The distinct values of one column over some rows: keys[code[i]] is row i's text (numbers by
/// their shortest exact text), code -1 when missing.
struct Dense {
  std::vector<std::string> keys;
  std::vector<int64_t> code;
};
Dense densify(const Column& c, const std::vector<int64_t>& rows);

/// Edges at the i/q quantiles of v (linear interpolation, as numpy), i = 1..q-1, without repeats.
std::vector<double> quantile_edges(std::vector<double> v, int64_t q);

/// (sum + m * prior) / (n + m); the prior when n + m is 0.
inline double smoothed(double sum, double n, double m, double prior) {
  return n + m > 0 ? (sum + m * prior) / (n + m) : prior;
}

}  // namespace ember::data::fields_internal
