// The CUDA runtime: copies between devices with autograd, item(), Module::to, the caching
// allocator (steady state, statistics, out-of-memory text), pinned memory and errors.
#include "cuda/cuda_test_util.h"

using namespace ember;

namespace {
const Device kGpu = Device::cuda();
}

TEST(CudaRuntime, DeviceCountMatchesAvailability) {
  EXPECT_EQ(cuda::is_available(), cuda::device_count() > 0);
  if (!cuda::is_available()) {
    EXPECT_THROW(cuda::memory_stats(0), DeviceError);
    EXPECT_THROW(randn({2}).to(kGpu), DeviceError);
  }
}

TEST(CudaRuntime, CopiesRoundTripWithDtypesAndViews) {
  EMBER_REQUIRE_CUDA();
  Tensor x = randn({5, 7});
  Tensor g = x.to(kGpu);
  EXPECT_EQ(g.device(), kGpu);
  EXPECT_TRUE(allclose(g.cpu(), x, 0, 0));
  // A non-contiguous source is made contiguous first; dtype conversion runs on the device.
  Tensor t = x.t().to(kGpu);
  EXPECT_TRUE(allclose(t.cpu(), x.t(), 0, 0));
  EXPECT_TRUE(allclose(g.to(kFloat64).cpu(), x.to(kFloat64), 0, 0));
  EXPECT_TRUE(allclose(g.to(kBFloat16).cpu().to(kFloat32), x.to(kBFloat16).to(kFloat32), 0, 0));
  Tensor i = arange(10).to(kGpu);
  EXPECT_EQ(i.to(kFloat32).cpu().to_vector<float>()[9], 9.0f);
  // Device to device (same GPU) and empty / 0-d tensors.
  Tensor d = g.clone();
  EXPECT_TRUE(allclose(d.cpu(), x, 0, 0));
  EXPECT_EQ(zeros({0, 3}).to(kGpu).cpu().numel(), 0);
  EXPECT_EQ(scalar_tensor(4.5).to(kGpu).item(), 4.5);
}

TEST(CudaRuntime, HostReadsCopyFirstAndDataPtrRefuses) {
  EMBER_REQUIRE_CUDA();
  Tensor g = arange(6).to(kFloat32).view({2, 3}).to(kGpu);
  EXPECT_EQ(sum(g).item<float>(), 15.0f);
  EXPECT_EQ(g.at<float>({1, 2}), 5.0f);
  EXPECT_EQ(g.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_THROW(g.data_ptr<float>(), DeviceError);
}

TEST(CudaRuntime, ToDeviceKeepsAutograd) {
  EMBER_REQUIRE_CUDA();
  Tensor x = randn({4, 3}).requires_grad_();
  Tensor y = (x.to(kGpu) * 3).sum();
  y.backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(x.grad().device().is_cpu());
  EXPECT_TRUE(allclose(x.grad(), full({4, 3}, 3.0), 0, 0));
}

TEST(CudaRuntime, ModuleToMovesParametersBuffersAndGrads) {
  EMBER_REQUIRE_CUDA();
  nn::Linear lin(8, 4);
  Tensor x = randn({2, 8});
  Tensor ref = lin.forward(x);
  sum(ref).backward();
  const Tensor w = lin.parameters()[0];
  const Tensor grad_before = w.grad().clone();
  lin.to(kGpu);
  for (const Tensor& p : lin.parameters()) {
    EXPECT_EQ(p.device(), kGpu);
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().device(), kGpu);
  }
  EXPECT_TRUE(w.device().is_cuda());  // the same handle, moved in place
  EXPECT_TRUE(allclose(w.grad().cpu(), grad_before, 0, 0));
  cuda_test::expect_close(lin.forward(x.to(kGpu)), ref.detach(), 1e-5, "Linear on CUDA");
  lin.to(Device::cpu());
  EXPECT_TRUE(w.device().is_cpu());
}

TEST(CudaRuntime, OptimizersStepOnTheGpuLikeOnTheCpu) {
  EMBER_REQUIRE_CUDA_OR_DRY_RUN();
  const Device dev = cuda_test::device();
  using Make = std::function<std::unique_ptr<optim::Optimizer>(Tensor)>;
  const std::vector<std::pair<const char*, Make>> makers = {
      {"AdamW", [](Tensor p) { return std::make_unique<optim::AdamW>(std::vector<Tensor>{p}); }},
      {"Adam amsgrad",
       [](Tensor p) {
         optim::AdamOptions o;
         o.amsgrad = true;
         o.weight_decay = 0.1;
         return std::make_unique<optim::Adam>(std::vector<Tensor>{p}, o);
       }},
      {"SGD nesterov",
       [](Tensor p) {
         optim::SGDOptions o;
         o.lr = 0.1;
         o.momentum = 0.9;
         o.nesterov = true;
         return std::make_unique<optim::SGD>(std::vector<Tensor>{p}, o);
       }},
      {"RMSprop centered momentum",
       [](Tensor p) {
         optim::RMSpropOptions o;
         o.centered = true;
         o.momentum = 0.5;
         return std::make_unique<optim::RMSprop>(std::vector<Tensor>{p}, o);
       }},
      {"Adagrad",
       [](Tensor p) { return std::make_unique<optim::Adagrad>(std::vector<Tensor>{p}); }}};
  for (const auto& [name, make] : makers) {
    Generator gen(5);
    Tensor p_cpu = randn({1000}, kFloat32, &gen).requires_grad_();
    Tensor p_gpu = p_cpu.detach().clone().to(dev).requires_grad_();
    auto o_cpu = make(p_cpu), o_gpu = make(p_gpu);
    for (int step = 0; step < 5; ++step) {
      Tensor g = randn({1000}, kFloat32, &gen);
      sum(p_cpu * p_cpu * g).backward();
      sum(p_gpu * p_gpu * g.to(dev)).backward();
      o_cpu->step();
      o_gpu->step();
      o_cpu->zero_grad();
      o_gpu->zero_grad();
    }
    cuda_test::expect_close(p_gpu.detach(), p_cpu.detach(), 1e-5, name);
  }
}

TEST(CudaRuntime, AllocatorReusesBlocksInSteadyState) {
  EMBER_REQUIRE_CUDA();
  auto step = [] {
    Tensor a = randn({256, 256}, Options(kFloat32, kGpu));
    Tensor b = matmul(a, a).relu().sum();
    return b.item();
  };
  step();
  step();  // warm: every size of the loop is cached now
  cuda::synchronize();
  const size_t mallocs = cuda::malloc_count();
  const size_t reserved = cuda::memory_stats().reserved;
  for (int i = 0; i < 20; ++i) step();
  cuda::synchronize();
  EXPECT_EQ(cuda::malloc_count(), mallocs) << "steady-state steps called cudaMalloc";
  EXPECT_EQ(cuda::memory_stats().reserved, reserved);
}

TEST(CudaRuntime, AllocatorStatistics) {
  EMBER_REQUIRE_CUDA();
  cuda::synchronize();
  const size_t before = cuda::memory_stats().allocated;
  cuda::reset_peak_memory_stats();
  {
    Tensor t = empty({1000}, Options(kFloat32, kGpu));  // 4000 B -> one 4096 B block
    const auto s = cuda::memory_stats();
    EXPECT_EQ(s.allocated, before + 4096);
    EXPECT_GE(s.reserved, s.allocated);
    EXPECT_GE(s.peak, s.allocated);
  }
  const auto s = cuda::memory_stats();
  EXPECT_EQ(s.allocated, before);
  EXPECT_GE(s.peak, before + 4096);
  cuda::empty_cache();
  EXPECT_EQ(cuda::memory_stats().reserved, cuda::memory_stats().allocated);
}

TEST(CudaRuntime, OutOfMemoryErrorSaysWhatAndHowMuch) {
  EMBER_REQUIRE_CUDA();
  try {
    Tensor huge = empty({int64_t(1) << 48}, Options(kFloat32, kGpu));  // 1 PiB
    FAIL() << "a 1 PiB allocation succeeded";
  } catch (const DeviceError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("CUDA out of memory on cuda:0: tried to allocate 1048576.00 GiB"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("allocated by Ember"), std::string::npos) << msg;
    EXPECT_NE(msg.find("free of"), std::string::npos) << msg;
  }
  // The device is still usable afterwards.
  EXPECT_EQ(ones({3}, Options(kFloat32, kGpu)).sum().item(), 3.0);
}

TEST(CudaRuntime, PinnedMemoryAndBadDevices) {
  EMBER_REQUIRE_CUDA();
  Tensor p = cuda::pinned_empty({4, 4});
  EXPECT_TRUE(p.device().is_cpu());
  p.fill_(2);
  EXPECT_EQ(p.to(kGpu).sum().item(), 32.0);
  EXPECT_THROW(randn({2}).to(Device::cuda(cuda::device_count())), DeviceError);
  EXPECT_THROW(set_float32_matmul_precision("fastest"), ValueError);
  Tensor a = randn({2, 2}).to(kGpu);
  EXPECT_THROW(a + randn({2, 2}), DeviceError);  // mixed devices
}
