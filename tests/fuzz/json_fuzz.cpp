// libFuzzer harness: any bytes parse as JSON or throw ember::IOError; what parses writes back and
// reparses to an equal value. Build instructions: tests/fuzz/README.md.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ember/core/error.h"
#include "ember/io/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ember::json::Value v;
  try {
    v = ember::json::parse(text);
  } catch (const ember::IOError&) {
    return 0;
  }
  if (!(ember::json::parse(v.dump()) == v) || !(ember::json::parse(v.dump(2)) == v)) std::abort();
  return 0;
}
