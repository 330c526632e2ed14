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

std::string read_text(const std::string& path) {
  std::error_code ec;
  std::vector<std::string> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.is_regular_file() && e.path().extension() == ".txt") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    EMBER_CHECK_IO(!files.empty(), path, ": the directory has no .txt files");
  } else {
    files.push_back(path);
  }
  std::string text;
  for (const std::string& f : files) {
    std::string part = io::read_file(f);
    check_utf8(f, part);
    text += part;
  }
  EMBER_CHECK_IO(!text.empty(), path, ": the text is empty");
  return text;
}

}  // namespace ember::data
