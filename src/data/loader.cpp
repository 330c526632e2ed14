// DataLoader: per-epoch orders from (seed, epoch), row-copy or transformed batches, worker threads.
#include "ember/data/loader.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

#include "ember/core/error.h"
#include "ember/core/generator.h"

namespace ember::data {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

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

DataLoaderOptions positional(int64_t batch_size, bool shuffle, bool drop_last, uint64_t seed,
                             int prefetch) {
  DataLoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = shuffle;
  o.drop_last = drop_last;
  o.seed = seed;
  o.prefetch = prefetch;
  return o;
}

}  // namespace

uint64_t batch_seed(uint64_t seed, int64_t epoch, int64_t batch) {
  return splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(epoch)) ^
                    static_cast<uint64_t>(batch));
}

DataLoader::DataLoader(Tensor x, Tensor y, int64_t batch_size, bool shuffle, bool drop_last,
                       uint64_t seed, int prefetch)
    : DataLoader(std::move(x), std::move(y),
                 positional(batch_size, shuffle, drop_last, seed, prefetch)) {}

DataLoader::DataLoader(Tensor x, Tensor y, const DataLoaderOptions& options) : opts_(options) {
  EMBER_CHECK(x.defined() && y.defined(), "DataLoader: x and y must be defined tensors");
  EMBER_CHECK_SHAPE(x.dim() >= 1 && y.dim() >= 1 && x.size(0) == y.size(0), "DataLoader: x ",
                    x.shape_str(), " and y ", y.shape_str(),
                    " must have the same first dimension N");
  EMBER_CHECK_T(DeviceError, x.device().is_cpu() && y.device().is_cpu(),
                "DataLoader: x and y must be CPU tensors; got ", x.device(), " and ", y.device());
  EMBER_CHECK(options.batch_size > 0, "DataLoader: batch_size must be > 0; got ",
              options.batch_size);
  EMBER_CHECK(options.prefetch >= 0, "DataLoader: prefetch must be >= 0; got ", options.prefetch);
  EMBER_CHECK(options.num_workers >= 1, "DataLoader: num_workers must be >= 1; got ",
              options.num_workers);
  if (options.transform) {
    EMBER_CHECK_SHAPE(x.dim() == 4,
                      "DataLoader: a transform needs images x of shape (N, C, H, W); "
                      "got ",
                      x.shape_str());
    EMBER_CHECK_DTYPE(x.dtype() == kFloat32, "DataLoader: a transform needs float32 images x; got ",
                      x.dtype());
  }
  x_ = x.contiguous();
  y_ = y.contiguous();
  n_ = x.size(0);
  EMBER_CHECK(options.num_replicas >= 1 && options.rank >= 0 && options.rank < options.num_replicas,
              "DataLoader: rank ", options.rank,
              " is outside [0, num_replicas = ", options.num_replicas, ")");
  shard_n_ = (n_ + options.num_replicas - 1) / options.num_replicas;
  window_ = options.prefetch == 0
                ? 0
                : static_cast<size_t>(std::max(options.prefetch, options.num_workers));
  start_epoch(0);
}

DataLoader::~DataLoader() {
  stop();
}

int64_t DataLoader::batches_per_epoch() const {
  return opts_.drop_last ? shard_n_ / opts_.batch_size
                         : (shard_n_ + opts_.batch_size - 1) / opts_.batch_size;
}

void DataLoader::start_epoch(int64_t epoch, int64_t start_batch) {
  EMBER_CHECK(start_batch >= 0 && start_batch <= batches_per_epoch(), "DataLoader: start_batch ",
              start_batch, " is outside [0, ", batches_per_epoch(), "]");
  // The running workers already stream from that position (the same one, or the next epoch's
  // start after the last batch): keep them and the batches they have made.
  const bool same = epoch == epoch_ && start_batch == next_batch_;
  const bool next_epoch =
      start_batch == 0 && epoch == epoch_ + 1 && next_batch_ == batches_per_epoch();
  const bool continues = !workers_.empty() && (same || next_epoch);
  if (!continues) stop();
  epoch_ = epoch;
  next_batch_ = start_batch;
  if (window_ == 0) {
    order_ = epoch_order(epoch);
  } else if (workers_.empty() && batches_per_epoch() > 0) {
    // Start now: the first batches are ready by the first next().
    start_epoch_ = epoch;
    start_batch_ = start_batch;
    claimed_ = consumed_ = 0;
    for (int i = 0; i < opts_.num_workers; ++i) workers_.emplace_back(&DataLoader::work, this);
  }
}

DataLoader::Order DataLoader::epoch_order(int64_t epoch) const {
  auto order = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(n_));
  for (int64_t i = 0; i < n_; ++i) (*order)[static_cast<size_t>(i)] = i;
  if (opts_.shuffle) {
    Generator gen(opts_.seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(epoch + 1)));
    for (size_t i = order->size(); i > 1; --i)
      std::swap((*order)[i - 1], (*order)[gen.next_below(i)]);
  }
  if (opts_.num_replicas == 1) return order;
  auto shard = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(shard_n_));
  for (int64_t i = 0; i < shard_n_; ++i)  // padded by wrapping around, as DistributedSampler
    (*shard)[static_cast<size_t>(i)] =
        (*order)[static_cast<size_t>((opts_.rank + i * opts_.num_replicas) % n_)];
  return shard;
}

// x: (count, C', H', W'): transform(x[rows[i]]) with the generator of batch (epoch, index).
Tensor DataLoader::transform_rows(const int64_t* rows, int64_t count, int64_t epoch,
                                  int64_t index) const {
  // Ranks of a distributed run augment their shards of batch `index` differently.
  Generator gen(batch_seed(opts_.seed, epoch, index * opts_.num_replicas + opts_.rank));
  const Shape sample_shape(x_.shape().begin() + 1, x_.shape().end());
  const Shape sample_strides = detail::contiguous_strides(sample_shape);
  const int64_t row_numel = detail::shape_numel(sample_shape);
  Tensor out;
  for (int64_t i = 0; i < count; ++i) {
    const Tensor row =
        detail::make_view(x_, sample_shape, sample_strides, x_.offset() + rows[i] * row_numel);
    const Tensor t = opts_.transform->apply(row, gen);
    EMBER_CHECK(t.defined() && t.dtype() == kFloat32 && t.dim() == 3 && t.is_contiguous(),
                "DataLoader: transform ", opts_.transform->repr(),
                " must return a contiguous float32 (C, H, W) sample");
    if (i == 0) {
      out = detail::make_tensor({count, t.size(0), t.size(1), t.size(2)}, kFloat32);
    } else {
      EMBER_CHECK_SHAPE(
          t.size(0) == out.size(1) && t.size(1) == out.size(2) && t.size(2) == out.size(3),
          "DataLoader: transform ", opts_.transform->repr(), " returned a sample of ", "shape ",
          t.shape_str(), " after one of shape (", out.size(1), ", ", out.size(2), ", ", out.size(3),
          ") in the same batch");
    }
    std::memcpy(out.data_ptr<float>() + i * t.numel(), t.data_ptr<float>(),
                static_cast<size_t>(t.numel()) * sizeof(float));
  }
  if (!out.defined()) out = detail::make_tensor({0, 0, 0, 0}, kFloat32);
  return out;
}

Batch DataLoader::make_batch(const std::vector<int64_t>& order, int64_t epoch,
                             int64_t index) const {
  const int64_t begin = index * opts_.batch_size;
  const int64_t count = std::min(opts_.batch_size, shard_n_ - begin);
  const int64_t* rows = order.data() + begin;
  Tensor x =
      opts_.transform ? transform_rows(rows, count, epoch, index) : gather_rows(x_, rows, count);
  return {std::move(x), gather_rows(y_, rows, count), index};
}

void DataLoader::work() {
  const int64_t per_epoch = batches_per_epoch();
  for (;;) {
    int64_t pos = 0;
    Order order;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || (claimed_ < consumed_ + static_cast<int64_t>(window_) &&
                         (!error_ || claimed_ < error_pos_));
      });
      if (stop_) return;
      pos = claimed_++;
    }
    const int64_t epoch = start_epoch_ + (start_batch_ + pos) / per_epoch;
    const int64_t index = (start_batch_ + pos) % per_epoch;
    try {
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = orders_.find(epoch);
        if (it != orders_.end()) order = it->second;
      }
      if (!order) {
        order = epoch_order(epoch);
        std::lock_guard<std::mutex> lock(mu_);
        orders_.emplace(epoch, order);
        // Forget the orders of epochs the consumer has left.
        const int64_t current = start_epoch_ + (start_batch_ + consumed_) / per_epoch;
        while (!orders_.empty() && orders_.begin()->first < current) orders_.erase(orders_.begin());
      }
      Batch batch = make_batch(*order, epoch, index);
      std::lock_guard<std::mutex> lock(mu_);
      ready_.emplace(pos, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_ || pos < error_pos_) {
        error_ = std::current_exception();
        error_pos_ = pos;
      }
    }
    cv_.notify_all();
  }
}

std::optional<Batch> DataLoader::next() {
  if (next_batch_ >= batches_per_epoch()) return std::nullopt;
  using Clock = std::chrono::steady_clock;
  std::optional<Batch> batch;
  if (window_ == 0) {
    const auto start = Clock::now();
    batch = make_batch(*order_, epoch_, next_batch_);
    wait_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
  } else {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const int64_t pos = consumed_;
      const auto available = [&] { return ready_.count(pos) > 0 || (error_ && error_pos_ <= pos); };
      if (!available()) {  // the step really waits: count the time until a batch
        const auto start = Clock::now();
        cv_.wait(lock, available);
        wait_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
      }
      auto it = ready_.find(pos);
      if (it == ready_.end()) std::rethrow_exception(error_);
      EMBER_ASSERT(it->second.index == next_batch_);
      batch = std::move(it->second);
      ready_.erase(it);
      ++consumed_;
    }
    cv_.notify_all();  // room for the workers
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
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  ready_.clear();
  orders_.clear();
  stop_ = false;
  error_ = nullptr;
  error_pos_ = 0;
}

}  // namespace ember::data
