// The process-wide float32 matmul precision (see ember/core/matmul_precision.h).
#include "ember/core/matmul_precision.h"

#include <atomic>

#include "ember/core/error.h"

namespace ember {

namespace {
std::atomic<MatmulPrecision> g_precision{MatmulPrecision::Highest};
}  // namespace

void set_float32_matmul_precision(std::string_view precision) {
  MatmulPrecision p;
  if (precision == "highest")
    p = MatmulPrecision::Highest;
  else if (precision == "high")
    p = MatmulPrecision::High;
  else if (precision == "medium")
    p = MatmulPrecision::Medium;
  else
    EMBER_THROW(ValueError, "set_float32_matmul_precision: expected \"highest\", \"high\" or ",
                "\"medium\", got \"", precision, "\"");
  g_precision.store(p);
}

MatmulPrecision float32_matmul_precision() {
  return g_precision.load();
}

std::string get_float32_matmul_precision() {
  switch (float32_matmul_precision()) {
    case MatmulPrecision::High:
      return "high";
    case MatmulPrecision::Medium:
      return "medium";
    case MatmulPrecision::Highest:
      break;
  }
  return "highest";
}

}  // namespace ember
