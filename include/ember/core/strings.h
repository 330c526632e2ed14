// Small string helpers shared by error messages and file writers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ember {

/// "a, b, c" (or with another separator): lists names in error messages.
inline std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

}  // namespace ember
