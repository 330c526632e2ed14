// JSON parser (strict RFC 8259, bounded depth, line:column errors) and writer.
#include "ember/io/json.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/utf8.h"
#include "ember/core/error.h"
#include "ember/io/file.h"

namespace ember::json {

namespace {

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : s_(text), opt_(options) {}

  Value parse_document() {
    skip_ws();
    Value v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) fail(pos_, "unexpected ", describe(pos_), " after the JSON value");
    return v;
  }

 private:
  template <class... Args>
  [[noreturn]] void fail(size_t at, const Args&... what) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < at && i < s_.size(); ++i) {
      const auto c = static_cast<uint8_t>(s_[i]);
      if (c == '\n') {
        ++line;
        column = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++column;  // count code points, not continuation bytes
      }
    }
    EMBER_THROW(IOError, opt_.source.empty() ? "" : opt_.source + ": ", "JSON parse error at line ",
                line, ", column ", column, " (byte ", at, "): ", what...);
  }

  std::string describe(size_t at) const {
    if (at >= s_.size()) return "end of input";
    const auto c = static_cast<uint8_t>(s_[at]);
    if (c >= 0x21 && c < 0x7F) return std::string("character '") + static_cast<char>(c) + "'";
    static const char* hex = "0123456789ABCDEF";
    return std::string("byte 0x") + hex[c >> 4] + hex[c & 15];
  }

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }

  void skip_ws() {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  void expect_literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) fail(pos_, "invalid literal, expected a value");
    pos_ += lit.size();
  }

  Value parse_value(int depth) {
    if (at_end()) fail(pos_, "unexpected end of input, expected a value");
    switch (s_[pos_]) {
      case '{':
        return parse_object(depth);
      case '[':
        return parse_array(depth);
      case '"':
        return Value(parse_string());
      case 't':
        expect_literal("true");
        return Value(true);
      case 'f':
        expect_literal("false");
        return Value(false);
      case 'n':
        expect_literal("null");
        return Value();
      case 'N':
        if (!opt_.allow_nan) break;
        expect_literal("NaN");
        return Value(std::numeric_limits<double>::quiet_NaN());
      case 'I':
        if (!opt_.allow_nan) break;
        expect_literal("Infinity");
        return Value(std::numeric_limits<double>::infinity());
      default:
        if (s_[pos_] == '-' || (s_[pos_] >= '0' && s_[pos_] <= '9')) return parse_number();
    }
    fail(pos_, "unexpected ", describe(pos_), ", expected a value");
  }

  void enter(int depth) const {
    if (depth >= opt_.max_depth)
      fail(pos_, "arrays and objects nested deeper than ", opt_.max_depth, " levels");
  }

  Value parse_object(int depth) {
    enter(depth);
    ++pos_;  // '{'
    Object obj;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return Value(std::move(obj));
    }
    while (true) {
      skip_ws();
      if (peek() != '"') fail(pos_, "unexpected ", describe(pos_), ", expected a string key");
      const size_t key_pos = pos_;
      std::string key = parse_string();
      skip_ws();
      if (peek() != ':') fail(pos_, "unexpected ", describe(pos_), ", expected ':'");
      ++pos_;
      skip_ws();
      Value v = parse_value(depth + 1);
      if (opt_.allow_duplicate_keys) {
        obj.set(std::move(key), std::move(v));
      } else if (Value* old = obj.find(key); old != nullptr) {
        fail(key_pos, "duplicate key \"", key, "\"");
      } else {
        obj.insert(std::move(key), std::move(v));
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return Value(std::move(obj));
      }
      fail(pos_, "unexpected ", describe(pos_), ", expected ',' or '}'");
    }
  }

  Value parse_array(int depth) {
    enter(depth);
    ++pos_;  // '['
    Array arr;
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return Value(std::move(arr));
    }
    while (true) {
      skip_ws();
      arr.push_back(parse_value(depth + 1));
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return Value(std::move(arr));
      }
      fail(pos_, "unexpected ", describe(pos_), ", expected ',' or ']'");
    }
  }

  uint32_t parse_hex4(size_t at) {
    if (s_.size() - at < 4) fail(at, "truncated \\u escape");
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = s_[at + k];
      uint32_t d = 0;
      if (c >= '0' && c <= '9')
        d = static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = static_cast<uint32_t>(c - 'A' + 10);
      else
        fail(at + k, "invalid hex digit in \\u escape");
      v = v * 16 + d;
    }
    return v;
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail(pos_, "unterminated string");
      const auto c = static_cast<uint8_t>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) {
        static const char* hex = "0123456789ABCDEF";
        fail(pos_, "control character U+00", hex[c >> 4], hex[c & 15],
             " in string (must be escaped)");
      }
      if (c == '\\') {
        parse_escape(out);
        continue;
      }
      const size_t n = detail::utf8_sequence_length(s_, pos_);
      if (n == 0) fail(pos_, "invalid UTF-8 in string");
      out.append(s_.data() + pos_, n);
      pos_ += n;
    }
  }

  void parse_escape(std::string& out) {
    const size_t start = pos_;
    if (s_.size() - pos_ < 2) fail(pos_, "unterminated string");
    const char e = s_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '"':
        out += '"';
        return;
      case '\\':
        out += '\\';
        return;
      case '/':
        out += '/';
        return;
      case 'b':
        out += '\b';
        return;
      case 'f':
        out += '\f';
        return;
      case 'n':
        out += '\n';
        return;
      case 'r':
        out += '\r';
        return;
      case 't':
        out += '\t';
        return;
      case 'u':
        break;
      default:
        fail(start, "invalid escape sequence in string");
    }
    uint32_t cp = parse_hex4(pos_);
    pos_ += 4;
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail(start, "unpaired low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (s_.size() - pos_ < 2 || s_[pos_] != '\\' || s_[pos_ + 1] != 'u')
        fail(start, "high surrogate not followed by a low surrogate \\u escape");
      const uint32_t lo = parse_hex4(pos_ + 2);
      if (lo < 0xDC00 || lo > 0xDFFF)
        fail(start, "high surrogate not followed by a low surrogate \\u escape");
      pos_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    ember::detail::append_utf8(out, static_cast<char32_t>(cp));
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  Value parse_number() {
    const size_t start = pos_;
    const bool negative = peek() == '-';
    if (negative) ++pos_;
    if (negative && opt_.allow_nan && s_.substr(pos_, 8) == "Infinity") {
      pos_ += 8;
      return Value(-std::numeric_limits<double>::infinity());
    }
    // Decimal magnitude estimate, used only to tell overflow from underflow.
    int64_t magnitude = 0;
    if (peek() == '0') {
      ++pos_;
      if (is_digit(peek())) fail(start, "invalid number (leading zero)");
    } else if (is_digit(peek())) {
      while (is_digit(peek())) {
        ++pos_;
        ++magnitude;
      }
    } else {
      fail(start, "invalid number");
    }
    bool integral = true;
    if (peek() == '.') {
      integral = false;
      ++pos_;
      if (!is_digit(peek())) fail(pos_, "invalid number (expected a digit after '.')");
      bool leading = magnitude == 0;
      while (is_digit(peek())) {
        if (leading && peek() == '0')
          --magnitude;
        else
          leading = false;
        ++pos_;
      }
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      ++pos_;
      bool neg_exp = false;
      if (peek() == '+' || peek() == '-') neg_exp = s_[pos_++] == '-';
      if (!is_digit(peek())) fail(pos_, "invalid number (expected a digit in the exponent)");
      int64_t exp = 0;
      while (is_digit(peek())) {
        if (exp < 1000000) exp = exp * 10 + (s_[pos_] - '0');
        ++pos_;
      }
      magnitude += neg_exp ? -exp : exp;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    if (integral) {
      int64_t i = 0;
      auto r = std::from_chars(first, last, i);
      if (r.ec == std::errc() && r.ptr == last) return Value(i);
    }
    double d = 0;
    auto r = std::from_chars(first, last, d);
    if (r.ec == std::errc::result_out_of_range) {
      if (magnitude > 0) fail(start, "number out of range for a double");
      d = negative ? -0.0 : 0.0;  // underflow
    } else if (r.ec != std::errc() || r.ptr != last) {
      fail(start, "invalid number");
    }
    return Value(d);
  }

  std::string_view s_;
  const ParseOptions& opt_;
  size_t pos_ = 0;
};

// ---- writer ----

class Writer {
 public:
  explicit Writer(const DumpOptions& options) : opt_(options) {}

  void value(const Value& v, int level) {
    switch (v.type()) {
      case Type::Null:
        out_ += "null";
        return;
      case Type::Bool:
        out_ += v.as_bool() ? "true" : "false";
        return;
      case Type::Int:
        integer(v.as_int());
        return;
      case Type::Double:
        number(v.as_double());
        return;
      case Type::String:
        string(v.as_string());
        return;
      case Type::Array:
        array(v.as_array(), level);
        return;
      case Type::Object:
        object(v.as_object(), level);
        return;
    }
  }

  std::string take() { return std::move(out_); }

 private:
  void integer(int64_t i) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), i);
    out_.append(buf, r.ptr);
  }

  void number(double d) {
    if (!std::isfinite(d)) {
      EMBER_CHECK(opt_.allow_nan, "json::dump: cannot write the non-finite number ", d,
                  " (set DumpOptions::allow_nan to write NaN/Infinity)");
      out_ += std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity");
      return;
    }
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), d);
    std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
    out_ += s;
    if (s.find_first_of(".eE") == std::string_view::npos) out_ += ".0";
  }

  void string(std::string_view s) {
    static const char* hex = "0123456789abcdef";
    out_ += '"';
    for (size_t i = 0; i < s.size();) {
      const auto c = static_cast<uint8_t>(s[i]);
      if (c >= 0x80) {
        const size_t n = detail::utf8_sequence_length(s, i);
        EMBER_CHECK(n != 0, "json::dump: string is not valid UTF-8 at byte ", i);
        out_.append(s.data() + i, n);
        i += n;
        continue;
      }
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (c < 0x20) {
            out_ += "\\u00";
            out_ += hex[c >> 4];
            out_ += hex[c & 15];
          } else {
            out_ += static_cast<char>(c);
          }
      }
      ++i;
    }
    out_ += '"';
  }

  void newline(int level) {
    if (opt_.indent < 0) return;
    out_ += '\n';
    out_.append(static_cast<size_t>(level) * static_cast<size_t>(opt_.indent), ' ');
  }

  void array(const Array& a, int level) {
    out_ += '[';
    for (size_t i = 0; i < a.size(); ++i) {
      if (i) out_ += ',';
      newline(level + 1);
      value(a[i], level + 1);
    }
    if (!a.empty()) newline(level);
    out_ += ']';
  }

  void object(const Object& o, int level) {
    out_ += '{';
    bool first = true;
    for (const auto& [key, v] : o) {
      if (!first) out_ += ',';
      first = false;
      newline(level + 1);
      string(key);
      out_ += opt_.indent < 0 ? ":" : ": ";
      value(v, level + 1);
    }
    if (!o.empty()) newline(level);
    out_ += '}';
  }

  const DumpOptions& opt_;
  std::string out_;
};

}  // namespace

Value parse(std::string_view text, const ParseOptions& options) {
  return Parser(text, options).parse_document();
}

std::string dump(const Value& value, const DumpOptions& options) {
  Writer w(options);
  w.value(value, 0);
  return w.take();
}

Value parse_file(const std::string& path, ParseOptions options) {
  const std::string text = io::read_file(path);
  if (options.source.empty()) options.source = path;
  return parse(text, options);
}

void write_file(const std::string& path, const Value& value, const DumpOptions& options) {
  io::write_file_atomic(path, dump(value, options) + "\n");
}

}  // namespace ember::json
