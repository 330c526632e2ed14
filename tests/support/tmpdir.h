// Test scratch space: a fresh, empty directory per test under the build tree (EMBER_TEST_TMPDIR).
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace ember::testing {

/// EMBER_TEST_TMPDIR/suite/name, emptied and created.
inline std::filesystem::path fresh_dir(const std::string& suite, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(EMBER_TEST_TMPDIR) / suite / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Writes text to path (creating its directory), for small test inputs.
inline void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace ember::testing
