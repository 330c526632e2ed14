// Test scratch space: a fresh, empty directory per test under the build tree (EMBER_TEST_TMPDIR).
#pragma once

#include <filesystem>
#include <string>

namespace ember::testing {

/// EMBER_TEST_TMPDIR/suite/name, emptied and created.
inline std::filesystem::path fresh_dir(const std::string& suite, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(EMBER_TEST_TMPDIR) / suite / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace ember::testing
