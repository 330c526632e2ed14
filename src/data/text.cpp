// read_text: a UTF-8 corpus from a file or a directory of .txt files.
#include "ember/data/text.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "core/utf8.h"
#include "ember/core/error.h"
#include "ember/io/file.h"

namespace ember::data {

namespace fs = std::filesystem;

namespace {

void check_utf8(const std::string& file, const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    const size_t n = ember::detail::utf8_sequence_length(text, i);
    if (n > 0) {
      i += n;
      continue;
    }
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X",
                  static_cast<unsigned>(static_cast<uint8_t>(text[i])));
    EMBER_THROW(IOError, file, ": not UTF-8 text: invalid byte ", byte, " at byte offset ", i);
  }
}

}  // namespace

namespace {

// The .txt files of dir in name order; empty when dir is not a directory.
std::vector<std::string> txt_files(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".txt") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  EMBER_CHECK_IO(!files.empty(), dir, ": the directory has no .txt files");
  return files;
}

std::string read_utf8(const std::string& file) {
  std::string text = io::read_file(file);
  check_utf8(file, text);
  return text;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::string read_text(const std::string& path) {
  std::vector<std::string> files = txt_files(path);
  if (files.empty()) files.push_back(path);
  std::string text;
  for (const std::string& f : files) text += read_utf8(f);
  EMBER_CHECK_IO(!text.empty(), path, ": the text is empty");
  return text;
}

std::vector<TextFile> read_text_files(const std::string& dir) {
  std::error_code ec;
  EMBER_CHECK_IO(fs::is_directory(dir, ec), dir,
                 ": not a directory (expected one .txt file per class)");
  std::vector<TextFile> out;
  for (const std::string& f : txt_files(dir)) {
    out.push_back({fs::path(f).stem().string(), read_utf8(f)});
    EMBER_CHECK_IO(!out.back().text.empty(), f, ": the file is empty");
  }
  return out;
}

std::string collapse_whitespace(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char c : text) {
    if (is_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::string> passages(const std::string& text, size_t from, size_t to, size_t chars,
                                  size_t stride) {
  EMBER_CHECK(chars >= 1 && stride >= 1, "passages: chars = ", chars, " and stride = ", stride,
              " must be >= 1");
  to = std::min(to, text.size());
  std::vector<std::string> out;
  for (size_t s = from; s + chars <= to; s += stride) {
    const size_t a = detail::utf8_char_start(text, s), b = detail::utf8_char_start(text, s + chars);
    out.push_back(text.substr(a, b - a));
  }
  return out;
}

}  // namespace ember::data
