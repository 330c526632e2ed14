// Training history: one row of named values per evaluation point, written as metrics.csv/json.
#include "ember/train/history.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "ember/io/file.h"

namespace ember::train {

namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// The shortest decimal form that reads back as the same double ("0.1", "1e-05", "inf").
std::string format_number(double v) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

// A CSV field, quoted when it holds a comma, quote or line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// A cell as strict JSON: null when missing (or NaN), "Infinity" / "-Infinity" for infinities.
json::Value cell_to_json(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

// The inverse of cell_to_json; nullopt for anything else.
std::optional<double> cell_from_json(const json::Value& v) {
  if (v.is_null()) return kMissing;
  if (v.is_number()) return v.as_double();
  if (v.is_string() && v.as_string() == "Infinity") return std::numeric_limits<double>::infinity();
  if (v.is_string() && v.as_string() == "-Infinity")
    return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

}  // namespace

size_t History::column_index(const std::string& name) {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return i;
  }
  names_.push_back(name);
  return names_.size() - 1;
}

void History::add(int64_t epoch, int64_t step, const Metrics& values) {
  for (size_t k = 0; k < values.size(); ++k) {
    const std::string& name = values[k].first;
    EMBER_CHECK(!name.empty() && name != "epoch" && name != "step",
                "History::add: invalid value name '", name,
                "' (names must be non-empty and not 'epoch' or 'step')");
    for (size_t j = 0; j < k; ++j)
      EMBER_CHECK(values[j].first != name, "History::add: value '", name,
                  "' given twice in one row (epoch ", epoch, ", step ", step, ")");
  }
  Row row{epoch, step, {}};
  for (const auto& [name, value] : values) {
    const size_t i = column_index(name);
    if (i >= row.values.size()) row.values.resize(i + 1, kMissing);
    row.values[i] = value;
  }
  rows_.push_back(std::move(row));
}

std::vector<std::string> History::columns() const {
  std::vector<std::string> cols = {"epoch", "step"};
  cols.insert(cols.end(), names_.begin(), names_.end());
  return cols;
}

std::vector<double> History::series(const std::string& name) const {
  std::vector<double> out;
  out.reserve(rows_.size());
  if (name == "epoch" || name == "step") {
    for (const Row& r : rows_)
      out.push_back(static_cast<double>(name == "epoch" ? r.epoch : r.step));
    return out;
  }
  size_t i = 0;
  while (i < names_.size() && names_[i] != name) ++i;
  if (i == names_.size()) {
    std::string known;
    for (const std::string& c : columns()) known += known.empty() ? c : ", " + c;
    EMBER_THROW(ValueError, "History::series: no column '", name, "'; columns: ", known);
  }
  for (const Row& r : rows_) out.push_back(i < r.values.size() ? r.values[i] : kMissing);
  return out;
}

void History::write_csv(const std::string& path) const {
  std::string text;
  for (const std::string& c : columns()) {
    if (!text.empty()) text += ',';
    text += csv_field(c);
  }
  text += '\n';
  for (const Row& r : rows_) {
    text += std::to_string(r.epoch) + ',' + std::to_string(r.step);
    for (size_t i = 0; i < names_.size(); ++i) {
      text += ',';
      if (i < r.values.size() && !std::isnan(r.values[i])) text += format_number(r.values[i]);
    }
    text += '\n';
  }
  io::write_file_atomic(path, text);
}

json::Value History::to_json() const {
  json::Value rows = json::Value::array();
  for (const Row& r : rows_) {
    json::Value row = json::Value::object();
    row["epoch"] = r.epoch;
    row["step"] = r.step;
    for (size_t i = 0; i < names_.size(); ++i)
      row[names_[i]] = cell_to_json(i < r.values.size() ? r.values[i] : kMissing);
    rows.push_back(std::move(row));
  }
  return rows;
}

History History::from_json(const json::Value& rows) {
  EMBER_CHECK(rows.is_array(), "History::from_json: expected an array of rows, got ",
              json::type_name(rows.type()));
  History h;
  for (size_t k = 0; k < rows.size(); ++k) {
    const json::Value& row = rows[k];
    EMBER_CHECK(row.is_object(), "History::from_json: row ", k, " must be an object, got ",
                json::type_name(row.type()));
    for (const char* key : {"epoch", "step"}) {
      const json::Value* v = row.find(key);
      EMBER_CHECK(v != nullptr && v->is_int(), "History::from_json: row ", k, ": '", key,
                  "' must be an integer, got ", v ? json::type_name(v->type()) : "nothing");
    }
    Row r{row["epoch"].as_int(), row["step"].as_int(), {}};
    for (const auto& [key, value] : row.as_object()) {
      if (key == "epoch" || key == "step") continue;
      const std::optional<double> cell = cell_from_json(value);
      EMBER_CHECK(cell.has_value(), "History::from_json: row ", k, ": '", key,
                  "' must be a number, null, \"Infinity\" or \"-Infinity\", got ", value.dump());
      const size_t i = h.column_index(key);
      if (i >= r.values.size()) r.values.resize(i + 1, kMissing);
      r.values[i] = *cell;
    }
    h.rows_.push_back(std::move(r));
  }
  return h;
}

void History::write_json(const std::string& path, const Metrics& final_metrics) const {
  json::Value final_values = json::Value::object();
  for (const auto& [name, value] : final_metrics) final_values[name] = cell_to_json(value);
  json::Value doc = json::Value::object();
  doc["history"] = to_json();
  doc["final"] = std::move(final_values);
  json::write_file(path, doc);
}

}  // namespace ember::train
