// DataLoader: mini-batches of (x, y) rows with seeded per-epoch shuffling and background prefetch.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "ember/core/tensor.h"
#include "ember/data/transforms.h"

namespace ember::data {

/// How a DataLoader batches, shuffles, augments and prefetches.
struct DataLoaderOptions {
  int64_t batch_size = 1;  ///< > 0
  bool shuffle = false;    ///< a new row order each epoch, from (seed, epoch)
  bool drop_last = false;  ///< drop the last batch when it is smaller than batch_size
  uint64_t seed = 0;       ///< row orders and augmentation
  int prefetch = 2;        ///< batches prepared ahead (0: built in next(), no threads)
  /// Applied to every sample x[i] (C, H, W) of a batch on the worker threads (x must be float32
  /// (N, C, H, W)); the transformed samples of one batch must share a shape. Null: x rows as is.
  std::shared_ptr<const Transform> transform = nullptr;
  int num_workers = 1;  ///< threads building whole batches (with prefetch > 0), delivered in order
  /// Distributed sharding (torch's DistributedSampler): every rank draws the same epoch order,
  /// pads it by wrapping around to a multiple of num_replicas and keeps positions rank,
  /// rank + num_replicas, ... So with batch_size = B / num_replicas, batch k of all ranks together
  /// holds exactly the rows of batch k of one process with batch size B.
  int64_t num_replicas = 1;
  int64_t rank = 0;  ///< in [0, num_replicas)
};

/// The seed of the augmentation generator for batch `batch` of epoch `epoch` (splitmix64 mixing),
/// so augmented batches depend only on (seed, epoch, batch): not on the worker count or resume.
uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t batch);

/// One mini-batch: x (B, ...) and y (B, ...) rows copied from the dataset; index is its position
/// in the epoch (0-based). The last batch of an epoch may be smaller unless drop_last.
struct Batch {
  Tensor x;
  Tensor y;
  int64_t index = 0;
};

/// Iterates over (x, y) in mini-batches. The row order of epoch e depends only on (seed, e), and
/// the augmentation of batch b only on (seed, e, b), so a run resumed at (epoch, batch) sees
/// exactly the batches the uninterrupted run saw, whatever num_workers. Batches are built with
/// plain row copies and transforms on raw buffers (no tensor ops, so no OpenMP work) by
/// num_workers background threads that keep up to max(prefetch, num_workers) batches ready and
/// deliver them in order. The threads start with start_epoch() and run on into the following
/// epochs, so calling start_epoch(epoch + 1) after the last batch keeps their work.
///
///   DataLoader loader(x, y, 32, /*shuffle=*/true, /*drop_last=*/false, seed);
///   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
///     loader.start_epoch(epoch);
///     while (auto batch = loader.next()) step(batch->x, batch->y);
///   }
class DataLoader {
 public:
  /// x: (N, ...) and y: (N, ...) CPU tensors with the same N (made contiguous once here).
  /// batch_size > 0; prefetch = batches prepared ahead (0: built in next(), no thread).
  /// Ready for epoch 0 after construction.
  DataLoader(Tensor x, Tensor y, int64_t batch_size, bool shuffle, bool drop_last, uint64_t seed,
             int prefetch = 2);
  /// The same with every option, including a per-sample transform and the worker count (>= 1).
  DataLoader(Tensor x, Tensor y, const DataLoaderOptions& options);
  /// Stops and joins the background threads (also mid-epoch).
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// ceil(N / batch_size), or floor with drop_last.
  int64_t batches_per_epoch() const;
  /// N, the number of rows.
  int64_t size() const { return n_; }
  /// The rows this rank sees per epoch: ceil(N / num_replicas) (N without sharding).
  int64_t shard_size() const { return shard_n_; }
  /// Starts epoch `epoch` at batch `start_batch` (0 <= start_batch <= batches_per_epoch()),
  /// stopping any batches still being prepared for the previous position.
  void start_epoch(int64_t epoch, int64_t start_batch = 0);
  /// The next batch of the epoch, or nullopt at its end. Errors from the producer rethrow here.
  std::optional<Batch> next();
  /// Total seconds next() was blocked because no batch was ready (with prefetch = 0: the time it
  /// spent building batches itself).
  double wait_seconds() const { return wait_seconds_; }

 private:
  using Order = std::shared_ptr<const std::vector<int64_t>>;
  Order epoch_order(int64_t epoch) const;
  Batch make_batch(const std::vector<int64_t>& order, int64_t epoch, int64_t index) const;
  Tensor transform_rows(const int64_t* rows, int64_t count, int64_t epoch, int64_t index) const;
  void work();
  void stop();

  Tensor x_, y_;
  int64_t n_ = 0;
  int64_t shard_n_ = 0;  // rows of this rank's shard
  DataLoaderOptions opts_;
  size_t window_ = 0;       // batches ready or being built ahead of next()
  Order order_;             // this epoch's row order (prefetch = 0)
  int64_t epoch_ = 0;       // the epoch next() serves
  int64_t next_batch_ = 0;  // the batch next() returns next

  double wait_seconds_ = 0;

  // The workers stream batches from stream position 0 = (start_epoch_, start_batch_) on, through
  // the end of the epoch and into the following epochs. Each claims the next position, builds
  // it, and files it under its position; next() takes the positions in order.
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t start_epoch_ = 0, start_batch_ = 0;
  int64_t claimed_ = 0;   // positions handed to workers
  int64_t consumed_ = 0;  // positions taken by next()
  std::map<int64_t, Batch> ready_;
  std::map<int64_t, Order> orders_;  // row orders of the epochs being built
  bool stop_ = false;
  int64_t error_pos_ = 0;  // the first position that failed (when error_)
  std::exception_ptr error_;
};

}  // namespace ember::data
