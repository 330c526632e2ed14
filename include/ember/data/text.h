// Plain-text corpora: read a UTF-8 file, or every .txt file of a directory; cut text into passages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ember::data {

/// The text of path: a file, or the .txt files of a directory in name order, concatenated. The
/// result must be valid UTF-8: an IOError names the file and byte offset of the first invalid
/// sequence; a missing or empty corpus is an IOError too.
std::string read_text(const std::string& path);

/// One .txt file of a directory: its name without ".txt" and its (UTF-8 checked) text.
struct TextFile {
  std::string name;
  std::string text;
};

/// Every .txt file of the directory dir, in name order (as read_text checks them). An IOError
/// when dir is not a directory, has no .txt file, or a file is empty.
std::vector<TextFile> read_text_files(const std::string& dir);

/// text with every run of whitespace (spaces, tabs, line breaks) replaced by one space and no
/// space at either end: line wrapping carries no meaning in prose.
std::string collapse_whitespace(const std::string& text);

/// Passages of `chars` bytes of text[from, to), starting at from, from + stride, ... while a whole
/// passage fits; each start and end is moved back to a UTF-8 character boundary. stride < chars
/// gives overlapping passages. chars and stride must be >= 1 (ValueError).
std::vector<std::string> passages(const std::string& text, size_t from, size_t to, size_t chars,
                                  size_t stride);

}  // namespace ember::data
