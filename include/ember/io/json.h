// JSON: a strict value type (insertion-ordered objects, exact int64 numbers), parser and writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ember/core/error.h"

namespace ember::json {

class Value;
class Object;
using Array = std::vector<Value>;

/// The kind of a JSON value. Numbers are Int when written without fraction or exponent and they
/// fit in int64 (so ids, offsets and steps stay exact), Double otherwise.
enum class Type : uint8_t { Null, Bool, Int, Double, String, Array, Object };

/// "null", "bool", "integer", "number", "string", "array" or "object".
const char* type_name(Type t);

/// A JSON value. Copies are deep. Accessors of the wrong type throw ember::ValueError naming both
/// types; parse errors throw ember::IOError.
class Value {
 public:
  Value() = default;                                 ///< null
  Value(std::nullptr_t) {}                           // NOLINT(google-explicit-constructor)
  Value(bool b) : type_(Type::Bool), bool_(b) {}     // NOLINT(google-explicit-constructor)
  Value(int i) : type_(Type::Int), int_(i) {}        // NOLINT(google-explicit-constructor)
  Value(long i) : type_(Type::Int), int_(i) {}       // NOLINT(google-explicit-constructor)
  Value(long long i) : type_(Type::Int), int_(i) {}  // NOLINT(google-explicit-constructor)
  Value(unsigned i) : type_(Type::Int), int_(i) {}   // NOLINT(google-explicit-constructor)
  /// Unsigned values above INT64_MAX throw ember::ValueError.
  Value(unsigned long i);                                    // NOLINT(google-explicit-constructor)
  Value(unsigned long long i);                               // NOLINT(google-explicit-constructor)
  Value(double d) : type_(Type::Double), double_(d) {}       // NOLINT(google-explicit-constructor)
  Value(const char* s) : type_(Type::String), string_(s) {}  // NOLINT(google-explicit-constructor)
  Value(std::string s) : type_(Type::String), string_(std::move(s)) {}  // NOLINT
  Value(std::string_view s) : type_(Type::String), string_(s) {}        // NOLINT
  Value(Array a) : type_(Type::Array), array_(std::move(a)) {}          // NOLINT
  Value(Object o);  // NOLINT(google-explicit-constructor)

  Value(const Value& other);
  Value(Value&& other) noexcept;
  Value& operator=(const Value& other);
  Value& operator=(Value&& other) noexcept;
  ~Value();

  /// An empty array / object (`Value v = Value::object(); v["lr"] = 0.1;`).
  static Value array() { return Value(Array{}); }
  static Value object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_int() const { return type_ == Type::Int; }
  bool is_double() const { return type_ == Type::Double; }
  bool is_number() const { return type_ == Type::Int || type_ == Type::Double; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  bool as_bool() const;
  /// Int values, and Double values that hold an integer exactly representable in int64.
  int64_t as_int() const;
  /// Any number (Int converts to double).
  double as_double() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  /// Elements of an array or members of an object; 0 for scalars.
  size_t size() const;
  /// Object member; throws ember::ValueError naming the key when absent or not an object.
  const Value& operator[](std::string_view key) const;
  /// Object member, inserted as null when absent; a null value first becomes an empty object.
  Value& operator[](std::string_view key);
  /// Array element; throws ember::IndexError when out of range.
  const Value& operator[](size_t index) const;
  Value& operator[](size_t index);
  /// Object member or nullptr (also for non-objects).
  const Value* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  /// Appends to an array; a null value first becomes an empty array.
  Value& push_back(Value v);

  /// Deep equality; Int and Double compare by numeric value; objects compare in order.
  bool operator==(const Value& other) const;

  /// Serializes; see json::dump.
  std::string dump(int indent = -1) const;

 private:
  void type_error(const char* expected) const;

  Type type_ = Type::Null;
  bool bool_ = false;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  Array array_;
  std::unique_ptr<Object> object_;
};

/// A JSON object: members in insertion order with hashed lookup by key.
class Object {
 public:
  using Member = std::pair<std::string, Value>;
  using iterator = std::vector<Member>::iterator;
  using const_iterator = std::vector<Member>::const_iterator;

  Object() = default;
  Object(std::initializer_list<Member> members);

  size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }
  iterator begin() { return members_.begin(); }
  iterator end() { return members_.end(); }
  const_iterator begin() const { return members_.begin(); }
  const_iterator end() const { return members_.end(); }

  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  /// Sets key (keeping its position when present, appending otherwise) and returns the value.
  Value& set(std::string key, Value value);
  /// Appends key; returns false (and changes nothing) when key is already present.
  bool insert(std::string key, Value value);
  /// Removes key; returns whether it was present. O(size).
  bool erase(std::string_view key);
  /// Member or inserted null.
  Value& operator[](std::string_view key);

  bool operator==(const Object& other) const { return members_ == other.members_; }

 private:
  std::vector<Member> members_;
  std::unordered_map<std::string, size_t> index_;
};

/// Parser settings.
struct ParseOptions {
  /// Arrays and objects nested deeper than this are an error.
  int max_depth = 512;
  /// Accepts a repeated object key (the last one wins) instead of rejecting it.
  bool allow_duplicate_keys = false;
  /// Accepts NaN, Infinity and -Infinity (as Python's json module writes them).
  bool allow_nan = false;
  /// Prefixed to error messages, e.g. a file name.
  std::string source;
};

/// Parses one JSON text (RFC 8259: UTF-8, surrounding whitespace allowed, nothing else after the
/// value). Strings must be valid UTF-8 without raw control characters; \uXXXX escapes, including
/// surrogate pairs, decode to UTF-8. Errors throw ember::IOError:
/// "JSON parse error at line 3, column 14 (byte 52): expected ':' after object key".
Value parse(std::string_view text, const ParseOptions& options = {});

/// Writer settings.
struct DumpOptions {
  /// Negative: compact, one line, no spaces. Otherwise newline plus this many spaces per level.
  int indent = -1;
  /// Writes non-finite doubles as NaN / Infinity / -Infinity; otherwise they throw ValueError.
  bool allow_nan = false;
};

/// Serializes. Compact output matches serde_json / Python's json.dumps(separators=(",", ":"),
/// ensure_ascii=False): strings escape only '"', '\\' and control characters; doubles use the
/// shortest form that reads back exactly and always show a '.' or an exponent. Strings that are not
/// valid UTF-8 throw ember::ValueError.
std::string dump(const Value& value, const DumpOptions& options = {});
inline std::string Value::dump(int indent) const {
  return json::dump(*this, {indent, false});
}

/// Reads and parses a whole file (errors name the path).
Value parse_file(const std::string& path, ParseOptions options = {});
/// Writes value (plus a trailing newline) atomically; see io::write_file_atomic.
void write_file(const std::string& path, const Value& value, const DumpOptions& options = {2});

}  // namespace ember::json
