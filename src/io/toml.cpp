// Strict TOML reading over toml++: locations, typed getters, unknown keys, overrides; value writer.
#include "ember/io/toml.h"

#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "ember/core/error.h"
#include "ember/core/strings.h"
#include "ember/io/file.h"

namespace ember::io {

struct TomlDocument::State {
  toml::table root;
  std::string source;
  std::map<std::string, std::string> origins;  // dotted key set by an override -> "--set k=v"
};

struct TomlTable::Impl {
  std::shared_ptr<const TomlDocument::State> doc;
  const toml::table* table = nullptr;  // null when the table is absent
  std::string name;                    // dotted; "" for the root
  std::string where;                   // location of the table itself
  std::set<std::string> known;         // keys some getter asked for

  std::string full(const std::string& key) const { return name.empty() ? key : name + "." + key; }
  const toml::node* find(const std::string& key) const {
    return table == nullptr ? nullptr : table->get(key);
  }
  // "path:line:column" of a node, or "--set ..." when it (or a table above it) came from one.
  std::string locate(const std::string& dotted, const toml::node* node) const {
    return locate(dotted, node == nullptr ? nullptr : &node->source());
  }
  std::string locate(const std::string& dotted, const toml::source_region* region) const {
    for (std::string k = dotted;;) {
      auto it = doc->origins.find(k);
      if (it != doc->origins.end()) return it->second;
      const size_t dot = k.rfind('.');
      if (dot == std::string::npos) break;
      k.resize(dot);
    }
    if (region != nullptr && region->begin.line > 0)
      return detail::str_cat(doc->source, ":", region->begin.line, ":", region->begin.column);
    return where;
  }
};

namespace {

// A node as TOML text, with the writer's formatting below ("fast", 0.1, [1, 2]).
std::string render(const toml::node& n) {
  if (n.is_table()) return "{...}";
  if (const auto* s = n.as_string()) return toml_value(s->get());
  if (const auto* f = n.as_floating_point()) return toml_value(f->get());
  if (const auto* i = n.as_integer()) return toml_value(i->get());
  if (const auto* b = n.as_boolean()) return toml_value(b->get());
  if (const auto* a = n.as_array()) {
    std::string out = "[";
    for (size_t k = 0; k < a->size(); ++k) out += (k ? ", " : "") + render((*a)[k]);
    return out + "]";
  }
  std::ostringstream os;  // dates and times
  n.visit([&](auto&& v) { os << v; });
  return os.str();
}

// "string \"fast\"", "integer 3", "floating-point 0.5", "table"
std::string describe(const toml::node& n) {
  std::ostringstream os;
  os << n.type();
  if (!n.is_table()) os << " " << render(n);
  return os.str();
}

std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t") - b + 1));
}

}  // namespace

// ---- Range ----

bool Range::contains(double v) const {
  if (std::isnan(v)) return false;
  return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
}

std::string Range::describe() const {
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  std::ostringstream os;
  if (has_lo && has_hi)
    os << "must be in " << (lo_open ? "(" : "[") << lo << ", " << hi << (hi_open ? ")" : "]");
  else if (has_lo)
    os << "must be " << (lo_open ? "> " : ">= ") << lo;
  else if (has_hi)
    os << "must be " << (hi_open ? "< " : "<= ") << hi;
  return os.str();
}

// ---- TomlTable ----

const std::string& TomlTable::name() const {
  return impl_->name;
}

bool TomlTable::contains(const std::string& key) const {
  return impl_->find(key) != nullptr;
}

std::string TomlTable::location(const std::string& key) const {
  return impl_->locate(impl_->full(key), impl_->find(key));
}

void TomlTable::fail(const std::string& key, const std::string& what) const {
  const toml::node* n = impl_->find(key);
  std::string msg = location(key) + ": " + impl_->full(key);
  if (n != nullptr) msg += " = " + render(*n);
  EMBER_THROW(ConfigError, msg, ": ", what);
}

TomlTable TomlTable::table(const std::string& key) {
  impl_->known.insert(key);
  const toml::node* n = impl_->find(key);
  EMBER_CHECK_T(ConfigError, n == nullptr || n->is_table(), location(key), ": ", impl_->full(key),
                ": expected a table, got ", describe(*n));
  auto child = std::make_shared<Impl>();
  child->doc = impl_->doc;
  child->table = n == nullptr ? nullptr : n->as_table();
  child->name = impl_->full(key);
  child->where = location(key);
  return TomlTable(child);
}

std::vector<TomlTable> TomlTable::tables(const std::string& key) {
  impl_->known.insert(key);
  const toml::node* n = impl_->find(key);
  if (n == nullptr) return {};
  const toml::array* a = n->as_array();
  EMBER_CHECK_T(ConfigError, a != nullptr && a->is_array_of_tables(), location(key), ": ",
                impl_->full(key), ": expected an array of tables ([[", impl_->full(key),
                "]] blocks), got ", describe(*n));
  std::vector<TomlTable> out;
  for (size_t i = 0; i < a->size(); ++i) {
    auto child = std::make_shared<Impl>();
    child->doc = impl_->doc;
    child->table = (*a)[i].as_table();
    child->name = detail::str_cat(impl_->full(key), "[", i, "]");
    child->where = impl_->locate(child->name, &(*a)[i].source());
    out.push_back(TomlTable(child));
  }
  return out;
}

namespace {

// Reads one scalar of type T (std::string, double, int64_t, bool) from n; nullopt on a type
// mismatch. Doubles accept integers.
template <class T>
std::optional<T> scalar(const toml::node& n) {
  if constexpr (std::is_same_v<T, double>) {
    if (n.is_integer()) return static_cast<double>(n.as_integer()->get());
    if (n.is_floating_point()) return n.as_floating_point()->get();
    return std::nullopt;
  } else {
    return n.value_exact<T>();
  }
}

template <class T>
const char* expected_name() {
  if constexpr (std::is_same_v<T, double>) return "a number";
  if constexpr (std::is_same_v<T, int64_t>) return "an integer";
  if constexpr (std::is_same_v<T, bool>) return "a boolean (true or false)";
  return "a string";
}

template <class T>
const char* plural_name() {
  if constexpr (std::is_same_v<T, double>) return "numbers";
  if constexpr (std::is_same_v<T, int64_t>) return "integers";
  return "strings";
}

}  // namespace

// Reads node n as a T, checking its type and range; label names it in errors ("a.b[2]").
template <class T>
static T read_scalar(TomlTable::Impl& t, const std::string& key, const toml::node& n,
                     const std::string& label, const Range* range) {
  const std::string loc = t.locate(t.full(key), &n);
  const std::optional<T> v = scalar<T>(n);
  EMBER_CHECK_T(ConfigError, v.has_value(), loc, ": ", label, ": expected ", expected_name<T>(),
                ", got ", describe(n));
  if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
    if (range != nullptr)
      EMBER_CHECK_T(ConfigError, range->contains(static_cast<double>(*v)), loc, ": ", label, " = ",
                    render(n), ": ", range->describe());
  }
  return *v;
}

template <class T>
static std::vector<T> read_array(TomlTable::Impl& t, const std::string& key,
                                 const std::vector<T>& fallback, const Range* range) {
  t.known.insert(key);
  const toml::node* n = t.find(key);
  if (n == nullptr) return fallback;
  const std::string label = t.full(key);
  EMBER_CHECK_T(ConfigError, n->is_array(), t.locate(label, n), ": ", label,
                ": expected an array of ", plural_name<T>(), ", got ", describe(*n));
  std::vector<T> out;
  const toml::array& a = *n->as_array();
  for (size_t i = 0; i < a.size(); ++i)
    out.push_back(read_scalar<T>(t, key, a[i], detail::str_cat(label, "[", i, "]"), range));
  return out;
}

std::string TomlTable::get_string(const std::string& key, const std::string& fallback,
                                  const std::vector<std::string>& allowed) {
  impl_->known.insert(key);
  const toml::node* n = impl_->find(key);
  if (n == nullptr) return fallback;
  std::string v = read_scalar<std::string>(*impl_, key, *n, impl_->full(key), nullptr);
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    const std::string guess = closest_match(v, allowed);
    std::vector<std::string> quoted;
    for (const std::string& a : allowed) quoted.push_back(toml_value(a));
    fail(key, "must be one of " + join(quoted) +
                  (guess.empty() ? "" : "; did you mean " + toml_value(guess) + "?"));
  }
  return v;
}

double TomlTable::get_double(const std::string& key, double fallback, const Range& range) {
  impl_->known.insert(key);
  const toml::node* n = impl_->find(key);
  return n == nullptr ? fallback : read_scalar<double>(*impl_, key, *n, impl_->full(key), &range);
}

int64_t TomlTable::get_int(const std::string& key, int64_t fallback, const Range& range) {
  impl_->known.insert(key);
  const toml::node* n = impl_->find(key);
  return n == nullptr ? fallback : read_scalar<int64_t>(*impl_, key, *n, impl_->full(key), &range);
}

bool TomlTable::get_bool(const std::string& key, bool fallback) {
  impl_->known.insert(key);
  const toml::node* n = impl_->find(key);
  return n == nullptr ? fallback : read_scalar<bool>(*impl_, key, *n, impl_->full(key), nullptr);
}

std::vector<double> TomlTable::get_doubles(const std::string& key,
                                           const std::vector<double>& fallback,
                                           const Range& range) {
  return read_array<double>(*impl_, key, fallback, &range);
}

std::vector<int64_t> TomlTable::get_ints(const std::string& key,
                                         const std::vector<int64_t>& fallback, const Range& range) {
  return read_array<int64_t>(*impl_, key, fallback, &range);
}

std::vector<std::string> TomlTable::get_strings(const std::string& key,
                                                const std::vector<std::string>& fallback) {
  return read_array<std::string>(*impl_, key, fallback, nullptr);
}

void TomlTable::finish() const {
  if (impl_->table == nullptr) return;
  // The first unknown key in file order (toml++ tables iterate in key order).
  const toml::node* first = nullptr;
  const toml::key* first_key_ptr = nullptr;
  auto before = [](const toml::key& a, const toml::key& b) {
    const auto& pa = a.source().begin;
    const auto& pb = b.source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  };
  for (auto&& [k, v] : *impl_->table) {
    if (impl_->known.count(std::string(k.str()))) continue;
    if (first != nullptr && !before(k, *first_key_ptr)) continue;
    first = &v;
    first_key_ptr = &k;
  }
  if (first == nullptr) return;
  const std::string first_key(first_key_ptr->str());
  const std::vector<std::string> allowed(impl_->known.begin(), impl_->known.end());
  const std::string guess = closest_match(first_key, allowed);
  const std::string hint = guess.empty() ? "" : "; did you mean '" + guess + "'?";
  const std::string loc = impl_->locate(impl_->full(first_key), &first_key_ptr->source());
  if (impl_->name.empty())
    EMBER_THROW(ConfigError, loc, ": unknown ", first->is_table() ? "section [" : "top-level key '",
                first_key, first->is_table() ? "]" : "'", "; allowed sections: ", join(allowed),
                hint);
  EMBER_THROW(ConfigError, loc, ": unknown key '", impl_->full(first_key), "' in [", impl_->name,
              "]; allowed: ", join(allowed), hint);
}

// ---- TomlDocument ----

TomlDocument TomlDocument::parse(std::string_view text, const std::string& source) {
  TomlDocument doc;
  doc.state_ = std::make_shared<State>();
  doc.state_->source = source;
  try {
    doc.state_->root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    EMBER_THROW(ConfigError, source, ":", e.source().begin.line, ":", e.source().begin.column, ": ",
                e.description());
  }
  return doc;
}

TomlDocument TomlDocument::parse_file(const std::string& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const IOError& e) {
    EMBER_THROW(ConfigError, path, ": cannot read the config file: ", e.message());
  }
  return parse(text, path);
}

const std::string& TomlDocument::source() const {
  return state_->source;
}

TomlTable TomlDocument::root() const {
  auto impl = std::make_shared<TomlTable::Impl>();
  impl->doc = state_;
  impl->table = &state_->root;
  impl->where = state_->source;
  return TomlTable(impl);
}

void TomlDocument::set(const std::string& assignment) {
  const std::string origin = "--set " + assignment;
  const size_t eq = assignment.find('=');
  EMBER_CHECK_T(ConfigError, eq != std::string::npos, origin,
                ": expected key=value, e.g. --set optimizer.lr=0.01");
  const std::string key = trim(std::string_view(assignment).substr(0, eq));
  const std::string text = trim(std::string_view(assignment).substr(eq + 1));
  std::vector<std::string> parts;
  for (size_t b = 0;;) {
    const size_t dot = key.find('.', b);
    parts.push_back(key.substr(b, dot == std::string::npos ? std::string::npos : dot - b));
    if (dot == std::string::npos) break;
    b = dot + 1;
  }
  for (const std::string& p : parts)
    EMBER_CHECK_T(ConfigError, !p.empty(), origin, ": bad key '", key,
                  "'; expected a dotted key such as optimizer.lr");

  // The value as TOML ("0.1", "[64, 32]", "\"s\""), else the raw text as a string.
  toml::table parsed;
  bool is_toml = false;
  try {
    parsed = toml::parse("v = " + text);
    is_toml = parsed.size() == 1 && parsed.contains("v");
  } catch (const toml::parse_error&) {
  }

  toml::table* t = &state_->root;
  std::string prefix;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    prefix += (i ? "." : "") + parts[i];
    if (!t->contains(parts[i])) {
      t->insert(parts[i], toml::table{});
      state_->origins[prefix] = origin;
    }
    toml::table* next = t->get(parts[i])->as_table();
    EMBER_CHECK_T(ConfigError, next != nullptr, origin, ": '", prefix, "' is not a table");
    t = next;
  }
  if (is_toml)
    t->insert_or_assign(parts.back(), std::move(*parsed.get("v")));
  else
    t->insert_or_assign(parts.back(), text);
  state_->origins[key] = origin;
}

// ---- suggestions ----

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = std::min<size_t>(2, (word.size() + 1) / 2) + 1;
  for (const std::string& c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) best = c, best_d = d;
  }
  return best;
}

// ---- writing ----

std::string toml_value(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string toml_value(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string toml_value(int64_t v) {
  return std::to_string(v);
}

std::string toml_value(bool v) {
  return v ? "true" : "false";
}

template <class T>
static std::string toml_array(const std::vector<T>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + toml_value(v[i]);
  return out + "]";
}

std::string toml_value(const std::vector<double>& v) {
  return toml_array(v);
}
std::string toml_value(const std::vector<int64_t>& v) {
  return toml_array(v);
}
std::string toml_value(const std::vector<std::string>& v) {
  return toml_array(v);
}

}  // namespace ember::io
