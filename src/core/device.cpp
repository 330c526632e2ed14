// Device parsing and printing.
#include "ember/core/device.h"

#include "ember/core/error.h"

namespace ember {

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda") return cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    const std::string idx = s.substr(5);
    EMBER_CHECK(!idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos,
                "Device::parse: bad device index in '", s, "'");
    return cuda(std::stoi(idx));
  }
  EMBER_THROW(ValueError, "Device::parse: unknown device '", s, "' (expected cpu, cuda, cuda:N)");
}

std::string Device::str() const {
  return is_cpu() ? "cpu" : "cuda:" + std::to_string(index);
}

std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

}  // namespace ember
