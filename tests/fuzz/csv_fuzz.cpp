// libFuzzer harness: any bytes parse as CSV or throw ember::IOError; a parsed table is consistent
// and inspect() reports on it as text and JSON. Build instructions: tests/fuzz/README.md.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ember/core/error.h"
#include "ember/data/csv.h"
#include "ember/data/inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ember::data::Table t;
  try {
    t = ember::data::parse_csv(text, "fuzz.csv");
  } catch (const ember::IOError&) {
    return 0;
  }
  for (size_t r = 1; r < t.lines.size(); ++r)
    if (t.lines[r] <= t.lines[r - 1]) std::abort();
  for (const ember::data::Column& c : t.columns) {
    if (static_cast<int64_t>(c.values.size()) != t.rows()) std::abort();
    if (c.type == ember::data::ColumnType::Categorical)
      for (double v : c.values)
        if (!std::isnan(v) && (v < 0 || v >= static_cast<double>(c.categories.size())))
          std::abort();
  }
  const ember::json::Value report = ember::data::inspect(t);
  ember::data::format_inspect(report);
  report.dump();  // every number finite, every string UTF-8
  return 0;
}
