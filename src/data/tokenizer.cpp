// Character-level tokenizer and load_tokenizer (which picks the kind from the files in a folder).
#include "ember/data/tokenizer.h"

#include <algorithm>
#include <filesystem>

#include "data/pretokenize.h"
#include "ember/core/error.h"
#include "ember/data/wordpiece.h"
#include "ember/io/json.h"

namespace ember::data {

namespace {

std::string hex_cp(char32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  return buf;
}

// Calls fn(code point, byte offset) for each character; invalid UTF-8 throws naming the offset.
template <class Fn>
void for_each_char(std::string_view text, const char* what, Fn&& fn) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    const detail::Utf8Char ch = detail::decode_utf8(s + i, text.size() - i);
    EMBER_CHECK(ch.valid, what, ": the text is not valid UTF-8 at byte offset ", i, " (byte 0x",
                std::hex, static_cast<unsigned>(s[i]), ")");
    fn(ch.cp, i);
    i += static_cast<size_t>(ch.len);
  }
}

}  // namespace

CharTokenizer::CharTokenizer(std::vector<char32_t> chars) : chars_(std::move(chars)) {
  for (size_t i = 0; i < chars_.size(); ++i) {
    const char32_t c = chars_[i];
    EMBER_CHECK(c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF), "CharTokenizer: id ", i, " is ",
                hex_cp(c), ", not a Unicode scalar value");
    const bool fresh = ids_.emplace(c, static_cast<int64_t>(i)).second;
    EMBER_CHECK(fresh, "CharTokenizer: character ", hex_cp(c), " appears twice (id ", ids_[c],
                " and ", i, ")");
  }
}

CharTokenizer CharTokenizer::build(std::string_view corpus) {
  std::vector<char> seen(0x110000, 0);
  for_each_char(corpus, "CharTokenizer::build", [&](char32_t c, size_t) { seen[c] = 1; });
  std::vector<char32_t> chars;
  for (char32_t c = 0; c < 0x110000; ++c)
    if (seen[c]) chars.push_back(c);
  EMBER_CHECK(!chars.empty(), "CharTokenizer::build: the corpus is empty");
  return CharTokenizer(std::move(chars));
}

std::vector<int64_t> CharTokenizer::encode(std::string_view text) const {
  std::vector<int64_t> out;
  out.reserve(text.size());
  for_each_char(text, "CharTokenizer::encode", [&](char32_t c, size_t offset) {
    const auto it = ids_.find(c);
    if (it == ids_.end()) {
      std::string ch;
      ember::detail::append_utf8(ch, c);
      EMBER_THROW(ValueError, "CharTokenizer::encode: character '", ch, "' (", hex_cp(c),
                  ") at byte offset ", offset, " is not in the vocabulary of ", chars_.size(),
                  " characters");
    }
    out.push_back(it->second);
  });
  return out;
}

std::string CharTokenizer::decode(std::span<const int64_t> ids) const {
  std::string out;
  const int64_t n = vocab_size();
  for (size_t i = 0; i < ids.size(); ++i) {
    EMBER_CHECK_INDEX(ids[i] >= 0 && ids[i] < n, "CharTokenizer::decode: id ", ids[i],
                      " at position ", i, " is outside the vocabulary [0, ", n, ")");
    ember::detail::append_utf8(out, chars_[static_cast<size_t>(ids[i])]);
  }
  return out;
}

void CharTokenizer::save(const std::string& dir) const {
  std::filesystem::create_directories(dir);
  json::Value chars = json::Value::array();
  for (char32_t c : chars_) {
    std::string s;
    ember::detail::append_utf8(s, c);
    chars.push_back(std::move(s));
  }
  json::Value j = json::Value::object();
  j["type"] = "char";
  j["chars"] = std::move(chars);
  json::write_file(dir + "/tokenizer.json", j);
}

CharTokenizer CharTokenizer::from_file(const std::string& path) {
  json::ParseOptions po;
  po.source = path;
  const json::Value j = json::parse_file(path, po);
  EMBER_CHECK_IO(j.is_object(), path, ": expected a JSON object, got ", json::type_name(j.type()));
  const json::Value* type = j.find("type");
  EMBER_CHECK_IO(type && type->is_string() && type->as_string() == "char", path,
                 ": expected \"type\": \"char\"");
  const json::Value* chars = j.find("chars");
  EMBER_CHECK_IO(chars && chars->is_array(), path, ": expected \"chars\": an array of strings");
  std::vector<char32_t> cps;
  std::unordered_map<char32_t, size_t> seen;
  for (size_t i = 0; i < chars->size(); ++i) {
    const json::Value& v = (*chars)[i];
    EMBER_CHECK_IO(v.is_string(), path, ": chars[", i, "] must be a string, got ",
                   json::type_name(v.type()));
    const std::string& s = v.as_string();
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const detail::Utf8Char ch =
        s.empty() ? detail::Utf8Char{0, 0, false} : detail::decode_utf8(p, s.size());
    EMBER_CHECK_IO(ch.valid && static_cast<size_t>(ch.len) == s.size(), path, ": chars[", i,
                   "] must be exactly one character, got \"", s, "\"");
    const auto [prev, fresh] = seen.emplace(ch.cp, i);
    EMBER_CHECK_IO(fresh, path, ": chars[", i, "] repeats chars[", prev->second, "] (",
                   hex_cp(ch.cp), ")");
    cps.push_back(ch.cp);
  }
  EMBER_CHECK_IO(!cps.empty(), path, ": \"chars\" is empty");
  return CharTokenizer(std::move(cps));
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path d(dir);
  if (fs::is_regular_file(d / "tokenizer.json"))
    return std::make_unique<CharTokenizer>(
        CharTokenizer::from_file((d / "tokenizer.json").string()));
  if (fs::is_regular_file(d / "encoder.json") || fs::is_regular_file(d / "vocab.bpe"))
    return std::make_unique<BpeTokenizer>(
        BpeTokenizer::from_files((d / "encoder.json").string(), (d / "vocab.bpe").string()));
  if (fs::is_regular_file(d / "vocab.txt"))
    return std::make_unique<WordPieceTokenizer>(
        WordPieceTokenizer::from_file((d / "vocab.txt").string()));
  EMBER_THROW(IOError, "load_tokenizer: ", dir,
              " holds no tokenizer (expected tokenizer.json for a character tokenizer, "
              "encoder.json + vocab.bpe for BPE, or vocab.txt for WordPiece)");
}

}  // namespace ember::data
