// The NCCL process group on CUDA memory: a world of 1 (and of every rank when each has its own
// GPU); skipped on machines without a CUDA device.
#include <gtest/gtest.h>

#include "dist_world.h"
#include "ember/ember.h"
#include "support/expect.h"

#ifdef EMBER_WITH_NCCL
#include <cuda_runtime.h>

using namespace ember;
using ember::dist::ReduceOp;
using ember::testing::world;

namespace {

// A CUDA tensor on cudaMalloc'ed memory holding host values (the CUDA backend is not needed).
Tensor cuda_tensor(const std::vector<float>& host, IntList shape, int device) {
  void* ptr = nullptr;
  size_t nbytes = host.size() * sizeof(float);
  EXPECT_EQ(cudaSetDevice(device), cudaSuccess);
  EXPECT_EQ(cudaMalloc(&ptr, std::max<size_t>(nbytes, 4)), cudaSuccess);
  EXPECT_EQ(cudaMemcpy(ptr, host.data(), nbytes, cudaMemcpyHostToDevice), cudaSuccess);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage =
      std::make_shared<Storage>(ptr, nbytes, Device::cuda(device), [](void* p) { cudaFree(p); });
  impl->shape = shape;
  impl->strides = ember::detail::contiguous_strides(shape);
  impl->numel = static_cast<int64_t>(host.size());
  impl->dtype = kFloat32;
  return Tensor(std::move(impl));
}

std::vector<float> to_host(const Tensor& t) {
  std::vector<float> h(static_cast<size_t>(t.numel()));
  EXPECT_EQ(cudaMemcpy(h.data(), t.raw_data(), h.size() * sizeof(float), cudaMemcpyDeviceToHost),
            cudaSuccess);
  return h;
}

}  // namespace

TEST(DistNccl, NoDeviceIsAClearErrorAndLeavesMpiWorking) {
  int count = 0;
  if (cudaGetDeviceCount(&count) == cudaSuccess && count > 0) GTEST_SKIP() << "a CUDA device";
  ember::testing::expect_error<dist::DistError>(
      [] {
        dist::init_process_group({"nccl", 10});
      },
      {"backend nccl: no CUDA device"});
  Tensor t = full({3}, 2.0);
  world().allreduce(t);
  EXPECT_EQ(t.to_vector<double>(), std::vector<double>(3, 2.0 * world().size()));
}

TEST(DistNccl, AllreduceBroadcastAllgatherOnCudaMemory) {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0)
    GTEST_SKIP() << "no CUDA device: NCCL test skipped";
  const int size = world().size(), rank = world().rank();
  if (count < size) GTEST_SKIP() << "no CUDA device for every rank: NCCL test skipped";
  auto g = dist::init_process_group({"nccl", 60});
  ASSERT_EQ(g->backend(), "nccl");
  ASSERT_EQ(g->size(), size);
  const int dev = dist::launch_env().local_rank % count;

  std::vector<float> h(1001);
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<float>(i % 13) + rank;
  Tensor t = cuda_tensor(h, {1001}, dev);
  g->allreduce(t, ReduceOp::Sum);
  std::vector<float> got = to_host(t);
  for (size_t i = 0; i < h.size(); ++i)
    ASSERT_EQ(got[i], size * static_cast<float>(i % 13) + size * (size - 1) / 2.0f) << i;

  Tensor a = cuda_tensor(h, {1001}, dev);
  auto work = g->allreduce_async(a, ReduceOp::Max);
  work->wait();
  EXPECT_TRUE(work->is_completed());
  EXPECT_EQ(to_host(a)[3], 3.0f + (size - 1));

  Tensor b = cuda_tensor({rank + 1.0f, rank + 2.0f}, {2}, dev);
  g->broadcast(b, size - 1);
  EXPECT_EQ(to_host(b), (std::vector<float>{float(size), float(size + 1)}));

  Tensor in = cuda_tensor({float(rank), float(rank) * 10}, {2}, dev);
  Tensor out = cuda_tensor(std::vector<float>(2 * size, -1.0f), {size, 2}, dev);
  g->allgather(in, out);
  std::vector<float> all = to_host(out);
  for (int r = 0; r < size; ++r) {
    EXPECT_EQ(all[2 * r], float(r));
    EXPECT_EQ(all[2 * r + 1], float(r) * 10);
  }
  g->barrier();
  // A CPU tensor is refused with a pointer to the right backend.
  EXPECT_THROW(g->allreduce(zeros({2})), dist::DistError);
}
#else
TEST(DistNccl, AllreduceBroadcastAllgatherOnCudaMemory) {
  GTEST_SKIP() << "this build has no NCCL (-DEMBER_NCCL=OFF): NCCL test skipped";
}
#endif
