// The NCCL process group: CUDA tensors, collectives on one CUDA stream per group, the ncclUniqueId
// from rank 0 carried over the MPI group.
#include <cuda_runtime.h>
#include <nccl.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "dist/dist_internal.h"
#ifdef EMBER_WITH_CUDA
#include "backend/cuda/cuda_runtime.h"
#endif

namespace ember::dist::detail {
namespace {

// Note [NCCL stream]
// A group owns one CUDA stream. Before each collective it waits (an event, not the host) for the
// work queued so far on the stream that wrote the tensors: the CUDA backend's stream of the device
// (Note [CUDA streams]), or the legacy default stream in a build without the CUDA backend. So a
// gradient is reduced only after the kernel that computed it, while the backend goes on queueing
// kernels. The caller must not touch the tensors until Work::wait returns. Work::wait polls an
// event recorded after the collective (cudaEventQuery, with the group's deadline and
// ncclCommGetAsyncError), so a rank that never arrives makes wait() throw instead of hanging; the
// communicator is then aborted and the group is broken. NCCL cannot tell which rank is missing, so
// the message says so.

void check_cuda(cudaError_t rc, const char* call) {
  if (rc != cudaSuccess)
    EMBER_THROW(DistError, "nccl: ", call, " failed: ", cudaGetErrorString(rc));
}

void check_nccl(ncclResult_t rc, const char* call, ncclComm_t comm = nullptr) {
  if (rc == ncclSuccess || rc == ncclInProgress) return;
  const char* last = comm != nullptr ? ncclGetLastError(comm) : "";
  EMBER_THROW(DistError, "nccl: ", call, " failed: ", ncclGetErrorString(rc),
              (last != nullptr && *last) ? std::string(" (") + last + ")" : std::string());
}

ncclDataType_t nccl_type(DType d) {
  switch (d) {
    case DType::Float32:
      return ncclFloat32;
    case DType::Float64:
      return ncclFloat64;
    case DType::Int32:
      return ncclInt32;
    case DType::Int64:
      return ncclInt64;
    case DType::BFloat16:
      return ncclBfloat16;
    default:
      EMBER_THROW(DistError, "nccl: no NCCL datatype for ", d);
  }
}

ncclRedOp_t nccl_op(const char* what, ReduceOp op, DType d) {
  switch (op) {
    case ReduceOp::Sum:
      return ncclSum;
    case ReduceOp::Max:
      return ncclMax;
    case ReduceOp::Avg:
      if (!is_floating(d))
        EMBER_THROW(DistError, what, ": ReduceOp::Avg on ", d,
                    " is not supported by backend nccl; use Sum and divide");
      return ncclAvg;
  }
  return ncclSum;
}

// The number of CUDA devices; throws DistError when there is none.
int device_count() {
  int count = 0;
  cudaError_t rc = cudaGetDeviceCount(&count);
  if (rc != cudaSuccess || count == 0)
    EMBER_THROW(DistError, "backend nccl: no CUDA device (cudaGetDeviceCount: ",
                rc != cudaSuccess ? cudaGetErrorString(rc) : "0 devices", ")");
  return count;
}

// What the group and its pending works share.
struct NcclState {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  int device = 0;
  int rank = 0;
  double timeout_seconds = 300;
  std::mutex mu;
  std::string broken;  // guarded by mu; the first failure
};

class NcclWork final : public Work {
 public:
  NcclWork(std::shared_ptr<NcclState> state, std::string what, std::vector<Tensor> keep)
      : state_(std::move(state)), what_(std::move(what)), keep_(std::move(keep)) {
    check_cuda(cudaEventCreate(&start_ev_), "cudaEventCreate");
    check_cuda(cudaEventCreate(&end_ev_), "cudaEventCreate");
    check_cuda(cudaEventRecord(start_ev_, state_->stream), "cudaEventRecord");
  }
  ~NcclWork() override {
    if (!is_done()) {
      std::lock_guard<std::mutex> lock(state_->mu);
      // keep_ must outlive the collective; a broken communicator may never finish it.
      if (state_->broken.empty()) cudaEventSynchronize(end_ev_);
    }
    cudaEventDestroy(start_ev_);
    cudaEventDestroy(end_ev_);
  }

  void recorded() { check_cuda(cudaEventRecord(end_ev_, state_->stream), "cudaEventRecord"); }

  void wait() override {
    if (!is_done()) poll();
    Work::wait();
  }

  bool is_completed() override {
    if (is_done()) return true;
    if (cudaEventQuery(end_ev_) != cudaSuccess) return false;
    finish();
    return true;
  }

  double seconds() const override {
    float ms = 0;
    if (cudaEventQuery(end_ev_) != cudaSuccess) return Work::seconds();
    if (cudaEventElapsedTime(&ms, start_ev_, end_ev_) != cudaSuccess) return Work::seconds();
    return ms / 1e3;
  }

 private:
  bool is_done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

  void poll() {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(state_->timeout_seconds));
    int64_t sleep_us = 0;
    while (true) {
      cudaError_t rc = cudaEventQuery(end_ev_);
      if (rc == cudaSuccess) break;
      try {
        if (rc != cudaErrorNotReady) check_cuda(rc, "cudaEventQuery");
        ncclResult_t async = ncclSuccess;
        check_nccl(ncclCommGetAsyncError(state_->comm, &async), "ncclCommGetAsyncError");
        check_nccl(async, what_.c_str(), state_->comm);
        if (Clock::now() >= deadline) {
          char secs[32];
          std::snprintf(secs, sizeof secs, "%g", state_->timeout_seconds);
          EMBER_THROW(DistError, what_, " timed out after ", secs, " s on rank ", state_->rank,
                      ": a rank did not arrive or stalled (NCCL cannot tell which); check that "
                      "every rank is alive, or raise --dist-timeout");
        }
      } catch (const DistError& e) {
        {
          std::lock_guard<std::mutex> lock(state_->mu);
          if (state_->broken.empty()) {
            state_->broken = e.message();
            ncclCommAbort(state_->comm);
          }
        }
        finish(std::current_exception());
        return;
      }
      if (Clock::now() - start < std::chrono::microseconds(200)) continue;
      sleep_us = std::min<int64_t>(std::max<int64_t>(2 * sleep_us, 10), 500);
      std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    }
    finish();
    keep_.clear();
  }

  std::shared_ptr<NcclState> state_;
  std::string what_;
  std::vector<Tensor> keep_;
  cudaEvent_t start_ev_ = nullptr;
  cudaEvent_t end_ev_ = nullptr;
};

class NcclGroup final : public ProcessGroup {
 public:
  NcclGroup(std::shared_ptr<ProcessGroup> mpi, double timeout_seconds)
      : ProcessGroup(mpi->rank(), mpi->size(), "nccl", timeout_seconds),
        mpi_(std::move(mpi)),
        state_(std::make_shared<NcclState>()) {
    const int count = device_count();
    state_->device = launch_env().local_rank % count;
    state_->rank = rank_;
    state_->timeout_seconds = timeout_seconds;
    check_cuda(cudaSetDevice(state_->device), "cudaSetDevice");

    ncclUniqueId id;
    std::memset(&id, 0, sizeof id);
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    constexpr int64_t kWords = (sizeof(ncclUniqueId) + 7) / 8;
    Tensor words = ::ember::detail::make_tensor({kWords}, kInt64);
    std::memset(words.raw_data(), 0, kWords * 8);
    std::memcpy(words.raw_data(), &id, sizeof id);
    mpi_->broadcast(words, 0);
    std::memcpy(&id, words.raw_data(), sizeof id);

    check_cuda(cudaStreamCreateWithFlags(&state_->stream, cudaStreamNonBlocking),
               "cudaStreamCreateWithFlags");
    check_cuda(cudaEventCreateWithFlags(&ready_ev_, cudaEventDisableTiming), "cudaEventCreate");
    check_nccl(ncclCommInitRank(&state_->comm, size_, id, rank_), "ncclCommInitRank");
    check_cuda(cudaMalloc(&barrier_buf_, sizeof(float)), "cudaMalloc");
    check_cuda(cudaMemset(barrier_buf_, 0, sizeof(float)), "cudaMemset");
  }

  ~NcclGroup() override {
    cudaSetDevice(state_->device);
    bool broken = false;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      broken = !state_->broken.empty();
    }
    if (!broken) {
      cudaStreamSynchronize(state_->stream);
      ncclCommDestroy(state_->comm);
    }
    cudaFree(barrier_buf_);
    cudaEventDestroy(ready_ev_);
    cudaStreamDestroy(state_->stream);
  }

  std::shared_ptr<Work> allreduce_async(Tensor t, ReduceOp op) override {
    check_tensor("allreduce", "tensor", t, backend_);
    check_device("allreduce", t);
    ncclRedOp_t rop = nccl_op("allreduce", op, t.dtype());
    auto work = start("allreduce", t.numel(), t.dtype(), {t});
    check_nccl(ncclAllReduce(t.raw_data(), t.raw_data(), static_cast<size_t>(t.numel()),
                             nccl_type(t.dtype()), rop, state_->comm, state_->stream),
               "ncclAllReduce", state_->comm);
    t.storage()->bump_version();
    work->recorded();
    return work;
  }

  void broadcast(Tensor t, int root) override {
    check_tensor("broadcast", "tensor", t, backend_);
    check_device("broadcast", t);
    if (root < 0 || root >= size_)
      EMBER_THROW(DistError, "broadcast: root ", root, " is not a rank of this group (size ", size_,
                  ")");
    auto work = start("broadcast", t.numel(), t.dtype(), {t});
    check_nccl(ncclBroadcast(t.raw_data(), t.raw_data(), static_cast<size_t>(t.numel()),
                             nccl_type(t.dtype()), root, state_->comm, state_->stream),
               "ncclBroadcast", state_->comm);
    t.storage()->bump_version();
    work->recorded();
    work->wait();
  }

  void allgather(const Tensor& in, Tensor out) override {
    check_allgather(in, out, size_, backend_);
    check_device("allgather", in);
    auto work = start("allgather", in.numel(), in.dtype(), {in, out});
    check_nccl(ncclAllGather(in.raw_data(), out.raw_data(), static_cast<size_t>(in.numel()),
                             nccl_type(in.dtype()), state_->comm, state_->stream),
               "ncclAllGather", state_->comm);
    out.storage()->bump_version();
    work->recorded();
    work->wait();
  }

  void reduce_scatter(const Tensor& in, Tensor out, ReduceOp op) override {
    check_reduce_scatter(in, out, size_, backend_);
    check_device("reduce_scatter", in);
    ncclRedOp_t rop = nccl_op("reduce_scatter", op, in.dtype());
    auto work = start("reduce_scatter", in.numel(), in.dtype(), {in, out});
    check_nccl(ncclReduceScatter(in.raw_data(), out.raw_data(), static_cast<size_t>(out.numel()),
                                 nccl_type(in.dtype()), rop, state_->comm, state_->stream),
               "ncclReduceScatter", state_->comm);
    out.storage()->bump_version();
    work->recorded();
    work->wait();
  }

  void barrier() override {
    auto work = start("barrier", 1, kFloat32, {});
    check_nccl(ncclAllReduce(barrier_buf_, barrier_buf_, 1, ncclFloat32, ncclSum, state_->comm,
                             state_->stream),
               "ncclAllReduce", state_->comm);
    work->recorded();
    work->wait();
  }

  [[noreturn]] void abort(const std::string& why, int code) override {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (state_->broken.empty()) {
        state_->broken = "aborted: " + why;
        ncclCommAbort(state_->comm);
      }
    }
    mpi_->abort(why, code);
    std::_Exit(code);  // not reached: MPI_Abort ends the process
  }

 private:
  void check_device(const char* op, const Tensor& t) const {
    if (t.device().index != state_->device)
      EMBER_THROW(DistError, op, ": tensor is on ", t.device(), " but this rank's NCCL device is ",
                  Device::cuda(state_->device));
  }

  std::shared_ptr<NcclWork> start(const char* op, int64_t numel, DType dtype,
                                  std::vector<Tensor> keep) {
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (!state_->broken.empty())
        EMBER_THROW(DistError, op, ": the process group is broken by an earlier failure (",
                    state_->broken, "); end the job (ProcessGroup::abort)");
    }
    check_cuda(cudaSetDevice(state_->device), "cudaSetDevice");
    // Note [NCCL stream]: run after what is queued on the producing stream.
#ifdef EMBER_WITH_CUDA
    cudaStream_t producer = cuda::detail::stream(state_->device);
#else
    cudaStream_t producer = nullptr;  // the legacy default stream
#endif
    check_cuda(cudaEventRecord(ready_ev_, producer), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(state_->stream, ready_ev_, 0), "cudaStreamWaitEvent");
    std::string what = std::string(op) + " #" + std::to_string(++seq_);
    if (std::string(op) != "barrier") what += " (" + describe_payload(numel, dtype) + ")";
    return std::make_shared<NcclWork>(state_, std::move(what), std::move(keep));
  }

  std::shared_ptr<ProcessGroup> mpi_;
  std::shared_ptr<NcclState> state_;
  void* barrier_buf_ = nullptr;
  cudaEvent_t ready_ev_ = nullptr;
  std::atomic<int64_t> seq_{0};
};

}  // namespace

void check_nccl_device() {
  device_count();
}

std::shared_ptr<ProcessGroup> make_nccl_group(std::shared_ptr<ProcessGroup> mpi,
                                              double timeout_seconds) {
  return std::make_shared<NcclGroup>(std::move(mpi), timeout_seconds);
}

}  // namespace ember::dist::detail
