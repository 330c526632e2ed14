// The MPI process group: CPU tensors, every MPI call on one communication thread, timeouts that
// name the ranks that did not arrive.
// The C API only: OpenMPI's and MPICH's mpi.h otherwise pull in the deprecated C++ bindings, which
// live in a library (libmpi_cxx) we do not link.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <deque>
#include <future>
#include <thread>

#include "dist/dist_internal.h"

namespace ember::dist::detail {
namespace {

// Note [Communication thread]
// Every MPI call of a group runs on one thread the group owns, which takes jobs from a FIFO queue.
// allreduce_async enqueues and returns at once, so the caller (the backward pass of DDP) goes on
// computing while a gradient bucket is reduced; the synchronous calls enqueue and wait. The thread
// calls MPI_Init_thread itself and asks for MPI_THREAD_SERIALIZED: FUNNELED would do for the
// collectives, which all run on that thread, but abort() may have to call MPI_Abort from the
// caller's thread when the communication thread does not answer, and SERIALIZED makes that legal
// while the communication thread is idle. Each collective is started non-blocking and polled with
// MPI_Testsome (spinning briefly, then sleeping a little longer each round, so a waiting rank does
// not burn a core the other ranks need) until it completes or its deadline passes. Alongside it,
// every rank sends a tiny token "arrived at collective #seq: kind, count, dtype, op/root" to every
// peer on a duplicated communicator (tag = seq mod 32768; MPI keeps messages of one source in
// order). The tokens name the ranks that did not arrive when a collective times out, and catch
// ranks that call different collectives (or shapes) at the same step. After a failure the group is
// broken: later calls throw at once, and buffers of unfinished MPI requests are never freed.

enum class Kind : int64_t { Allreduce, Broadcast, Allgather, ReduceScatter, Barrier };

const char* kind_name(int64_t k) {
  switch (static_cast<Kind>(k)) {
    case Kind::Allreduce:
      return "allreduce";
    case Kind::Broadcast:
      return "broadcast";
    case Kind::Allgather:
      return "allgather";
    case Kind::ReduceScatter:
      return "reduce_scatter";
    case Kind::Barrier:
      return "barrier";
  }
  return "unknown collective";
}

MPI_Datatype mpi_type(DType d) {
  switch (d) {
    case DType::Float32:
      return MPI_FLOAT;
    case DType::Float64:
      return MPI_DOUBLE;
    case DType::Int32:
      return MPI_INT32_T;
    case DType::Int64:
      return MPI_INT64_T;
    default:
      EMBER_THROW(DistError, "mpi: no MPI datatype for ", d);
  }
}

MPI_Op mpi_op(ReduceOp op) {
  return op == ReduceOp::Max ? MPI_MAX : MPI_SUM;
}

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  EMBER_THROW(DistError, "mpi: ", call, " failed: ", std::string(text, static_cast<size_t>(len)));
}

// t /= n in place (integer division for integers).
void divide_in_place(const Tensor& t, int n) {
  if (n == 1 || t.numel() == 0) return;
  EMBER_DISPATCH_NUMERIC(t.dtype(), "allreduce avg", [&] {
    scalar_t* p = static_cast<scalar_t*>(t.raw_data());
    const scalar_t d = static_cast<scalar_t>(n);
    for (int64_t i = 0, e = t.numel(); i < e; ++i) p[i] /= d;
  });
}

using Token = std::array<int64_t, 5>;  // seq, kind, count, dtype, op or root

// One collective's MPI state. It stays allocated (leaked) when the collective fails, as MPI may
// still read or write the tokens of its unfinished requests.
struct Pending {
  Token mine{};
  std::vector<Token> theirs;
  std::vector<MPI_Request> reqs;  // [0] the collective, then token receives, then token sends
  std::vector<int> peer_of;       // the peer of each token receive, -1 for the others
  std::vector<bool> arrived;      // ranks whose token came (this rank included)
};

struct Job {
  Kind kind;
  Tensor a;  // the in-place tensor, or allgather/reduce_scatter's in
  Tensor b;  // allgather/reduce_scatter's out
  ReduceOp op = ReduceOp::Sum;
  int root = 0;
  std::shared_ptr<Work> work;
};

class MpiGroup final : public ProcessGroup {
 public:
  explicit MpiGroup(double timeout_seconds) : ProcessGroup(0, 1, "mpi", timeout_seconds) {
    std::promise<void> ready;
    std::future<void> started = ready.get_future();
    thread_ = std::thread([this, p = std::move(ready)]() mutable { thread_main(std::move(p)); });
    try {
      started.get();
    } catch (...) {
      thread_.join();
      throw;
    }
  }

  ~MpiGroup() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  std::shared_ptr<Work> allreduce_async(Tensor t, ReduceOp op) override {
    check_tensor("allreduce", "tensor", t, backend_);
    return enqueue(Job{Kind::Allreduce, std::move(t), Tensor(), op, 0, nullptr});
  }

  void broadcast(Tensor t, int root) override {
    check_tensor("broadcast", "tensor", t, backend_);
    if (root < 0 || root >= size_)
      EMBER_THROW(DistError, "broadcast: root ", root, " is not a rank of this group (size ", size_,
                  ")");
    enqueue(Job{Kind::Broadcast, std::move(t), Tensor(), ReduceOp::Sum, root, nullptr})->wait();
  }

  void allgather(const Tensor& in, Tensor out) override {
    check_allgather(in, out, size_, backend_);
    enqueue(Job{Kind::Allgather, in, std::move(out), ReduceOp::Sum, 0, nullptr})->wait();
  }

  void reduce_scatter(const Tensor& in, Tensor out, ReduceOp op) override {
    check_reduce_scatter(in, out, size_, backend_);
    enqueue(Job{Kind::ReduceScatter, in, std::move(out), op, 0, nullptr})->wait();
  }

  void barrier() override {
    enqueue(Job{Kind::Barrier, Tensor(), Tensor(), ReduceOp::Sum, 0, nullptr})->wait();
  }

  [[noreturn]] void abort(const std::string& why, int code) override {
    std::fprintf(stderr, "ember dist: rank %d aborts the job: %s\n", rank_, why.c_str());
    std::fflush(stderr);
    {
      std::lock_guard<std::mutex> lock(mu_);  // with the flag: the thread cannot miss the wake-up
      abort_code_ = code;
      abort_requested_.store(true);
    }
    cv_.notify_all();
    // The communication thread calls MPI_Abort within a millisecond unless it is stuck in MPI.
    std::this_thread::sleep_for(std::chrono::seconds(5));
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  std::shared_ptr<Work> enqueue(Job job) {
    job.work = std::make_shared<Work>();
    std::shared_ptr<Work> work = job.work;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!broken_.empty())
        EMBER_THROW(DistError, kind_name(static_cast<int64_t>(job.kind)),
                    ": the process group is broken by an earlier failure (", broken_,
                    "); end the job (ProcessGroup::abort)");
      // The collective writes a (in place) or b (out): bump the version as any in-place op does.
      const Tensor& written = job.b.defined() ? job.b : job.a;
      if (written.defined()) written.storage()->bump_version();
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return work;
  }

  void thread_main(std::promise<void> ready) {
    try {
      init_mpi();
    } catch (...) {
      ready.set_exception(std::current_exception());
      return;
    }
    ready.set_value();
    while (true) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || abort_requested_.load(); });
        if (abort_requested_.load()) do_abort();
        if (queue_.empty()) break;  // stopping, queue drained
        job = std::move(queue_.front());
        queue_.pop_front();
        if (!broken_.empty()) {
          const std::string why =
              "the process group is broken by an earlier failure (" + broken_ + ")";
          lock.unlock();
          job.work->finish(std::make_exception_ptr(DistError(why, __FILE__, __LINE__)));
          continue;
        }
      }
      try {
        run(job);
        job.work->finish();
      } catch (const DistError& e) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          broken_ = e.message();
        }
        leaked_.push_back(job);  // MPI may still write into its tensors
        job.work->finish(std::current_exception());
      } catch (...) {
        job.work->finish(std::current_exception());
      }
    }
    if (broken_.empty()) finalize_mpi();
    // When broken, MPI_Finalize could wait forever for the unfinished requests: leave without it;
    // the launcher then ends the job.
  }

  void init_mpi() {
    int finalized = 0, initialized = 0;
    MPI_Finalized(&finalized);
    if (finalized)
      EMBER_THROW(DistError,
                  "init_process_group: MPI was already finalised in this process (an earlier "
                  "process group was destroyed); keep one group alive for the whole run");
    MPI_Initialized(&initialized);
    int provided = 0;
    if (initialized) {
      MPI_Query_thread(&provided);
    } else {
      check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided),
                "MPI_Init_thread");
      owns_mpi_ = true;
    }
    if (provided < MPI_THREAD_SERIALIZED)
      EMBER_THROW(DistError, "init_process_group: MPI provides thread level ", provided,
                  " but the mpi backend needs MPI_THREAD_SERIALIZED (its own thread)");
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &data_comm_), "MPI_Comm_dup");
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &token_comm_), "MPI_Comm_dup");
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &ping_comm_), "MPI_Comm_dup");
    MPI_Comm_set_errhandler(data_comm_, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(token_comm_, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(ping_comm_, MPI_ERRORS_RETURN);
    // Errors that OpenMPI's non-blocking collectives report on the world communicator (e.g. a
    // truncated message when ranks disagree on a size) come back as codes, not a fatal abort.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(data_comm_, &rank_);
    MPI_Comm_size(data_comm_, &size_);
  }

  void finalize_mpi() {
    MPI_Comm_free(&token_comm_);
    MPI_Comm_free(&ping_comm_);
    MPI_Comm_free(&data_comm_);
    if (owns_mpi_) MPI_Finalize();
  }

  [[noreturn]] void do_abort() {
    MPI_Abort(MPI_COMM_WORLD, abort_code_);
    std::_Exit(abort_code_);
  }

  // Starts job's collective and its arrival tokens, polls them to completion or the deadline.
  void run(Job& job) {
    const int64_t seq = ++seq_;
    const int tag = static_cast<int>(seq % 32768);
    const Tensor& data = job.b.defined() ? job.b : job.a;
    const int64_t count = job.a.defined() ? job.a.numel() : 0;
    const DType dtype = job.a.defined() ? job.a.dtype() : kFloat32;
    const int64_t op_or_root =
        job.kind == Kind::Broadcast ? job.root : static_cast<int64_t>(job.op);
    auto pending = std::make_unique<Pending>();
    Pending& st = *pending;
    st.mine = {seq, static_cast<int64_t>(job.kind), count, static_cast<int64_t>(dtype), op_or_root};
    job.work->mark_started();

    const size_t peers = static_cast<size_t>(size_ - 1);
    st.reqs.assign(1 + 2 * peers, MPI_REQUEST_NULL);
    st.theirs.resize(static_cast<size_t>(size_));
    st.peer_of.assign(st.reqs.size(), -1);
    st.arrived.assign(static_cast<size_t>(size_), false);
    st.arrived[static_cast<size_t>(rank_)] = true;
    try {
      for (size_t p = 0, i = 1; p < st.theirs.size(); ++p) {
        if (static_cast<int>(p) == rank_) continue;
        check_mpi(MPI_Irecv(st.theirs[p].data(), 5, MPI_INT64_T, static_cast<int>(p), tag,
                            token_comm_, &st.reqs[i]),
                  "MPI_Irecv");
        st.peer_of[i] = static_cast<int>(p);
        check_mpi(MPI_Isend(st.mine.data(), 5, MPI_INT64_T, static_cast<int>(p), tag, token_comm_,
                            &st.reqs[i + peers]),
                  "MPI_Isend");
        ++i;
      }
      start_collective(job, st.reqs[0]);
      poll(st);
    } catch (...) {
      leaked_pending_.push_back(std::move(pending));
      throw;
    }
    if (job.op == ReduceOp::Avg && (job.kind == Kind::Allreduce || job.kind == Kind::ReduceScatter))
      divide_in_place(data, size_);
  }

  // Starts job's non-blocking collective on data_comm_.
  void start_collective(const Job& job, MPI_Request& req) {
    const int n = static_cast<int>(job.a.defined() ? job.a.numel() : 0);
    void* buf = job.a.defined() ? job.a.raw_data() : nullptr;
    MPI_Datatype type = job.a.defined() ? mpi_type(job.a.dtype()) : MPI_BYTE;
    switch (job.kind) {
      case Kind::Allreduce:
        check_mpi(MPI_Iallreduce(MPI_IN_PLACE, buf, n, type, mpi_op(job.op), data_comm_, &req),
                  "MPI_Iallreduce");
        break;
      case Kind::Broadcast:
        check_mpi(MPI_Ibcast(buf, n, type, job.root, data_comm_, &req), "MPI_Ibcast");
        break;
      case Kind::Allgather:
        check_mpi(MPI_Iallgather(buf, n, type, job.b.raw_data(), n, type, data_comm_, &req),
                  "MPI_Iallgather");
        break;
      case Kind::ReduceScatter:
        check_mpi(MPI_Ireduce_scatter_block(buf, job.b.raw_data(), static_cast<int>(job.b.numel()),
                                            type, mpi_op(job.op), data_comm_, &req),
                  "MPI_Ireduce_scatter_block");
        break;
      case Kind::Barrier:
        check_mpi(MPI_Ibarrier(data_comm_, &req), "MPI_Ibarrier");
        break;
    }
  }

  // Tests st's requests until all are done; throws DistError at the deadline or on a token that
  // does not match this rank's.
  void poll(Pending& st) {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(timeout_seconds_));
    const int total = static_cast<int>(st.reqs.size());
    std::vector<int> done(st.reqs.size());
    int remaining = total;
    int64_t sleep_us = 0;
    while (remaining > 0) {
      int outcount = 0;
      const int rc =
          MPI_Testsome(total, st.reqs.data(), &outcount, done.data(), MPI_STATUSES_IGNORE);
      if (rc != MPI_SUCCESS) check_tokens_after_error(st);  // names a mismatch when there is one
      check_mpi(rc, "MPI_Testsome");
      if (outcount == MPI_UNDEFINED) break;
      remaining -= outcount;
      for (int k = 0; k < outcount; ++k) {
        int p = st.peer_of[static_cast<size_t>(done[k])];
        if (p < 0) continue;
        st.arrived[static_cast<size_t>(p)] = true;
        check_token(st.mine, st.theirs[static_cast<size_t>(p)], p);
      }
      if (remaining == 0) break;
      if (abort_requested_.load()) do_abort();
      answer_pings();
      auto now = Clock::now();
      if (now >= deadline) timed_out(st.mine, st.arrived);
      // Spin for 50 us, yield the core up to 1 ms, then sleep 20, 40, ... 200 us between tests.
      const auto waited = now - start;
      if (waited < std::chrono::microseconds(50)) continue;
      if (waited < std::chrono::milliseconds(1)) {
        std::this_thread::yield();
        continue;
      }
      sleep_us = std::min<int64_t>(std::max<int64_t>(2 * sleep_us, 20), 200);
      std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    }
  }

  // After the collective failed inside MPI: ranks that disagree on the collective make it fail
  // (e.g. a truncated message), so give their tokens a moment and report the mismatch if any.
  void check_tokens_after_error(Pending& st) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    bool pending = true;
    while (pending && std::chrono::steady_clock::now() < until) {
      pending = false;
      for (size_t i = 1; i < st.reqs.size(); ++i) {
        const int p = st.peer_of[i];
        if (p < 0 || st.reqs[i] == MPI_REQUEST_NULL) continue;
        int flag = 0;
        if (MPI_Test(&st.reqs[i], &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS) continue;
        if (!flag) {
          pending = true;
          continue;
        }
        st.arrived[static_cast<size_t>(p)] = true;
        check_token(st.mine, st.theirs[static_cast<size_t>(p)], p);
      }
      if (pending) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  // "allreduce #812 (4.2 MB float32, sum)"; without the op or root when detail is false.
  static std::string describe(const Token& t, bool detail = true) {
    const Kind kind = static_cast<Kind>(t[1]);
    std::string s = std::string(kind_name(t[1])) + " #" + std::to_string(t[0]);
    if (kind == Kind::Barrier) return s;
    s += " (" + describe_payload(t[2], static_cast<DType>(t[3]));
    if (detail && kind == Kind::Broadcast) s += ", root " + std::to_string(t[4]);
    if (detail && (kind == Kind::Allreduce || kind == Kind::ReduceScatter))
      s += std::string(", ") + reduce_op_name(static_cast<ReduceOp>(t[4]));
    return s + ")";
  }

  void check_token(const Token& mine, const Token& theirs, int peer) const {
    if (theirs == mine) return;
    EMBER_THROW(DistError, "collective mismatch: rank ", rank_, " called ", describe(mine),
                " but rank ", peer, " called ", describe(theirs),
                "; every rank must call the same collectives in the same order with the same "
                "shapes and dtypes");
  }

  // Note [Liveness check]: when every rank arrived at a collective that then did not complete, a
  // rank stopped or died inside it. Every rank polling a collective answers pings on ping_comm_,
  // so the ranks that do not answer within a short grace are the ones to name.
  void answer_pings() {
    for (;;) {
      int flag = 0;
      MPI_Status status;
      check_mpi(MPI_Iprobe(MPI_ANY_SOURCE, kPingTag, ping_comm_, &flag, &status), "MPI_Iprobe");
      if (!flag) return;
      int64_t seq = 0;
      check_mpi(MPI_Recv(&seq, 1, MPI_INT64_T, status.MPI_SOURCE, kPingTag, ping_comm_,
                         MPI_STATUS_IGNORE),
                "MPI_Recv");
      MPI_Request req;  // 8 bytes go out eagerly; nobody waits for this request
      check_mpi(MPI_Isend(&pong_payload_, 1, MPI_INT64_T, status.MPI_SOURCE, kPongTag, ping_comm_,
                          &req),
                "MPI_Isend");
      MPI_Request_free(&req);
    }
  }

  // The peers that do not answer a ping within `grace` seconds (answering others' pings meanwhile).
  std::vector<int> unresponsive_peers(double grace) {
    const size_t n = static_cast<size_t>(size_);
    std::vector<MPI_Request> reqs(n, MPI_REQUEST_NULL);
    std::vector<int64_t> pongs(n), pings(n, 1);
    for (int p = 0; p < size_; ++p) {
      if (p == rank_) continue;
      const size_t i = static_cast<size_t>(p);
      check_mpi(MPI_Irecv(&pongs[i], 1, MPI_INT64_T, p, kPongTag, ping_comm_, &reqs[i]),
                "MPI_Irecv");
      MPI_Request send;
      check_mpi(MPI_Isend(&pings[i], 1, MPI_INT64_T, p, kPingTag, ping_comm_, &send), "MPI_Isend");
      MPI_Request_free(&send);
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration_cast<
        std::chrono::steady_clock::duration>(std::chrono::duration<double>(grace));
    std::vector<bool> answered(n, false);
    answered[static_cast<size_t>(rank_)] = true;
    while (std::chrono::steady_clock::now() < until) {
      answer_pings();
      bool all = true;
      for (size_t i = 0; i < n; ++i) {
        if (answered[i]) continue;
        int flag = 0;
        check_mpi(MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE), "MPI_Test");
        answered[i] = flag != 0;
        all = all && answered[i];
      }
      if (all) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::vector<int> out;
    for (int p = 0; p < size_; ++p)
      if (!answered[static_cast<size_t>(p)]) out.push_back(p);  // its Irecv is left pending
    return out;
  }

  [[noreturn]] void timed_out(const Token& mine, const std::vector<bool>& arrived) {
    std::vector<int> missing, present;
    for (int p = 0; p < size_; ++p)
      (arrived[static_cast<size_t>(p)] ? present : missing).push_back(p);
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", timeout_seconds_);
    const std::string head = describe(mine, false);
    if (missing.empty()) {
      const double grace = std::clamp(timeout_seconds_ / 2, 0.5, 5.0);
      const std::vector<int> silent = unresponsive_peers(grace);
      if (!silent.empty()) {
        const std::string who = describe_ranks(silent);
        EMBER_THROW(DistError, head, " timed out after ", secs, " s on rank ", rank_, ": ", who,
                    " stopped inside it (every rank arrived, but ", who, " did not answer a "
                    "liveness check within ", grace, " s); check that ", who,
                    silent.size() == 1 ? " is" : " are", " alive, or raise --dist-timeout");
      }
    }
    if (missing.empty())
      EMBER_THROW(DistError, head, " timed out after ", secs, " s on rank ", rank_,
                  ": every rank arrived but the collective did not complete (a rank may have died "
                  "or stalled inside it); check the other ranks' logs, or raise --dist-timeout");
    std::string who = describe_ranks(missing);
    EMBER_THROW(DistError, head, " timed out after ", secs, " s on rank ", rank_, ": ", who,
                " did not arrive (", describe_ranks(present), " arrived); check that ", who,
                missing.size() == 1 ? " is" : " are", " alive, or raise --dist-timeout");
  }

  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::string broken_;     // guarded by mu_; the first failure, empty while healthy
  int abort_code_ = 1;     // guarded by mu_
  std::atomic<bool> abort_requested_{false};
  // Communication thread only:
  bool owns_mpi_ = false;
  int64_t seq_ = 0;
  std::vector<Job> leaked_;  // jobs whose collective failed: MPI may still use their tensors
  std::vector<std::unique_ptr<Pending>> leaked_pending_;
  MPI_Comm data_comm_ = MPI_COMM_NULL;
  MPI_Comm token_comm_ = MPI_COMM_NULL;
  MPI_Comm ping_comm_ = MPI_COMM_NULL;  // Note [Liveness check]
  static constexpr int kPingTag = 1, kPongTag = 2;
  int64_t pong_payload_ = 1;
};

}  // namespace

std::shared_ptr<ProcessGroup> make_mpi_group(double timeout_seconds) {
  return std::make_shared<MpiGroup>(timeout_seconds);
}

}  // namespace ember::dist::detail
