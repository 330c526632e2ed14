// DataLoader: batch contents, seeded orders, resume, drop_last, prefetch, shutdown, errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "ember/data/data.h"
#include "ember/ops/creation.h"
#include "support/expect.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;

namespace {

// x: (n, 3) float32 with row i = [3i, 3i+1, 3i+2]; y: (n,) int64 with y[i] = i.
Tensor make_x(int64_t n) {
  return arange(0, 3 * n, 1, kFloat32).view({n, 3});
}
Tensor make_y(int64_t n) {
  return arange(n);
}

// The row ids of one epoch's batches, checking each batch's x rows match its y ids.
std::vector<std::vector<int64_t>> epoch_rows(DataLoader& loader, int64_t epoch, int64_t start = 0) {
  loader.start_epoch(epoch, start);
  std::vector<std::vector<int64_t>> out;
  int64_t index = start;
  while (auto b = loader.next()) {
    EXPECT_EQ(b->index, index++);
    const std::vector<int64_t> ids = b->y.to_vector<int64_t>();
    const std::vector<float> x = b->x.to_vector<float>();
    EXPECT_EQ(b->x.shape(), (Shape{static_cast<int64_t>(ids.size()), 3}));
    for (size_t i = 0; i < ids.size(); ++i)
      for (int k = 0; k < 3; ++k) EXPECT_EQ(x[i * 3 + k], 3 * ids[i] + k);
    out.push_back(ids);
  }
  EXPECT_FALSE(loader.next().has_value());  // stays at the end until the next start_epoch
  return out;
}

std::vector<int64_t> flat(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

TEST(DataLoader, SequentialBatchesWithAndWithoutDropLast) {
  DataLoader keep(make_x(10), make_y(10), 3, false, false, 0);
  EXPECT_EQ(keep.size(), 10);
  EXPECT_EQ(keep.batches_per_epoch(), 4);
  EXPECT_EQ(epoch_rows(keep, 0),
            (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9}}));
  DataLoader drop(make_x(10), make_y(10), 3, false, true, 0);
  EXPECT_EQ(drop.batches_per_epoch(), 3);
  EXPECT_EQ(epoch_rows(drop, 0),
            (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}));
  DataLoader empty(make_x(0), make_y(0), 4, true, false, 0);
  EXPECT_EQ(empty.batches_per_epoch(), 0);
  EXPECT_FALSE(empty.next().has_value());
}

TEST(DataLoader, ShuffleIsSeededPerEpochAndCoversEveryRowOnce) {
  DataLoader a(make_x(101), make_y(101), 8, true, false, 7);
  DataLoader b(make_x(101), make_y(101), 8, true, false, 7);
  DataLoader c(make_x(101), make_y(101), 8, true, false, 8);
  const auto e0 = epoch_rows(a, 0), e1 = epoch_rows(a, 1);
  EXPECT_EQ(epoch_rows(b, 0), e0);
  EXPECT_EQ(epoch_rows(b, 1), e1);
  EXPECT_EQ(epoch_rows(a, 0), e0);  // epoch 0 again: the same order
  EXPECT_NE(flat(e0), flat(e1));
  EXPECT_NE(flat(epoch_rows(c, 0)), flat(e0));
  std::vector<int64_t> sorted = flat(e1), all(101);
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 101; ++i) all[i] = i;
  EXPECT_EQ(sorted, all);
  std::vector<int64_t> identity = flat(e0);
  EXPECT_NE(identity, all);  // actually shuffled
}

TEST(DataLoader, ResumingAtABatchSeesTheSameBatches) {
  DataLoader full(make_x(50), make_y(50), 6, true, true, 3);
  const auto uninterrupted = epoch_rows(full, 4);
  DataLoader resumed(make_x(50), make_y(50), 6, true, true, 3);
  const auto tail = epoch_rows(resumed, 4, 5);
  ASSERT_EQ(tail.size(), uninterrupted.size() - 5);
  for (size_t i = 0; i < tail.size(); ++i) EXPECT_EQ(tail[i], uninterrupted[i + 5]);
  // Restarting mid-epoch (with batches still prefetched) is safe and starts over cleanly.
  resumed.start_epoch(4);
  ASSERT_TRUE(resumed.next().has_value());
  EXPECT_EQ(epoch_rows(resumed, 4), uninterrupted);
  EXPECT_TRUE(epoch_rows(resumed, 4, full.batches_per_epoch()).empty());
}

TEST(DataLoader, PrefetchDoesNotChangeTheBatches) {
  for (bool shuffle : {false, true}) {
    DataLoader sync(make_x(37), make_y(37), 5, shuffle, false, 11, 0);
    DataLoader async(make_x(37), make_y(37), 5, shuffle, false, 11, 2);
    DataLoader deep(make_x(37), make_y(37), 5, shuffle, false, 11, 16);
    for (int64_t epoch = 0; epoch < 3; ++epoch) {
      const auto want = epoch_rows(sync, epoch);
      EXPECT_EQ(epoch_rows(async, epoch), want);
      EXPECT_EQ(epoch_rows(deep, epoch), want);
    }
    EXPECT_GE(sync.wait_seconds(), 0.0);
    EXPECT_GE(async.wait_seconds(), 0.0);
  }
}

TEST(DataLoader, MultiDimensionalAndNonContiguousInputs) {
  // x: (4, 2, 2) from a transposed (non-contiguous) view; y: (4, 1) float.
  const Tensor x = arange(0, 16, 1, kFloat32).view({2, 2, 4}).permute({2, 0, 1});
  ASSERT_FALSE(x.is_contiguous());
  const Tensor y = arange(0, 4, 1, kFloat32).view({4, 1});
  DataLoader loader(x, y, 3, false, false, 0, 1);
  auto b = loader.next();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->x.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(b->y.shape(), (Shape{3, 1}));
  EXPECT_EQ(b->x.to_vector<float>(), x.slice(0, 0, 3).contiguous().to_vector<float>());
  b = loader.next();
  EXPECT_EQ(b->x.to_vector<float>(), x.slice(0, 3, 4).contiguous().to_vector<float>());
  EXPECT_EQ(b->y.to_vector<float>(), (std::vector<float>{3}));
}

TEST(DataLoader, DestroyingMidEpochDoesNotHang) {
  for (int trial = 0; trial < 20; ++trial) {
    DataLoader loader(make_x(1000), make_y(1000), 4, true, false, trial, 3);
    ASSERT_TRUE(loader.next().has_value());  // the producer is now running with a full queue
  }
  DataLoader never_started(make_x(100), make_y(100), 4, true, false, 0, 2);
}

TEST(DataLoader, BadArguments) {
  expect_error<ShapeError>([] { DataLoader(make_x(4), make_y(5), 2, false, false, 0); },
                           {"must have the same first dimension"});
  expect_error<ValueError>([] { DataLoader(make_x(4), make_y(4), 0, false, false, 0); },
                           {"batch_size must be > 0"});
  expect_error<ValueError>([] { DataLoader(make_x(4), make_y(4), 1, false, false, 0, -1); },
                           {"prefetch must be >= 0"});
  DataLoader loader(make_x(4), make_y(4), 2, false, false, 0);
  expect_error<ValueError>([&] { loader.start_epoch(0, 3); }, {"start_batch 3 is outside [0, 2]"});
}

TEST(DataLoader, DistributedShardsTogetherMakeTheGlobalBatches) {
  // 3 ranks with batch 2 each see, in batch k, exactly the rows of a one-process batch k of 6.
  const int64_t n = 30, world = 3;
  DataLoader one(make_x(n), make_y(n), {.batch_size = 6, .shuffle = true, .seed = 4});
  const auto global = epoch_rows(one, 1);
  std::vector<std::vector<std::vector<int64_t>>> per_rank;
  for (int64_t r = 0; r < world; ++r) {
    DataLoader shard(
        make_x(n), make_y(n),
        {.batch_size = 2, .shuffle = true, .seed = 4, .num_replicas = world, .rank = r});
    EXPECT_EQ(shard.shard_size(), 10);
    EXPECT_EQ(shard.batches_per_epoch(), 5);
    per_rank.push_back(epoch_rows(shard, 1));
  }
  ASSERT_EQ(global.size(), 5u);
  for (size_t k = 0; k < global.size(); ++k) {
    std::vector<int64_t> together;
    for (const auto& rank_batches : per_rank)
      together.insert(together.end(), rank_batches[k].begin(), rank_batches[k].end());
    std::vector<int64_t> expected = global[k];
    std::sort(together.begin(), together.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(together, expected) << "batch " << k;
  }
}

TEST(DataLoader, DistributedShardsPadByWrappingAroundAndCheckTheRank) {
  // 7 rows over 2 ranks: 4 each, the 8th position wraps to the epoch order's first row.
  DataLoader r0(make_x(7), make_y(7), {.batch_size = 4, .num_replicas = 2, .rank = 0});
  DataLoader r1(make_x(7), make_y(7), {.batch_size = 4, .num_replicas = 2, .rank = 1});
  EXPECT_EQ(flat(epoch_rows(r0, 0)), (std::vector<int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(flat(epoch_rows(r1, 0)), (std::vector<int64_t>{1, 3, 5, 0}));
  expect_error<Error>(
      [] { DataLoader bad(make_x(4), make_y(4), {.batch_size = 1, .num_replicas = 2, .rank = 2}); },
      {"rank 2 is outside [0, num_replicas = 2)"});
}
