// Without a GPU (or without CUDA support) ember::cuda says so and device moves raise DeviceError.
#include <gtest/gtest.h>

#include "ember/core/cuda.h"
#include "ember/ember.h"

using namespace ember;

TEST(CudaUnavailable, ReportsNoDeviceAndRefusesMoves) {
  if (cuda::is_available()) GTEST_SKIP() << "a CUDA device is present: tests/cuda covers it";
  EXPECT_EQ(cuda::device_count(), 0);
  EXPECT_NO_THROW(cuda::empty_cache());
  EXPECT_NO_THROW(cuda::reset_peak_memory_stats());
  EXPECT_THROW(cuda::synchronize(), DeviceError);
  EXPECT_THROW(cuda::memory_stats(0), DeviceError);
  EXPECT_THROW(cuda::pinned_empty({2}), DeviceError);
  try {
    Tensor x = ones({2, 3}).to(Device::cuda());
    FAIL() << "moved a tensor to a GPU that does not exist";
  } catch (const DeviceError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("to: cannot move a tensor to cuda:0"), std::string::npos) << msg;
  }
  EXPECT_THROW(zeros({2}, Options(kFloat32, Device::cuda())), DeviceError);
  nn::Linear lin(2, 2);
  EXPECT_THROW(lin.to(Device::cuda()), DeviceError);
  EXPECT_TRUE(lin.parameters()[0].device().is_cpu());  // nothing moved
}

