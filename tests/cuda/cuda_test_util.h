// Helpers of the CUDA tests: skipping without a GPU, CPU-vs-CUDA comparison of ops and gradients.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "ember/core/cuda.h"
#include "ember/ember.h"

namespace ember::cuda_test {
/// The device under test: cuda:0, or the CPU when EMBER_CUDA_TESTS_ON_CPU=1 (a dry run of the
/// op tests' own logic on machines without a GPU: both sides then run on the CPU).
inline bool dry_run() {
  const char* v = std::getenv("EMBER_CUDA_TESTS_ON_CPU");
  return v != nullptr && std::string(v) == "1";
}
inline Device device() {
  return dry_run() ? Device::cpu() : Device::cuda();
}
}  // namespace ember::cuda_test

/// Skips the current test (with a line saying so) on machines without a GPU.
#define EMBER_REQUIRE_CUDA()                                                          \
  do {                                                                                \
    if (!::ember::cuda::is_available())                                               \
      GTEST_SKIP() << "no CUDA device: "                                              \
                   << ::testing::UnitTest::GetInstance()->current_test_info()->name() \
                   << " skipped";                                                     \
  } while (0)

/// As EMBER_REQUIRE_CUDA, but a dry run (EMBER_CUDA_TESTS_ON_CPU=1) runs the test on the CPU.
#define EMBER_REQUIRE_CUDA_OR_DRY_RUN()                                               \
  do {                                                                                \
    if (!::ember::cuda::is_available() && !::ember::cuda_test::dry_run())             \
      GTEST_SKIP() << "no CUDA device: "                                              \
                   << ::testing::UnitTest::GetInstance()->current_test_info()->name() \
                   << " skipped";                                                     \
  } while (0)

namespace ember::cuda_test {

/// Relative error in the max norm: max|a - b| / max(max|b|, 1e-30); NaN/inf must match exactly.
/// Integer and bool tensors must be equal.
inline void expect_close(const Tensor& gpu, const Tensor& cpu, double rtol,
                         const std::string& what) {
  ASSERT_TRUE(gpu.defined()) << what << ": CUDA result undefined";
  ASSERT_TRUE(cpu.defined()) << what << ": CPU result undefined";
  EXPECT_EQ(gpu.device(), device()) << what << ": result is on " << gpu.device();
  ASSERT_EQ(gpu.shape(), cpu.shape()) << what;
  ASSERT_EQ(gpu.dtype(), cpu.dtype()) << what;
  const std::vector<double> a = gpu.cpu().to_vector<double>();
  const std::vector<double> b = cpu.to_vector<double>();
  if (!is_floating(cpu.dtype())) {
    EXPECT_EQ(a, b) << what << ": integer/bool results differ";
    return;
  }
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(b[i]) || std::isinf(b[i])) {
      EXPECT_TRUE(std::isnan(b[i]) ? std::isnan(a[i]) : a[i] == b[i])
          << what << ": element " << i << " is " << a[i] << " on CUDA, " << b[i] << " on CPU";
      continue;
    }
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  EXPECT_LE(diff / scale, rtol) << what << ": max abs diff " << diff << ", max |cpu| " << scale;
}

/// One op run on the CPU and on CUDA with the same random inputs.
struct OpCase {
  std::string name;
  std::vector<Shape> shapes;  ///< float inputs, N(0, 1) (or positive, see below)
  std::function<Tensor(const std::vector<Tensor>&)> f;
  bool grad = true;       ///< also compare input gradients of sum(f(x) * g) for a random g
  bool positive = false;  ///< inputs |N(0, 1)| + 0.5 (log, sqrt, pow, ...)
  double rtol = 1e-5;
  DType dtype = kFloat32;
};

inline void run_case(const OpCase& c) {
  SCOPED_TRACE(c.name);
  Generator gen(1234);
  std::vector<Tensor> cpu_in, gpu_in;
  for (const Shape& s : c.shapes) {
    Tensor x = randn(s, c.dtype, &gen);
    if (c.positive) x = abs(x) + 0.5;
    x = x.detach();
    cpu_in.push_back(x.clone().requires_grad_(c.grad));
    gpu_in.push_back(x.clone().to(device()).requires_grad_(c.grad));
  }
  const Tensor y_cpu = c.f(cpu_in);
  const Tensor y_gpu = c.f(gpu_in);
  expect_close(y_gpu, y_cpu, c.rtol, c.name + " forward");
  if (!c.grad || !y_cpu.requires_grad()) return;
  const Tensor g = randn(y_cpu.shape(), y_cpu.dtype(), &gen);
  sum(y_cpu * g).backward();
  sum(y_gpu * g.to(device())).backward();
  for (size_t i = 0; i < cpu_in.size(); ++i) {
    if (!cpu_in[i].grad().defined()) continue;
    expect_close(gpu_in[i].grad(), cpu_in[i].grad(), c.rtol,
                 c.name + " grad of input " + std::to_string(i));
  }
}

}  // namespace ember::cuda_test
