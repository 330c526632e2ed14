// main() of ember_cuda_tests: on a machine without a GPU the tests skip themselves, and the exit
// code 77 makes ctest report the whole binary as "Skipped" rather than "Passed".
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "ember/core/cuda.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  const bool on_cpu = std::getenv("EMBER_CUDA_TESTS_ON_CPU") != nullptr;  // the dry run
  if (result == 0 && !on_cpu && !ember::cuda::is_available()) {
    std::printf("ember_cuda_tests: no CUDA device here, so the GPU tests were skipped\n");
    return 77;
  }
  return result;
}
