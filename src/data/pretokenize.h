// Internal: UTF-8 decoding and GPT-2's pre-tokenizer as a scanner over code points (no regex).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "core/utf8.h"

namespace ember::data::detail {

/// One decoded character: its code point and byte length. An invalid byte (not the start of a
/// well-formed UTF-8 sequence: stray continuation, overlong form, surrogate, above U+10FFFF,
/// truncated) decodes as itself with len 1 and valid false.
struct Utf8Char {
  char32_t cp;
  int len;
  bool valid;
};

/// Decodes the character starting at s[0] (n >= 1 bytes available).
inline Utf8Char decode_utf8(const unsigned char* s, size_t n) {
  const unsigned c = s[0];
  if (c < 0x80) return {c, 1, true};
  int len;
  char32_t cp, min;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2, cp = c & 0x1F, min = 0x80;
  else if (c >= 0xE0 && c <= 0xEF)
    len = 3, cp = c & 0x0F, min = 0x800;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4, cp = c & 0x07, min = 0x10000;
  else
    return {c, 1, false};
  if (n < static_cast<size_t>(len)) return {c, 1, false};
  for (int k = 1; k < len; ++k) {
    if ((s[k] & 0xC0) != 0x80) return {c, 1, false};
    cp = (cp << 6) | (s[k] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {c, 1, false};
  return {cp, len, true};
}

enum class CharClass : uint8_t { Letter, Number, Space, Other };

/// Class of a non-ASCII code point (ICU); see pretoken_class.
CharClass unicode_class(char32_t cp);

/// Whether the system ICU's Unicode version assigns cp (tests compare with node's newer ICU).
bool is_assigned(char32_t cp);

constexpr CharClass ascii_class(int c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return CharClass::Letter;
  if (c >= '0' && c <= '9') return CharClass::Number;
  if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return CharClass::Space;
  return CharClass::Other;
}

template <int... I>
constexpr std::array<CharClass, sizeof...(I)> make_ascii_table(std::integer_sequence<int, I...>) {
  return {ascii_class(I)...};
}

/// Class of each ASCII byte.
inline constexpr auto kAsciiClass = make_ascii_table(std::make_integer_sequence<int, 128>{});

/// The class of the character at s (an invalid byte is Other) and its byte length.
inline CharClass class_at(const unsigned char* s, size_t n, int* len) {
  if (s[0] < 0x80) {
    *len = 1;
    return kAsciiClass[s[0]];
  }
  const Utf8Char ch = decode_utf8(s, n);
  *len = ch.len;
  return ch.valid ? unicode_class(ch.cp) : CharClass::Other;
}

/// Calls fn(std::string_view piece) for each match of GPT-2's pre-tokenizer regex, in order:
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
template <class Fn>
void scan_pretokens(std::string_view text, Fn&& fn) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t p = 0;
  int len = 0;
  // End of the run of class cls starting at byte q.
  auto run_end = [&](size_t q, CharClass cls) {
    while (q < n && class_at(s + q, n - q, &len) == cls) q += static_cast<size_t>(len);
    return q;
  };
  while (p < n) {
    const size_t start = p;
    if (s[p] == '\'' && p + 1 < n) {  // contractions (lower case only, as the regex)
      const unsigned char c1 = s[p + 1];
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        p += 2;
        fn(text.substr(start, 2));
        continue;
      }
      if (p + 2 < n && ((c1 == 'r' && s[p + 2] == 'e') || (c1 == 'v' && s[p + 2] == 'e') ||
                        (c1 == 'l' && s[p + 2] == 'l'))) {
        p += 3;
        fn(text.substr(start, 3));
        continue;
      }
    }
    CharClass cls = class_at(s + p, n - p, &len);
    size_t q = p + static_cast<size_t>(len);
    if (s[p] == ' ' && q < n) {  // " ?" before a letter, number or other run
      const CharClass next = class_at(s + q, n - q, &len);
      if (next != CharClass::Space) {
        p = run_end(q, next);
        fn(text.substr(start, p - start));
        continue;
      }
    }
    if (cls != CharClass::Space) {
      p = run_end(q, cls);
      fn(text.substr(start, p - start));
      continue;
    }
    // Whitespace: \s+(?!\S) keeps the last space for the next piece when a non-space follows;
    // a single space before a non-space falls to \s+.
    size_t last = p;
    while (q < n) {
      const CharClass c = class_at(s + q, n - q, &len);
      if (c != CharClass::Space) break;
      last = q;
      q += static_cast<size_t>(len);
    }
    p = (q < n && last > start) ? last : q;
    fn(text.substr(start, p - start));
  }
}

}  // namespace ember::data::detail
