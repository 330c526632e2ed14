// JSON values and objects: construction, deep copies, typed access, equality.
#include <cmath>
#include <limits>

#include "ember/core/error.h"
#include "ember/io/json.h"

namespace ember::json {

const char* type_name(Type t) {
  switch (t) {
    case Type::Null:
      return "null";
    case Type::Bool:
      return "bool";
    case Type::Int:
      return "integer";
    case Type::Double:
      return "number";
    case Type::String:
      return "string";
    case Type::Array:
      return "array";
    case Type::Object:
      return "object";
  }
  return "?";
}

// ---- Value ----

namespace {
int64_t checked_unsigned(unsigned long long i) {
  EMBER_CHECK(i <= static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()),
              "json::Value: unsigned integer ", i, " does not fit in int64");
  return static_cast<int64_t>(i);
}
}  // namespace

Value::Value(unsigned long i) : type_(Type::Int), int_(checked_unsigned(i)) {}
Value::Value(unsigned long long i) : type_(Type::Int), int_(checked_unsigned(i)) {}
Value::Value(Object o) : type_(Type::Object), object_(std::make_unique<Object>(std::move(o))) {}

Value::Value(const Value& other)
    : type_(other.type_),
      bool_(other.bool_),
      int_(other.int_),
      double_(other.double_),
      string_(other.string_),
      array_(other.array_),
      object_(other.object_ ? std::make_unique<Object>(*other.object_) : nullptr) {}

Value::Value(Value&& other) noexcept
    : type_(other.type_),
      bool_(other.bool_),
      int_(other.int_),
      double_(other.double_),
      string_(std::move(other.string_)),
      array_(std::move(other.array_)),
      object_(std::move(other.object_)) {
  other.type_ = Type::Null;
}

Value& Value::operator=(const Value& other) {
  if (this != &other) *this = Value(other);
  return *this;
}

Value& Value::operator=(Value&& other) noexcept {
  if (this == &other) return *this;
  type_ = other.type_;
  bool_ = other.bool_;
  int_ = other.int_;
  double_ = other.double_;
  string_ = std::move(other.string_);
  array_ = std::move(other.array_);
  object_ = std::move(other.object_);
  other.type_ = Type::Null;
  return *this;
}

Value::~Value() = default;

Value Value::object() {
  return Value(Object{});
}

void Value::type_error(const char* expected) const {
  EMBER_THROW(ValueError, "JSON value is ", type_name(type_), ", expected ", expected);
}

bool Value::as_bool() const {
  if (type_ != Type::Bool) type_error("bool");
  return bool_;
}

int64_t Value::as_int() const {
  if (type_ == Type::Int) return int_;
  if (type_ != Type::Double) type_error("integer");
  // 2^63 is exactly representable; every double in [-2^63, 2^63) that is integral fits.
  constexpr double kLimit = 9223372036854775808.0;
  EMBER_CHECK(std::isfinite(double_) && std::trunc(double_) == double_ && double_ >= -kLimit &&
                  double_ < kLimit,
              "JSON number ", double_, " is not an integer that fits in int64");
  return static_cast<int64_t>(double_);
}

double Value::as_double() const {
  if (type_ == Type::Int) return static_cast<double>(int_);
  if (type_ != Type::Double) type_error("number");
  return double_;
}

const std::string& Value::as_string() const {
  if (type_ != Type::String) type_error("string");
  return string_;
}

const Array& Value::as_array() const {
  if (type_ != Type::Array) type_error("array");
  return array_;
}

Array& Value::as_array() {
  if (type_ != Type::Array) type_error("array");
  return array_;
}

const Object& Value::as_object() const {
  if (type_ != Type::Object) type_error("object");
  return *object_;
}

Object& Value::as_object() {
  if (type_ != Type::Object) type_error("object");
  return *object_;
}

size_t Value::size() const {
  if (type_ == Type::Array) return array_.size();
  if (type_ == Type::Object) return object_->size();
  return 0;
}

const Value& Value::operator[](std::string_view key) const {
  const Value* v = as_object().find(key);
  EMBER_CHECK(v != nullptr, "JSON object has no member \"", key, "\"");
  return *v;
}

Value& Value::operator[](std::string_view key) {
  if (type_ == Type::Null) *this = Value::object();
  return as_object()[key];
}

const Value& Value::operator[](size_t index) const {
  const Array& a = as_array();
  EMBER_CHECK_INDEX(index < a.size(), "JSON array index ", index, " out of range for size ",
                    a.size());
  return a[index];
}

Value& Value::operator[](size_t index) {
  Array& a = as_array();
  EMBER_CHECK_INDEX(index < a.size(), "JSON array index ", index, " out of range for size ",
                    a.size());
  return a[index];
}

const Value* Value::find(std::string_view key) const {
  return type_ == Type::Object ? object_->find(key) : nullptr;
}

Value& Value::push_back(Value v) {
  if (type_ == Type::Null) *this = Value::array();
  Array& a = as_array();
  a.push_back(std::move(v));
  return a.back();
}

bool Value::operator==(const Value& other) const {
  if (is_number() && other.is_number()) {
    if (type_ == Type::Int && other.type_ == Type::Int) return int_ == other.int_;
    if (type_ == Type::Double && other.type_ == Type::Double) return double_ == other.double_;
    const int64_t i = type_ == Type::Int ? int_ : other.int_;
    const double d = type_ == Type::Double ? double_ : other.double_;
    constexpr double kLimit = 9223372036854775808.0;
    return std::trunc(d) == d && d >= -kLimit && d < kLimit && static_cast<int64_t>(d) == i;
  }
  if (type_ != other.type_) return false;
  switch (type_) {
    case Type::Null:
      return true;
    case Type::Bool:
      return bool_ == other.bool_;
    case Type::String:
      return string_ == other.string_;
    case Type::Array:
      return array_ == other.array_;
    case Type::Object:
      return *object_ == *other.object_;
    default:
      return false;
  }
}

// ---- Object ----

// Small objects are searched linearly; from kLinearLimit members on, a hash index is kept.
namespace {
constexpr size_t kLinearLimit = 8;
}

Object::Object(std::initializer_list<Member> members) {
  for (const Member& m : members) set(m.first, m.second);
}

const Value* Object::find(std::string_view key) const {
  if (index_.empty()) {
    for (const Member& m : members_)
      if (m.first == key) return &m.second;
    return nullptr;
  }
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &members_[it->second].second;
}

Value* Object::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Object*>(this)->find(key));
}

bool Object::insert(std::string key, Value value) {
  if (find(key) != nullptr) return false;
  members_.emplace_back(std::move(key), std::move(value));
  if (members_.size() > kLinearLimit) {
    if (index_.empty()) {
      for (size_t i = 0; i < members_.size(); ++i) index_.emplace(members_[i].first, i);
    } else {
      index_.emplace(members_.back().first, members_.size() - 1);
    }
  }
  return true;
}

Value& Object::set(std::string key, Value value) {
  if (Value* v = find(key)) {
    *v = std::move(value);
    return *v;
  }
  insert(std::move(key), std::move(value));
  return members_.back().second;
}

bool Object::erase(std::string_view key) {
  for (size_t i = 0; i < members_.size(); ++i) {
    if (members_[i].first != key) continue;
    members_.erase(members_.begin() + static_cast<std::ptrdiff_t>(i));
    index_.clear();
    if (members_.size() > kLinearLimit)
      for (size_t j = 0; j < members_.size(); ++j) index_.emplace(members_[j].first, j);
    return true;
  }
  return false;
}

Value& Object::operator[](std::string_view key) {
  if (Value* v = find(key)) return *v;
  return set(std::string(key), Value());
}

}  // namespace ember::json
