// ember::Error: message plus the source location where it was raised.
#include "ember/core/error.h"

#include <cstring>

namespace ember {

namespace {
const char* short_path(const char* file) {
  const char* src = std::strstr(file, "src/");
  return src ? src : file;
}
}  // namespace

Error::Error(const std::string& message, const char* file, int line)
    : std::runtime_error(message + " (" + short_path(file) + ":" + std::to_string(line) + ")"),
      message_(message) {}

}  // namespace ember
