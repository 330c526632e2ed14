// Helpers shared by the model tests: token batches, tensor differences, and the plain-PyTorch
// reference directories that tests/support/*_reference.py write.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ember/ember.h"
#ifdef EMBER_TEST_TMPDIR
#include "support/tmpdir.h"
#endif

namespace ember::testing {

/// v as (B, T) int64 token ids.
inline Tensor ids(std::vector<int64_t> v, int64_t B) {
  const auto T = static_cast<int64_t>(v.size()) / B;
  return from_vector(v).view({B, T});
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  return (a - b).abs().max().item();
}

inline std::vector<float> values(const Tensor& t) {
  return t.contiguous().to(kFloat32).to_vector<float>();
}

/// max |a - ref| / max |ref|
inline double rel_diff(const Tensor& a, const Tensor& ref) {
  const std::vector<float> x = values(a), r = values(ref);
  EXPECT_EQ(x.size(), r.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < x.size() && i < r.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(x[i]) - r[i]));
    scale = std::max(scale, std::abs(static_cast<double>(r[i])));
  }
  return diff / scale;
}

inline bool bit_identical(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const std::vector<float> x = values(a), y = values(b);
  return std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

/// Whether /usr/bin/python3 has torch (asked once: importing torch takes seconds).
inline bool have_torch() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
  return ok;
}

#if defined(EMBER_SOURCE_DIR) && defined(EMBER_TEST_TMPDIR)
/// Runs tests/support/<script> into a fresh scratch directory <suite>/reference and returns it.
/// Call it from a function-local static so the script runs once per test binary.
inline std::filesystem::path run_reference_script(const std::string& script,
                                                  const std::string& suite) {
  const std::filesystem::path d = fresh_dir(suite, "reference");
  const std::string cmd = std::string("/usr/bin/python3 ") + EMBER_SOURCE_DIR + "/tests/support/" +
                          script + " " + d.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return d;
}
#endif

}  // namespace ember::testing
