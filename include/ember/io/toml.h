// Strict TOML reading (located errors, typed getters, unknown keys, --set overrides) and writing.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ember::io {

/// An interval a number must lie in, e.g. Range::above(0) for "must be > 0".
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;

  static Range above(double lo) { return {lo, std::numeric_limits<double>::infinity(), true}; }
  static Range at_least(double lo) { return {lo, std::numeric_limits<double>::infinity()}; }
  static Range closed(double lo, double hi) { return {lo, hi}; }                  ///< [lo, hi]
  static Range half_open(double lo, double hi) { return {lo, hi, false, true}; }  ///< [lo, hi)
  static Range open(double lo, double hi) { return {lo, hi, true, true}; }        ///< (lo, hi)

  bool contains(double v) const;
  /// "must be > 0", "must be >= 1", "must be in [0, 1)"; empty for the unbounded range.
  std::string describe() const;
};

/// Reads one table of a TomlDocument. Every getter marks its key as known (and consumed when
/// present); finish() then rejects keys nobody asked for. Errors are ember::ConfigError starting
/// with the location of the offending key ("path:line:column", or "--set key=value" for an
/// override, or "path" when the key is absent):
///   cfg.toml:4:6: optimizer.lr: expected a number, got string "fast"
///   cfg.toml:4:6: optimizer.lr = -0.1: must be > 0
///   cfg.toml:5:1: unknown key 'optimizer.lrr' in [optimizer]; did you mean 'lr'? allowed: eps, lr
/// Copies share the same record of consumed keys.
class TomlTable {
 public:
  /// The dotted name of the table ("optimizer"; "" for the document root).
  const std::string& name() const;
  /// True when key is present (does not mark it).
  bool contains(const std::string& key) const;

  /// A sub-table (an empty one when absent; "expected a table" when key holds something else).
  TomlTable table(const std::string& key);
  /// The tables of an array of tables ([[key]] blocks, or key = [{...}, {...}]); empty when absent.
  /// Each is named "key[i]" in errors; call finish() on each.
  std::vector<TomlTable> tables(const std::string& key);

  /// The value of key, or fallback when absent. Numbers accept integers; integers reject floats.
  /// allowed (when not empty) lists the only accepted strings; range applies to each number.
  std::string get_string(const std::string& key, const std::string& fallback,
                         const std::vector<std::string>& allowed = {});
  double get_double(const std::string& key, double fallback, const Range& range = {});
  int64_t get_int(const std::string& key, int64_t fallback, const Range& range = {});
  bool get_bool(const std::string& key, bool fallback);
  std::vector<double> get_doubles(const std::string& key, const std::vector<double>& fallback,
                                  const Range& range = {});
  std::vector<int64_t> get_ints(const std::string& key, const std::vector<int64_t>& fallback,
                                const Range& range = {});
  std::vector<std::string> get_strings(const std::string& key,
                                       const std::vector<std::string>& fallback);

  /// Throws ConfigError "location: table.key = value: what" (without " = value" when key is
  /// absent), for checks the getters cannot express.
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;
  /// Where key is ("path:line:column", "--set ...", or the table's own location when absent).
  std::string location(const std::string& key) const;
  /// Throws ConfigError for the first present key that no getter asked for, listing the allowed
  /// keys and suggesting the closest one when it is a small edit away.
  void finish() const;

  struct Impl;  ///< defined in toml.cpp (keeps toml++ out of this header)
  explicit TomlTable(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<Impl> impl_;
};

/// A parsed TOML document plus the overrides applied to it.
class TomlDocument {
 public:
  /// Parses a file; a missing file or a syntax error is a ConfigError "path:line:column: reason".
  static TomlDocument parse_file(const std::string& path);
  /// Parses text; source names it in errors.
  static TomlDocument parse(std::string_view text, const std::string& source);

  /// Applies an override "a.b.c=value" (as given to --set): value is parsed as a TOML value
  /// (42, 0.1, true, "s", [1, 2], {x = 1}) and taken as a plain string when that fails. Missing
  /// tables on the way are created. Errors on these keys are located at "--set a.b.c=value".
  /// Call before reading.
  void set(const std::string& assignment);

  /// A reader over the root table (sections are its sub-tables).
  TomlTable root() const;
  const std::string& source() const;

  struct State;  ///< defined in toml.cpp

 private:
  std::shared_ptr<State> state_;
};

/// Levenshtein distance (for "did you mean" suggestions).
size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to word when it is a small edit away (distance <= 2 and at most half of
/// word's length, rounded up), else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// ---- writing: TOML text of a value (inline) ----

/// A basic string with quotes and escapes: "a\"b".
std::string toml_value(const std::string& s);
inline std::string toml_value(const char* s) {
  return toml_value(std::string(s));
}
/// Shortest text that reads back to the same double, always a float ("3.0", "1e-08", "inf").
std::string toml_value(double v);
std::string toml_value(int64_t v);
std::string toml_value(bool v);
std::string toml_value(const std::vector<double>& v);
std::string toml_value(const std::vector<int64_t>& v);
std::string toml_value(const std::vector<std::string>& v);

}  // namespace ember::io
