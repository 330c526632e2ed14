// DataLoader with transforms and worker threads: determinism across worker counts and resume,
// per-epoch augmentation, transform errors, shutdown.
#include <gtest/gtest.h>

#include <algorithm>

#include "ember/data/loader.h"
#include "ember/ops/creation.h"
#include "support/expect.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;

namespace {

// x: (n, 1, 4, 4) with sample i filled with distinct values; y: (n,) = i.
Tensor images(int64_t n) {
  return arange(0, n * 16, 1, kFloat32).view({n, 1, 4, 4});
}

// A copy of x made without tensor ops (transforms run on loader threads).
Tensor copy_of(const Tensor& x) {
  Tensor out = detail::make_tensor(x.shape(), kFloat32);
  std::copy_n(x.data_ptr<float>(), x.numel(), out.data_ptr<float>());
  return out;
}

// Adds a random offset in [0, 1) to every pixel: easy to see which generator draw a sample got.
struct AddNoise : Transform {
  Tensor apply(const Tensor& x, Generator& gen) const override {
    Tensor out = copy_of(x);
    const float r = gen.next_float();
    float* p = out.data_ptr<float>();
    for (int64_t i = 0; i < out.numel(); ++i) p[i] += r;
    return out;
  }
  std::string repr() const override { return "AddNoise()"; }
};

// Throws on the sample whose first pixel is `bad`.
struct FailOn : Transform {
  explicit FailOn(float bad) : bad(bad) {}
  Tensor apply(const Tensor& x, Generator&) const override {
    EMBER_CHECK(x.data_ptr<float>()[0] != bad, "FailOn: bad sample ", bad);
    return copy_of(x);
  }
  std::string repr() const override { return "FailOn()"; }
  float bad;
};

DataLoaderOptions options(int workers, int prefetch = 2) {
  DataLoaderOptions o;
  o.batch_size = 5;
  o.shuffle = true;
  o.seed = 9;
  o.prefetch = prefetch;
  o.num_workers = workers;
  o.transform = std::make_shared<Compose>(std::vector<TransformPtr>{
      std::make_shared<AddNoise>(), std::make_shared<RandomHorizontalFlip>(),
      std::make_shared<RandomCrop>(4, 4, 1)});
  return o;
}

struct Seen {
  std::vector<float> x;
  std::vector<int64_t> y;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> epoch_batches(DataLoader& loader, int64_t epoch, int64_t start = 0) {
  loader.start_epoch(epoch, start);
  std::vector<Seen> out;
  int64_t index = start;
  while (auto b = loader.next()) {
    EXPECT_EQ(b->index, index++);
    EXPECT_EQ(b->x.dim(), 4);
    out.push_back({b->x.to_vector<float>(), b->y.to_vector<int64_t>()});
  }
  return out;
}

}  // namespace

TEST(DataLoaderWorkers, SameBatchesForAnyWorkerCountAndPrefetch) {
  const Tensor x = images(23), y = arange(23);
  DataLoader sync(x, y, options(1, 0));
  DataLoader one(x, y, options(1));
  DataLoader three(x, y, options(3, 4));
  DataLoader many(x, y, options(8, 1));
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    const auto want = epoch_batches(sync, epoch);
    ASSERT_EQ(want.size(), 5u);
    EXPECT_EQ(epoch_batches(one, epoch), want);
    EXPECT_EQ(epoch_batches(three, epoch), want);
    EXPECT_EQ(epoch_batches(many, epoch), want);
  }
}

TEST(DataLoaderWorkers, AugmentationChangesWithEpochAndFollowsRows) {
  const Tensor x = images(10), y = arange(10);
  DataLoaderOptions o = options(2);
  o.shuffle = false;
  o.transform = std::make_shared<AddNoise>();
  DataLoader loader(x, y, o);
  const auto e0 = epoch_batches(loader, 0), e1 = epoch_batches(loader, 1);
  ASSERT_EQ(e0.size(), 2u);
  EXPECT_EQ(e0[0].y, e1[0].y);  // same rows (no shuffle) ...
  EXPECT_NE(e0[0].x, e1[0].x);  // ... augmented differently
  for (const auto& b : e0)
    for (size_t i = 0; i < b.y.size(); ++i) {  // sample i of row r: r*16 + k + noise in [0, 1)
      const float base = static_cast<float>(b.y[i] * 16);
      const float noise = b.x[i * 16] - base;
      EXPECT_GE(noise, 0.0f);
      EXPECT_LT(noise, 1.0f);
      for (int k = 0; k < 16; ++k) EXPECT_FLOAT_EQ(b.x[i * 16 + k], base + k + noise);
    }
  // Samples within a batch draw different numbers.
  EXPECT_NE(e0[0].x[0] - 0.0f, e0[0].x[16] - 16.0f);
  EXPECT_EQ(batch_seed(9, 1, 2), batch_seed(9, 1, 2));
  EXPECT_NE(batch_seed(9, 1, 2), batch_seed(9, 2, 1));
}

TEST(DataLoaderWorkers, ResumeMidEpochReproducesBatches) {
  const Tensor x = images(40), y = arange(40);
  DataLoader full(x, y, options(3));
  const auto want = epoch_batches(full, 2);
  DataLoader resumed(x, y, options(2));
  const auto tail = epoch_batches(resumed, 2, 3);
  ASSERT_EQ(tail.size(), want.size() - 3);
  for (size_t i = 0; i < tail.size(); ++i) EXPECT_EQ(tail[i], want[i + 3]);
  // Restart mid-epoch while workers are busy.
  resumed.start_epoch(2);
  ASSERT_TRUE(resumed.next().has_value());
  EXPECT_EQ(epoch_batches(resumed, 2), want);
}

TEST(DataLoaderWorkers, TransformErrorsSurfaceInNextInOrder) {
  const Tensor x = images(30), y = arange(30);
  for (int workers : {1, 3}) {
    DataLoaderOptions o = options(workers, 4);
    o.shuffle = false;
    o.transform = std::make_shared<FailOn>(16.0f * 17);  // row 17: batch 3
    DataLoader loader(x, y, o);
    for (int b = 0; b < 3; ++b) ASSERT_TRUE(loader.next().has_value()) << "batch " << b;
    expect_error<ValueError>([&] { loader.next(); }, {"FailOn: bad sample 272"});
    expect_error<ValueError>([&] { loader.next(); }, {"FailOn: bad sample 272"});  // stays
    loader.start_epoch(0, 4);  // past the bad batch: works again
    EXPECT_TRUE(loader.next().has_value());
  }
  DataLoaderOptions o = options(1, 0);
  o.shuffle = false;
  o.transform = std::make_shared<FailOn>(0.0f);
  DataLoader sync(x, y, o);
  expect_error<ValueError>([&] { sync.next(); }, {"FailOn: bad sample 0"});
}

TEST(DataLoaderWorkers, DestructionMidEpochJoins) {
  for (int trial = 0; trial < 10; ++trial) {
    DataLoader loader(images(200), arange(200), options(4, 8));
    ASSERT_TRUE(loader.next().has_value());
  }
  DataLoader never(images(20), arange(20), options(3));
}

TEST(DataLoaderWorkers, BadOptions) {
  DataLoaderOptions o = options(0);
  expect_error<ValueError>([&] { DataLoader(images(4), arange(4), o); },
                           {"num_workers must be >= 1; got 0"});
  o = options(1);
  expect_error<ShapeError>(
      [&] {
        DataLoader(zeros({4, 16}), arange(4), o);
      },
      {"needs images x of shape (N, C, H, W); got (4, 16)"});
  // Samples of different shapes cannot form a batch.
  struct Ragged : Transform {
    Tensor apply(const Tensor& x, Generator&) const override {
      return zeros({1, 2, x.data_ptr<float>()[0] == 0 ? 2 : 3});
    }
    std::string repr() const override { return "Ragged()"; }
  };
  o.shuffle = false;
  o.transform = std::make_shared<Ragged>();
  DataLoader loader(images(4), arange(4), o);
  expect_error<ShapeError>([&] { loader.next(); }, {"Ragged()", "(1, 2, 3)", "(1, 2, 2)"});
}
