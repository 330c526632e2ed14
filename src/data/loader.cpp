// DataLoader: per-epoch orders from (seed, epoch), row-copy batches, a bounded producer thread.
#include "ember/data/loader.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "ember/core/error.h"
#include "ember/core/generator.h"

namespace ember::data {

namespace {

// A batch-sized copy of rows `rows` of the contiguous tensor t: (len(rows), t.shape[1:]...).
Tensor gather_rows(const Tensor& t, const int64_t* rows, int64_t count) {
  Shape shape = t.shape();
  shape[0] = count;
  Tensor out = detail::make_tensor(shape, t.dtype());
  const size_t row_bytes = t.size(0) == 0 ? 0 : t.numel() / t.size(0) * t.element_size();
  const auto* src = static_cast<const char*>(t.raw_data());
  auto* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(dst + i * row_bytes, src + rows[i] * row_bytes, row_bytes);
  return out;
}

}  // namespace

DataLoader::DataLoader(Tensor x, Tensor y, int64_t batch_size, bool shuffle, bool drop_last,
                       uint64_t seed, int prefetch)
    : batch_size_(batch_size), shuffle_(shuffle), drop_last_(drop_last), seed_(seed) {
  EMBER_CHECK(x.defined() && y.defined(), "DataLoader: x and y must be defined tensors");
  EMBER_CHECK_SHAPE(x.dim() >= 1 && y.dim() >= 1 && x.size(0) == y.size(0), "DataLoader: x ",
                    x.shape_str(), " and y ", y.shape_str(),
                    " must have the same first dimension N");
  EMBER_CHECK_T(DeviceError, x.device().is_cpu() && y.device().is_cpu(),
                "DataLoader: x and y must be CPU tensors; got ", x.device(), " and ", y.device());
  EMBER_CHECK(batch_size > 0, "DataLoader: batch_size must be > 0; got ", batch_size);
  EMBER_CHECK(prefetch >= 0, "DataLoader: prefetch must be >= 0; got ", prefetch);
  x_ = x.contiguous();
  y_ = y.contiguous();
  n_ = x.size(0);
  prefetch_ = static_cast<size_t>(prefetch);
  start_epoch(0);
}

DataLoader::~DataLoader() {
  stop();
}

int64_t DataLoader::batches_per_epoch() const {
  return drop_last_ ? n_ / batch_size_ : (n_ + batch_size_ - 1) / batch_size_;
}

void DataLoader::start_epoch(int64_t epoch, int64_t start_batch) {
  EMBER_CHECK(start_batch >= 0 && start_batch <= batches_per_epoch(), "DataLoader: start_batch ",
              start_batch, " is outside [0, ", batches_per_epoch(), "]");
  // The running producer already streams from that position (the same one, or the next epoch's
  // start after the last batch): keep it and the batches it has made.
  const bool same = epoch == epoch_ && start_batch == next_batch_;
  const bool next_epoch =
      start_batch == 0 && epoch == epoch_ + 1 && next_batch_ == batches_per_epoch();
  const bool continues = thread_.joinable() && (same || next_epoch);
  if (!continues) stop();
  epoch_ = epoch;
  next_batch_ = start_batch;
  if (prefetch_ == 0)
    order_ = epoch_order(epoch);
  else if (!thread_.joinable())  // start now: the first batches are ready by the first next()
    thread_ = std::thread(&DataLoader::produce, this, epoch_, next_batch_);
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(n_));
  for (int64_t i = 0; i < n_; ++i) order[static_cast<size_t>(i)] = i;
  if (shuffle_) {
    Generator gen(seed_ ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(epoch + 1)));
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[gen.next_below(i)]);
  }
  return order;
}

Batch DataLoader::make_batch(const std::vector<int64_t>& order, int64_t index) const {
  const int64_t begin = index * batch_size_;
  const int64_t count = std::min(batch_size_, n_ - begin);
  return {gather_rows(x_, order.data() + begin, count),
          gather_rows(y_, order.data() + begin, count), index};
}

void DataLoader::produce(int64_t epoch, int64_t from) {
  if (batches_per_epoch() == 0) return;  // nothing to stream (drop_last with N < batch_size)
  for (;; ++epoch, from = 0) {
    const std::vector<int64_t> order = epoch_order(epoch);
    for (int64_t b = from; b < batches_per_epoch(); ++b) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || queue_.size() < prefetch_; });
        if (stop_) return;
      }
      try {
        Batch batch = make_batch(order, b);
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back({epoch, std::move(batch)});
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        error_ = std::current_exception();
        cv_.notify_all();
        return;
      }
      cv_.notify_all();
    }
  }
}

std::optional<Batch> DataLoader::next() {
  if (next_batch_ >= batches_per_epoch()) return std::nullopt;
  using Clock = std::chrono::steady_clock;
  std::optional<Batch> batch;
  if (prefetch_ == 0) {
    const auto start = Clock::now();
    batch = make_batch(order_, next_batch_);
    wait_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
  } else {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (queue_.empty() && !error_) {  // the step really waits: count the time until a batch
        const auto start = Clock::now();
        cv_.wait(lock, [&] { return !queue_.empty() || error_; });
        wait_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
      }
      if (queue_.empty()) std::rethrow_exception(error_);
      EMBER_ASSERT(queue_.front().epoch == epoch_ && queue_.front().batch.index == next_batch_);
      batch = std::move(queue_.front().batch);
      queue_.pop_front();
    }
    cv_.notify_all();  // room for the producer
  }
  ++next_batch_;
  return batch;
}

void DataLoader::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  queue_.clear();
  stop_ = false;
  error_ = nullptr;
}

}  // namespace ember::data
