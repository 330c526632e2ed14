// DataLoader: mini-batches of (x, y) rows with seeded per-epoch shuffling and background prefetch.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::data {

/// One mini-batch: x (B, ...) and y (B, ...) rows copied from the dataset; index is its position
/// in the epoch (0-based). The last batch of an epoch may be smaller unless drop_last.
struct Batch {
  Tensor x;
  Tensor y;
  int64_t index = 0;
};

/// Iterates over (x, y) in mini-batches. The row order of epoch e depends only on (seed, e), so a
/// run resumed at (epoch, batch) sees exactly the batches the uninterrupted run saw. Batches are
/// built with plain row copies (no tensor ops, so no OpenMP work) on a background thread that
/// keeps up to `prefetch` batches ready. The thread starts with start_epoch() and runs on into the
/// following epochs, so calling start_epoch(epoch + 1) after the last batch keeps its work.
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
  /// Stops and joins the background thread (also mid-epoch).
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  /// ceil(N / batch_size), or floor with drop_last.
  int64_t batches_per_epoch() const;
  /// N, the number of rows.
  int64_t size() const { return n_; }
  /// Starts epoch `epoch` at batch `start_batch` (0 <= start_batch <= batches_per_epoch()),
  /// stopping any batches still being prepared for the previous position.
  void start_epoch(int64_t epoch, int64_t start_batch = 0);
  /// The next batch of the epoch, or nullopt at its end. Errors from the producer rethrow here.
  std::optional<Batch> next();
  /// Total seconds next() was blocked because no batch was ready (with prefetch = 0: the time it
  /// spent building batches itself).
  double wait_seconds() const { return wait_seconds_; }

 private:
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  Batch make_batch(const std::vector<int64_t>& order, int64_t index) const;
  void produce(int64_t epoch, int64_t from);
  void stop();

  Tensor x_, y_;
  int64_t n_ = 0;
  int64_t batch_size_ = 1;
  bool shuffle_ = false;
  bool drop_last_ = false;
  uint64_t seed_ = 0;
  size_t prefetch_ = 0;
  std::vector<int64_t> order_;  // this epoch's row order
  int64_t epoch_ = 0;           // the epoch next() serves
  int64_t next_batch_ = 0;      // the batch next() returns next
  double wait_seconds_ = 0;

  // The producer streams batches from (epoch_, next_batch_) on, through the end of the epoch and
  // into the following epochs, so the first batches of the next epoch are ready when it starts.
  struct Ready {
    int64_t epoch;
    Batch batch;
  };
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Ready> queue_;  // ready batches, in stream order
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace ember::data
