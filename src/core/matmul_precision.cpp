// The process-wide float32 matmul precision (see ember/core/matmul_precision.h).
#include "ember/core/matmul_precision.h"

#include <atomic>

#include "ember/core/error.h"

namespace ember {

namespace {
std::atomic<MatmulPrecision> g_precision{MatmulPrecision::Highest};
}  // namespace

const std::vector<std::string>& float32_matmul_precision_names() {
  static const std::vector<std::string> names = {"highest", "high", "medium"};
  return names;
}

void set_float32_matmul_precision(std::string_view precision) {
  const std::vector<std::string>& names = float32_matmul_precision_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == precision) {
      g_precision.store(static_cast<MatmulPrecision>(i));
      return;
    }
  EMBER_THROW(ValueError, "set_float32_matmul_precision: expected \"highest\", \"high\" or ",
              "\"medium\", got \"", precision, "\"");
}

MatmulPrecision float32_matmul_precision() {
  return g_precision.load();
}

std::string get_float32_matmul_precision() {
  return float32_matmul_precision_names()[static_cast<size_t>(float32_matmul_precision())];
}

}  // namespace ember
