// GPT-2's pre-tokenizer: character classes from ICU and the public wrappers of the scanner.
#include "data/pretokenize.h"

#include <unicode/uchar.h>

#include "ember/data/tokenizer.h"

namespace ember::data {
namespace detail {

// JavaScript's \s is WhiteSpace (TAB, VT, FF, U+FEFF, every Zs) plus LineTerminator (LF, CR,
// U+2028, U+2029): Unicode's White_Space without U+0085 (NEL, a control), plus U+FEFF.
CharClass unicode_class(char32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  if (cp == 0xFEFF || (cp != 0x85 && u_hasBinaryProperty(c, UCHAR_WHITE_SPACE)))
    return CharClass::Space;
  switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      return CharClass::Letter;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return CharClass::Number;
    default:
      return CharClass::Other;
  }
}

bool is_assigned(char32_t cp) {
  return u_charType(static_cast<UChar32>(cp)) != U_UNASSIGNED;
}

}  // namespace detail

std::vector<std::string_view> pretokenize(std::string_view text) {
  std::vector<std::string_view> out;
  detail::scan_pretokens(text, [&](std::string_view piece) { out.push_back(piece); });
  return out;
}

void for_each_pretoken(std::string_view text, const std::function<void(std::string_view)>& fn) {
  detail::scan_pretokens(text, fn);
}

char pretoken_class(char32_t cp) {
  const detail::CharClass c = cp < 0x80 ? detail::kAsciiClass[cp] : detail::unicode_class(cp);
  return "LNso"[static_cast<int>(c)];
}

}  // namespace ember::data
