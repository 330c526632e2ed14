// Collectives of the MPI process group against values computed locally: every rank knows what
// every other rank sent (rank-dependent values), for each dtype, ReduceOp and awkward sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "dist_world.h"
#include "ember/ember.h"
#include "support/expect.h"

using namespace ember;
using ember::dist::DistError;
using ember::dist::ReduceOp;
using ember::testing::expect_error;
using ember::testing::world;

namespace {

const std::vector<DType> kDTypes = {kFloat32, kFloat64, kInt64, kInt32};
const std::vector<ReduceOp> kOps = {ReduceOp::Sum, ReduceOp::Avg, ReduceOp::Max};

// What rank r sends at element i: small integers (exact in every dtype), negative ones included.
double value(int r, int64_t i) {
  return static_cast<double>((i * 7 + r * 3) % 11 - 5 + r);
}

Tensor rank_tensor(int r, IntList shape, DType dtype) {
  if (shape.empty()) return full({}, value(r, 0), dtype);  // 0-d
  int64_t n = ember::detail::shape_numel(shape);
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = value(r, i);
  return from_vector<double>(v, shape).to(dtype);
}

// The reduction over ranks of value(r, i), computed the way the dtype computes it.
double reduced(ReduceOp op, int64_t i, DType dtype, int size) {
  double sum = 0, mx = value(0, i);
  for (int r = 0; r < size; ++r) sum += value(r, i), mx = std::max(mx, value(r, i));
  if (op == ReduceOp::Max) return mx;
  if (op == ReduceOp::Sum) return sum;
  switch (dtype) {
    case DType::Float32:
      return static_cast<float>(sum) / static_cast<float>(size);
    case DType::Float64:
      return sum / size;
    default:
      return static_cast<double>(static_cast<int64_t>(sum) / size);
  }
}

std::string what(DType d, ReduceOp op, int64_t n) {
  return std::string(dtype_name(d)) + " " + dist::reduce_op_name(op) + " n=" + std::to_string(n);
}

}  // namespace

TEST(DistInit, LaunchEnvMatchesTheGroup) {
  dist::LaunchEnv env = dist::launch_env();
  dist::ProcessGroup& g = world();
  EXPECT_EQ(g.backend(), "mpi");
  EXPECT_TRUE(env.launched) << "run the test under mpirun";
  EXPECT_EQ(env.rank, g.rank());
  EXPECT_EQ(env.size, g.size());
  EXPECT_GE(env.local_rank, 0);
  EXPECT_LT(env.local_rank, env.size);
}

TEST(DistInit, SecondInitReturnsTheSameGroupAndBadOptionsThrow) {
  auto again = dist::init_process_group();
  EXPECT_EQ(again.get(), &world());
  EXPECT_TRUE(dist::is_available("mpi"));
  EXPECT_FALSE(dist::is_available("gloo"));
  expect_error<DistError>(
      [] {
        dist::init_process_group({"xyz", 10});
      },
      {"unknown backend \"xyz\"", "expected mpi or nccl"});
  expect_error<DistError>([] { dist::init_process_group({"mpi", 0}); }, {"timeout_seconds"});
#ifndef EMBER_WITH_NCCL
  EXPECT_FALSE(dist::is_available("nccl"));
  expect_error<DistError>(
      [] {
        dist::init_process_group({"nccl", 10});
      },
      {"backend nccl: this build has no NCCL", "-DEMBER_NCCL=ON"});
#else
  EXPECT_TRUE(dist::is_available("nccl"));
#endif
}

TEST(DistAllreduce, EveryDTypeOpAndSize) {
  dist::ProcessGroup& g = world();
  for (DType d : kDTypes) {
    for (ReduceOp op : kOps) {
      for (int64_t n : {0, 1, 7, 1000, 100003}) {
        Tensor t = rank_tensor(g.rank(), {n}, d);
        uint64_t v0 = t.version();
        g.allreduce(t, op);
        EXPECT_GT(t.version(), v0) << "an in-place write bumps the version";
        ASSERT_EQ(t.shape(), Shape{n});
        ASSERT_EQ(t.dtype(), d);
        std::vector<double> got = t.to_vector<double>();
        int bad = 0;
        for (int64_t i = 0; i < n && bad < 3; ++i)
          if (got[static_cast<size_t>(i)] != reduced(op, i, d, g.size()))
            ++bad, ADD_FAILURE() << what(d, op, n) << " element " << i << ": got "
                                 << got[static_cast<size_t>(i)] << ", want "
                                 << reduced(op, i, d, g.size());
      }
    }
  }
}

TEST(DistAllreduce, MultiDimensionalAndZeroDim) {
  dist::ProcessGroup& g = world();
  Tensor t = rank_tensor(g.rank(), {3, 5}, kFloat64);
  g.allreduce(t);
  std::vector<double> got = t.to_vector<double>();
  for (int64_t i = 0; i < 15; ++i)
    EXPECT_EQ(got[static_cast<size_t>(i)], reduced(ReduceOp::Sum, i, kFloat64, g.size()));
  Tensor s = full({}, g.rank() + 1.0, kFloat32);
  g.allreduce(s, ReduceOp::Max);
  EXPECT_EQ(s.item(), g.size());
}

TEST(DistAllreduce, AsyncOverlappedWaitInReverseOrder) {
  dist::ProcessGroup& g = world();
  std::vector<Tensor> ts = {rank_tensor(g.rank(), {4099}, kFloat32),
                            rank_tensor(g.rank(), {1 << 20}, kFloat32),
                            rank_tensor(g.rank(), {17}, kInt64)};
  std::vector<ReduceOp> ops = {ReduceOp::Sum, ReduceOp::Avg, ReduceOp::Max};
  std::vector<std::shared_ptr<dist::Work>> works;
  for (size_t k = 0; k < ts.size(); ++k) works.push_back(g.allreduce_async(ts[k], ops[k]));
  for (size_t k = ts.size(); k-- > 0;) {
    works[k]->wait();
    EXPECT_TRUE(works[k]->is_completed());
    EXPECT_GT(works[k]->seconds(), 0.0);
    EXPECT_LT(works[k]->seconds(), 30.0);
  }
  for (size_t k = 0; k < ts.size(); ++k) {
    std::vector<double> got = ts[k].to_vector<double>();
    for (size_t i = 0; i < got.size(); i += 37)
      ASSERT_EQ(got[i], reduced(ops[k], static_cast<int64_t>(i), ts[k].dtype(), g.size()))
          << "tensor " << k << " element " << i;
  }
}

TEST(DistAllreduce, ReturnsBeforeTheCollectiveIsDone) {
  // Rank 0 arrives 300 ms late: the others' allreduce_async must return at once, and their work
  // completes only after rank 0 arrived.
  dist::ProcessGroup& g = world();
  if (g.size() == 1) GTEST_SKIP() << "needs 2 ranks";
  Tensor t = rank_tensor(g.rank(), {1000}, kFloat32);
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  if (g.rank() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto work = g.allreduce_async(t);
  if (g.rank() != 0) {
    EXPECT_LT(elapsed(), 0.1);
    EXPECT_FALSE(work->is_completed());
  }
  work->wait();
  if (g.rank() != 0) {
    EXPECT_GT(elapsed(), 0.2);
  }
  EXPECT_EQ(t.to_vector<double>()[5], reduced(ReduceOp::Sum, 5, kFloat32, g.size()));
}

TEST(DistBroadcast, FromEveryRoot) {
  dist::ProcessGroup& g = world();
  for (int root = 0; root < g.size(); ++root) {
    for (DType d : kDTypes) {
      for (int64_t n : {0, 5, 70001}) {
        Tensor t = rank_tensor(g.rank(), {n}, d);
        g.broadcast(t, root);
        std::vector<double> got = t.to_vector<double>();
        for (int64_t i = 0; i < n; i += 13)
          ASSERT_EQ(got[static_cast<size_t>(i)], value(root, i))
              << dtype_name(d) << " root " << root << " element " << i;
      }
    }
  }
}

TEST(DistAllgather, GathersEveryRanksTensor) {
  dist::ProcessGroup& g = world();
  for (DType d : kDTypes) {
    for (Shape shape : {Shape{2, 3}, Shape{0}, Shape{}, Shape{10007}}) {
      Tensor in = rank_tensor(g.rank(), shape, d);
      Shape out_shape = shape;
      out_shape.insert(out_shape.begin(), g.size());
      Tensor out = zeros(out_shape, d);
      g.allgather(in, out);
      std::vector<double> got = out.to_vector<double>();
      const int64_t n = in.numel();
      for (int r = 0; r < g.size(); ++r)
        for (int64_t i = 0; i < n; ++i)
          ASSERT_EQ(got[static_cast<size_t>(r * n + i)], value(r, i))
              << dtype_name(d) << " " << in.shape_str() << " rank " << r << " element " << i;
      EXPECT_EQ(in.to_vector<double>(), rank_tensor(g.rank(), shape, d).to_vector<double>())
          << "in is unchanged";
    }
  }
}

TEST(DistReduceScatter, EachRankGetsItsReducedChunk) {
  dist::ProcessGroup& g = world();
  for (DType d : kDTypes) {
    for (ReduceOp op : kOps) {
      for (int64_t rows : {0, 1, 3}) {
        const int64_t cols = 5, chunk = rows * cols;
        Tensor in = rank_tensor(g.rank(), {g.size() * rows, cols}, d);
        Tensor out = zeros({rows, cols}, d);
        g.reduce_scatter(in, out, op);
        std::vector<double> got = out.to_vector<double>();
        for (int64_t j = 0; j < chunk; ++j)
          ASSERT_EQ(got[static_cast<size_t>(j)], reduced(op, g.rank() * chunk + j, d, g.size()))
              << what(d, op, rows) << " element " << j;
      }
    }
  }
}

TEST(DistBarrier, WaitsForTheLastRank) {
  dist::ProcessGroup& g = world();
  auto t0 = std::chrono::steady_clock::now();
  if (g.rank() == g.size() - 1) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  g.barrier();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GT(s, 0.2) << "barrier returned before the last rank arrived";
}

TEST(DistErrors, BadInputsThrowBeforeAnyCommunication) {
  dist::ProcessGroup& g = world();
  Tensor m = rank_tensor(g.rank(), {3, 4}, kFloat32);
  expect_error<DistError>([&] { g.allreduce(transpose(m, 0, 1)); },
                          {"allreduce", "(4, 3)", "not contiguous"});
  expect_error<DistError>([&] { g.allreduce(zeros({3}, kBFloat16)); },
                          {"allreduce", "bfloat16", "backend mpi"});
  expect_error<DistError>([&] { g.broadcast(zeros({3}, kBool)); }, {"broadcast", "bool"});
  expect_error<DistError>([&] { g.allreduce(Tensor()); }, {"allreduce", "undefined"});
  expect_error<DistError>([&] { g.broadcast(zeros({3}), g.size()); },
                          {"broadcast", "root " + std::to_string(g.size()), "not a rank"});
  expect_error<DistError>(
      [&] {
        g.allgather(zeros({2, 3}), zeros({g.size(), 3, 2}));
      },
      {"allgather", "(" + std::to_string(g.size()) + ", 2, 3)"});
  expect_error<DistError>(
      [&] {
        g.allgather(zeros({2}), zeros({g.size(), 2}, kFloat64));
      },
      {"allgather", "float64", "float32"});
  expect_error<DistError>(
      [&] {
        g.reduce_scatter(zeros({g.size() * 2 + 1, 3}), zeros({2, 3}));
      },
      {"reduce_scatter", "do not match"});
  expect_error<DistError>(
      [&] {
        g.reduce_scatter(zeros({g.size() * 2, 3}), zeros({2, 4}));
      },
      {"reduce_scatter", "(2, 4)"});
  expect_error<DistError>(
      [&] {
        g.reduce_scatter(zeros({g.size()}), zeros({1, 1}));
      },
      {"reduce_scatter"});
  // More elements than an MPI count holds: refused before the (never read) data is touched.
  auto huge = std::make_shared<TensorImpl>();
  huge->storage = std::make_shared<Storage>(16, Device::cpu());
  huge->shape = {int64_t{1} << 31};
  huge->strides = {1};
  huge->numel = int64_t{1} << 31;
  expect_error<DistError>([&] { g.allreduce(Tensor(huge)); }, {"2147483648 elements", "split"});
  // Nothing was sent, so the group still works.
  Tensor t = full({4}, 1.0, kInt64);
  g.allreduce(t);
  EXPECT_EQ(t.to_vector<int64_t>(), std::vector<int64_t>(4, g.size()));
}
