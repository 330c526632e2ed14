// Plain-text corpora: read a UTF-8 file, or every .txt file of a directory.
#pragma once

#include <string>

namespace ember::data {

/// The text of path: a file, or the .txt files of a directory in name order, concatenated. The
/// result must be valid UTF-8: an IOError names the file and byte offset of the first invalid
/// sequence; a missing or empty corpus is an IOError too.
std::string read_text(const std::string& path);

}  // namespace ember::data
