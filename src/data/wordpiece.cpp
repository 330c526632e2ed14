// WordPiece (BertTokenizer): basic tokenization over code points, then greedy "##" pieces.
#include "ember/data/wordpiece.h"

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <utility>

#include "core/utf8.h"
#include "ember/core/error.h"
#include "ember/io/file.h"

namespace ember::data {

namespace {

constexpr size_t kMaxWordChars =
    100;  // longer words become [UNK], as HF's max_input_chars_per_word
const char* const kSpecial[] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"};

bool in(char32_t c, std::initializer_list<std::pair<char32_t, char32_t>> ranges) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [c](const auto& r) { return c >= r.first && c <= r.second; });
}

bool is_whitespace(char32_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
         in(c, {{0xA0, 0xA0},
                {0x1680, 0x1680},
                {0x2000, 0x200A},
                {0x202F, 0x202F},
                {0x205F, 0x205F},
                {0x3000, 0x3000}});
}

// Unicode category C* (controls, formats, private use), less the whitespace controls.
bool is_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return in(c, {{0x00, 0x1F},
                {0x7F, 0x9F},
                {0xAD, 0xAD},
                {0x600, 0x605},
                {0x61C, 0x61C},
                {0x6DD, 0x6DD},
                {0x70F, 0x70F},
                {0x180E, 0x180E},
                {0x200B, 0x200F},
                {0x202A, 0x202E},
                {0x2060, 0x2064},
                {0x2066, 0x206F},
                {0xE000, 0xF8FF},
                {0xFEFF, 0xFEFF},
                {0xFFF9, 0xFFFB}});
}

// ASCII's non-alphanumeric printables (as HF) and Unicode category P* of the common blocks.
bool is_punctuation(char32_t c) {
  return in(
      c, {{33, 47},         {58, 64},         {91, 96},         {123, 126},       {0xA1, 0xA1},
          {0xA7, 0xA7},     {0xAB, 0xAB},     {0xB6, 0xB7},     {0xBB, 0xBB},     {0xBF, 0xBF},
          {0x37E, 0x37E},   {0x387, 0x387},   {0x55A, 0x55F},   {0x589, 0x58A},   {0x5BE, 0x5BE},
          {0x5C0, 0x5C0},   {0x5C3, 0x5C3},   {0x5C6, 0x5C6},   {0x5F3, 0x5F4},   {0x609, 0x60A},
          {0x60C, 0x60D},   {0x61B, 0x61B},   {0x61E, 0x61F},   {0x66A, 0x66D},   {0x6D4, 0x6D4},
          {0x964, 0x965},   {0x970, 0x970},   {0xE4F, 0xE4F},   {0xE5A, 0xE5B},   {0x2010, 0x2027},
          {0x2030, 0x2043}, {0x2045, 0x2051}, {0x2053, 0x205E}, {0x207D, 0x207E}, {0x208D, 0x208E},
          {0x2308, 0x230B}, {0x2329, 0x232A}, {0x2768, 0x2775}, {0x27C5, 0x27C6}, {0x27E6, 0x27EF},
          {0x2983, 0x2998}, {0x29D8, 0x29DB}, {0x29FC, 0x29FD}, {0x2E00, 0x2E4F}, {0x3001, 0x3003},
          {0x3008, 0x3011}, {0x3014, 0x301F}, {0x3030, 0x3030}, {0x303D, 0x303D}, {0x30A0, 0x30A0},
          {0x30FB, 0x30FB}, {0xFE10, 0xFE19}, {0xFE30, 0xFE52}, {0xFE54, 0xFE61}, {0xFE63, 0xFE63},
          {0xFE68, 0xFE68}, {0xFE6A, 0xFE6B}, {0xFF01, 0xFF03}, {0xFF05, 0xFF0A}, {0xFF0C, 0xFF0F},
          {0xFF1A, 0xFF1B}, {0xFF1F, 0xFF20}, {0xFF3B, 0xFF3D}, {0xFF3F, 0xFF3F}, {0xFF5B, 0xFF5B},
          {0xFF5D, 0xFF5D}, {0xFF5F, 0xFF65}});
}

// HF's _is_chinese_char: the CJK Unified Ideographs blocks.
bool is_cjk(char32_t c) {
  return in(c, {{0x4E00, 0x9FFF},
                {0x3400, 0x4DBF},
                {0x20000, 0x2A6DF},
                {0x2A700, 0x2B73F},
                {0x2B740, 0x2B81F},
                {0x2B820, 0x2CEAF},
                {0xF900, 0xFAFF},
                {0x2F800, 0x2FA1F}});
}

// Combining marks (category Mn) of the common blocks: dropped by accent stripping.
bool is_mark(char32_t c) {
  return in(c, {{0x300, 0x36F},
                {0x483, 0x489},
                {0x591, 0x5BD},
                {0x610, 0x61A},
                {0x64B, 0x65F},
                {0x1AB0, 0x1AFF},
                {0x1DC0, 0x1DFF},
                {0x20D0, 0x20FF},
                {0xFE20, 0xFE2F}});
}

char32_t to_lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE) return c == 0xD7 ? c : c + 0x20;
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c % 2 == 0 ? c + 1 : c;
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return c % 2 == 1 ? c + 1 : c;
  if (c == 0x130) return 'i';
  if (c == 0x178) return 0xFF;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 0x25;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 0x3F;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 0x20;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  return c;
}

// The base letter of a lower-case precomposed letter (NFD's first code point), else c.
char32_t strip_accent(char32_t c) {
  static const char kLatin1[] = "aaaaaa.ceeeeiiii.nooooo..uuuuy.y";  // U+00E0..U+00FF
  static const char kExtA[] =                                        // U+0100..U+017F, 16 a row
      "aaaaaaccccccccdd"
      "..eeeeeeeeeegggg"
      "gggghh..iiiiiiii"
      "i...jjkk.llllll."
      "...nnnnnn...oooo"
      "oo..rrrrrrssssss"
      "sstttt..uuuuuuuu"
      "uuuuwwyyyzzzzzz.";
  static_assert(sizeof(kLatin1) == 33 && sizeof(kExtA) == 129);
  if (c >= 0xE0 && c <= 0xFF && kLatin1[c - 0xE0] != '.') return kLatin1[c - 0xE0];
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return strip_accent(c + 0x20);
  if (c >= 0x100 && c <= 0x17F && kExtA[c - 0x100] != '.') return kExtA[c - 0x100];
  switch (c) {
    case 0x3AC:
      return 0x3B1;  // Greek with tonos / dialytika
    case 0x3AD:
      return 0x3B5;
    case 0x3AE:
      return 0x3B7;
    case 0x3AF:
    case 0x3CA:
    case 0x390:
      return 0x3B9;
    case 0x3CC:
      return 0x3BF;
    case 0x3CD:
    case 0x3CB:
    case 0x3B0:
      return 0x3C5;
    case 0x3CE:
      return 0x3C9;
    case 0x450:
    case 0x451:
      return 0x435;  // Cyrillic with breve / diaeresis / grave / acute
    case 0x439:
    case 0x45D:
      return 0x438;
    case 0x453:
      return 0x433;
    case 0x457:
      return 0x456;
    case 0x45C:
      return 0x43A;
    case 0x45E:
      return 0x443;
    default:
      return c;
  }
}

// text's code points; invalid UTF-8 bytes become U+FFFD (dropped by cleaning, as HF drops it).
std::u32string code_points(std::string_view text) {
  std::u32string out;
  for (size_t i = 0; i < text.size();) {
    const size_t n = detail::utf8_sequence_length(text, i);
    if (n == 0) {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<uint8_t>(text[i + k])); };
    char32_t c = n == 1 ? b(0) : n == 2 ? b(0) & 0x1F : n == 3 ? b(0) & 0x0F : b(0) & 0x07;
    for (size_t k = 1; k < n; ++k) c = (c << 6) | (b(k) & 0x3F);
    out += c;
    i += n;
  }
  return out;
}

std::string utf8(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) detail::append_utf8(out, c);
  return out;
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, bool do_lower_case)
    : vocab_(std::move(vocab)), lower_(do_lower_case) {
  // A repeated token maps to its last line, as in HF's load_vocab.
  for (size_t i = 0; i < vocab_.size(); ++i) ids_[vocab_[i]] = static_cast<int64_t>(i);
  cls_ = token_id("[CLS]");
  sep_ = token_id("[SEP]");
  pad_ = token_id("[PAD]");
  unk_ = token_id("[UNK]");
  EMBER_CHECK_T(ValueError, unk_ >= 0, "WordPieceTokenizer: the vocabulary (", vocab_.size(),
                " tokens) has no [UNK] token");
}

WordPieceTokenizer WordPieceTokenizer::from_file(const std::string& vocab_txt, bool do_lower_case) {
  const std::string text = io::read_file(vocab_txt);
  std::vector<std::string> vocab;
  size_t line = 1;
  for (size_t start = 0; start < text.size(); ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string token = text.substr(start, end - start);
    if (!token.empty() && token.back() == '\r') token.pop_back();
    for (size_t i = 0; i < token.size();) {
      const size_t n = detail::utf8_sequence_length(token, i);
      EMBER_CHECK_IO(n != 0, vocab_txt, ": line ", line, " is not valid UTF-8 (byte ", i + 1, ")");
      i += n;
    }
    vocab.push_back(std::move(token));
    start = end + 1;
  }
  EMBER_CHECK_IO(!vocab.empty(), vocab_txt, ": empty vocabulary");
  try {
    return WordPieceTokenizer(std::move(vocab), do_lower_case);
  } catch (const ValueError& e) {
    EMBER_THROW(IOError, vocab_txt, ": ", e.what());
  }
}

int64_t WordPieceTokenizer::token_id(std::string_view token) const {
  const auto it = ids_.find(std::string(token));
  return it == ids_.end() ? -1 : it->second;
}

// HF's BasicTokenizer on text without special tokens.
std::vector<std::string> WordPieceTokenizer::basic_tokens(std::string_view text) const {
  // Clean, space out CJK characters, lower-case and strip accents, split off punctuation.
  std::u32string s;
  for (char32_t c : code_points(text)) {
    if (c == 0 || c == 0xFFFD || is_control(c)) continue;
    if (is_whitespace(c)) c = ' ';
    if (lower_) {
      c = strip_accent(to_lower(c));
      if (is_mark(c)) continue;
    }
    if (is_cjk(c) || is_punctuation(c)) {
      s += U' ';
      s += c;
      s += U' ';
    } else {
      s += c;
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    while (i < s.size() && s[i] == U' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != U' ') ++j;
    if (j > i) out.push_back(utf8(std::u32string_view(s).substr(i, j - i)));
    i = j;
  }
  return out;
}

// Greedy longest-match-first pieces of one word; the whole word is [UNK] when a part has none.
void WordPieceTokenizer::word_pieces(const std::string& word, std::vector<std::string>& out) const {
  const std::u32string w = code_points(word);
  if (w.size() > kMaxWordChars) {
    out.push_back(vocab_[static_cast<size_t>(unk_)]);
    return;
  }
  std::vector<std::string> pieces;
  for (size_t start = 0; start < w.size();) {
    size_t end = w.size();
    std::string found;
    for (; end > start; --end) {
      std::string piece =
          (start > 0 ? "##" : "") + utf8(std::u32string_view(w).substr(start, end - start));
      if (ids_.count(piece)) {
        found = std::move(piece);
        break;
      }
    }
    if (found.empty()) {
      out.push_back(vocab_[static_cast<size_t>(unk_)]);
      return;
    }
    pieces.push_back(std::move(found));
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  // Special tokens present in the vocabulary are matched first and never split.
  while (!text.empty()) {
    size_t at = std::string_view::npos, len = 0;
    for (const char* sp : kSpecial) {
      if (token_id(sp) < 0) continue;
      const size_t p = text.find(sp);
      if (p < at) at = p, len = std::char_traits<char>::length(sp);
    }
    for (const std::string& word : basic_tokens(text.substr(0, at))) word_pieces(word, out);
    if (at == std::string_view::npos) break;
    out.emplace_back(text.substr(at, len));
    text.remove_prefix(at + len);
  }
  return out;
}

std::vector<int64_t> WordPieceTokenizer::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  for (const std::string& t : tokenize(text)) ids.push_back(token_id(t));
  return ids;
}

WordPieceTokenizer::Encoding WordPieceTokenizer::encode_for_model(std::string_view a,
                                                                  std::string_view b,
                                                                  int64_t max_length) const {
  EMBER_CHECK_T(ValueError, cls_ >= 0 && sep_ >= 0,
                "WordPieceTokenizer::encode_for_model: the vocabulary has no [CLS] or [SEP]");
  std::vector<int64_t> x = encode(a), y = b.empty() ? std::vector<int64_t>() : encode(b);
  const int64_t specials = b.empty() ? 2 : 3;
  if (max_length > 0) {
    EMBER_CHECK_T(ValueError, max_length >= specials,
                  "WordPieceTokenizer::encode_for_model: ", "max_length = ", max_length,
                  " leaves no room for the ", specials, " special tokens");
    while (static_cast<int64_t>(x.size() + y.size()) + specials > max_length)
      (x.size() > y.size() ? x : y).pop_back();  // "longest_first"
  }
  Encoding e;
  e.input_ids.push_back(cls_);
  e.input_ids.insert(e.input_ids.end(), x.begin(), x.end());
  e.input_ids.push_back(sep_);
  e.token_type_ids.assign(e.input_ids.size(), 0);
  if (!b.empty()) {
    e.input_ids.insert(e.input_ids.end(), y.begin(), y.end());
    e.input_ids.push_back(sep_);
    e.token_type_ids.resize(e.input_ids.size(), 1);
  }
  return e;
}

std::string WordPieceTokenizer::decode(std::span<const int64_t> ids) const {
  std::string out;
  for (const int64_t id : ids) {
    EMBER_CHECK_T(IndexError, id >= 0 && id < vocab_size(), "WordPieceTokenizer::decode: id ", id,
                  " is not in [0, vocab_size = ", vocab_size(), ")");
    const std::string& t = vocab_[static_cast<size_t>(id)];
    if (t.starts_with("##") && !out.empty())
      out += t.substr(2);
    else
      out += (out.empty() ? "" : " ") + t;
  }
  return out;
}

void WordPieceTokenizer::save(const std::string& dir) const {
  std::filesystem::create_directories(dir);
  std::string text;
  for (const std::string& t : vocab_) text += t + "\n";
  io::write_file_atomic((std::filesystem::path(dir) / "vocab.txt").string(), text);
}

}  // namespace ember::data
