// Process groups: collectives (allreduce, broadcast, allgather, reduce-scatter) over MPI and NCCL.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <string>

#include "ember/core/error.h"
#include "ember/core/tensor.h"

namespace ember::dist {

/// How a collective combines the ranks' values. Avg = Sum / size (integer division for int64).
enum class ReduceOp { Sum, Avg, Max };

/// "sum", "avg", "max".
const char* reduce_op_name(ReduceOp op);

/// Thrown on init failures, timeouts (naming the rank(s) that did not arrive), and misuse.
class DistError : public Error {
  using Error::Error;
};

/// What init_process_group starts.
struct InitOptions {
  std::string backend = "mpi";   ///< "mpi" | "nccl"
  double timeout_seconds = 300;  ///< any collective waiting longer than this fails with DistError
};

/// A started collective. wait() blocks until done (rethrowing its DistError); seconds() is the time
/// from the moment the collective started communicating to its completion (so the seconds of a
/// sequence of collectives add up to the time the link was busy; see Note [Communication thread]).
class Work {
 public:
  Work() = default;
  virtual ~Work() = default;
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;

  /// Blocks until the collective is done; throws its DistError if it failed.
  virtual void wait();
  /// True once the collective is done (successfully or not); never blocks.
  virtual bool is_completed();
  /// Seconds from start to completion (so far, while still running; 0 before it started).
  virtual double seconds() const;

  // ---- for backends ----
  /// Marks the start of the communication (the clock of seconds()).
  void mark_started();
  /// Completes the work: error empty on success. Wakes every waiter.
  void finish(std::exception_ptr error = nullptr);

 protected:
  using Clock = std::chrono::steady_clock;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  bool done_ = false;
  std::exception_ptr error_;
  Clock::time_point start_;
  Clock::time_point end_;
};

/// A set of processes (ranks 0..size-1) that run collectives together. Every rank must call the
/// same collectives in the same order with matching shapes and dtypes.
class ProcessGroup {
 public:
  ProcessGroup(int rank, int size, std::string backend, double timeout_seconds);
  virtual ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  const std::string& backend() const { return backend_; }
  /// The timeout of every collective, in seconds.
  double timeout_seconds() const { return timeout_seconds_; }

  /// Sums (or averages, or takes the max of) t over all ranks, in place. t: contiguous, any shape,
  /// float32/float64/int64 (int32 too; bfloat16 on nccl only). Returns at once; the tensor must
  /// not be read or written until the Work is done.
  virtual std::shared_ptr<Work> allreduce_async(Tensor t, ReduceOp op = ReduceOp::Sum) = 0;
  /// allreduce_async(t, op)->wait().
  void allreduce(Tensor t, ReduceOp op = ReduceOp::Sum);
  /// Copies root's t into every rank's t, in place (same shape and dtype on all ranks).
  virtual void broadcast(Tensor t, int root = 0) = 0;
  /// in: contiguous (...); out: contiguous (size(), ...); out[r] = rank r's in.
  virtual void allgather(const Tensor& in, Tensor out) = 0;
  /// in: contiguous (size() * n, ...); out: contiguous (n, ...) = reduce over ranks of in's
  /// rank()-th chunk of n rows.
  virtual void reduce_scatter(const Tensor& in, Tensor out, ReduceOp op = ReduceOp::Sum) = 0;
  /// Returns once every rank has called barrier().
  virtual void barrier() = 0;
  /// Ends the whole job now (MPI_Abort) after printing why on stderr; used after a fatal error on
  /// one rank (e.g. a collective timed out), so that the other ranks do not wait forever.
  [[noreturn]] virtual void abort(const std::string& why, int code = 1) = 0;

 protected:
  int rank_;
  int size_;
  std::string backend_;
  double timeout_seconds_;
};

/// Rank and world size from the launcher's environment (OMPI_COMM_WORLD_RANK/SIZE,
/// OMPI_COMM_WORLD_LOCAL_RANK, PMI_RANK/SIZE, PMI_LOCAL_RANK; {0, 1} when not launched by mpirun).
struct LaunchEnv {
  int rank = 0;
  int size = 1;
  int local_rank = 0;
  bool launched = false;  ///< true when started by an MPI launcher
};
LaunchEnv launch_env();

/// Initialises the backend once per process (MPI_Init_thread), returns the world group. While the
/// group is alive, calling it again with the same backend returns the same group; destroying the
/// last handle finalises MPI (which cannot be initialised again in this process).
/// Throws DistError naming what is missing (e.g. "backend nccl: this build has no NCCL (rebuild
/// with -DEMBER_NCCL=ON)", "backend nccl: no CUDA device", unknown backend).
std::shared_ptr<ProcessGroup> init_process_group(const InitOptions& opts = {});

/// True when this build has the backend ("mpi" or "nccl").
bool is_available(const std::string& backend);

}  // namespace ember::dist
