// The [[fields]] entries of a CTR config: strict reading (only the keys of a field's type) and
// TOML.
#include <string>
#include <vector>

#include "ember/data/fields.h"
#include "ember/io/toml.h"

namespace ember::train {

using io::Range;
using io::TomlTable;

namespace {

const std::vector<std::string> kFieldTypes = {
    "categorical", "multi", "numeric",    "bucket",
    "timestamp",   "count", "mean_label", "recent_mean_label"};

bool has_vocabulary(const std::string& type) {
  return type == "categorical" || type == "multi";
}
bool has_label_stats(const std::string& type) {
  return type == "mean_label" || type == "recent_mean_label";
}
bool has_quantiles(const std::string& type) {
  return type == "bucket" || type == "count" || has_label_stats(type);
}

data::FieldSpec read_field(TomlTable t) {
  data::FieldSpec f;
  f.name = t.get_string("name", f.name);
  f.column = t.get_string("column", f.column);
  f.type = t.get_string("type", f.type, kFieldTypes);
  const std::string& k = f.type;
  if (has_vocabulary(k)) {
    f.min_freq = t.get_int("min_freq", f.min_freq, Range::at_least(1));
    f.hash_buckets = t.get_int("hash_buckets", f.hash_buckets, Range::at_least(0));
  }
  if (k == "multi") {
    f.sep = t.get_string("sep", f.sep);
    f.pooling = t.get_string("pooling", f.pooling, {"mean", "sum"});
  }
  if (k == "bucket") {
    f.width = t.get_double("width", f.width, Range::at_least(0));
    f.boundaries = t.get_doubles("boundaries", f.boundaries);
  }
  if (has_quantiles(k)) f.quantiles = t.get_int("quantiles", f.quantiles, Range::at_least(0));
  if (k == "timestamp") f.parts = t.get_strings("parts", f.parts);
  if (has_label_stats(k)) f.smoothing = t.get_double("smoothing", f.smoothing, Range::at_least(0));
  if (k == "recent_mean_label") {
    f.time_column = t.get_string("time_column", f.time_column);
    f.window = t.get_int("window", f.window, Range::at_least(1));
  }
  t.finish();
  if (k == "recent_mean_label" && f.time_column.empty())
    t.fail("time_column", "missing; recent_mean_label orders rows by this column (e.g. timestamp)");
  if (f.name.empty())
    t.fail("name", "missing; name the field (and its column, unless column is set)");
  if (k == "multi" && f.sep.empty()) t.fail("sep", "must not be empty");
  if (k == "bucket" && (f.width > 0) + !f.boundaries.empty() + (f.quantiles > 0) > 1)
    t.fail("width", "set at most one of width, boundaries and quantiles");
  return f;
}

std::string line(const std::string& key, const auto& value) {
  return key + " = " + io::toml_value(value) + "\n";
}

}  // namespace

std::vector<data::FieldSpec> read_fields(std::vector<TomlTable>& tables) {
  std::vector<data::FieldSpec> out;
  for (TomlTable& t : tables) {
    out.push_back(read_field(t));
    for (size_t i = 0; i + 1 < out.size(); ++i)
      if (out[i].name == out.back().name)
        t.fail("name", "field '" + out.back().name + "' is listed twice");
  }
  return out;
}

std::string fields_to_toml(const std::vector<data::FieldSpec>& fields) {
  std::string s;
  for (const data::FieldSpec& f : fields) {
    const std::string& k = f.type;
    s += "\n[[fields]]\n" + line("name", f.name) + line("column", f.column) + line("type", k);
    if (has_vocabulary(k)) s += line("min_freq", f.min_freq) + line("hash_buckets", f.hash_buckets);
    if (k == "multi") s += line("sep", f.sep) + line("pooling", f.pooling);
    if (k == "bucket") s += line("width", f.width) + line("boundaries", f.boundaries);
    if (has_quantiles(k)) s += line("quantiles", f.quantiles);
    if (k == "timestamp") s += line("parts", f.parts);
    if (has_label_stats(k)) s += line("smoothing", f.smoothing);
    if (k == "recent_mean_label")
      s += line("time_column", f.time_column) + line("window", f.window);
  }
  return s;
}

}  // namespace ember::train
