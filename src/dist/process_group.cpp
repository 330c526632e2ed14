// Process groups, backend-independent parts: Work, init and the singleton, launcher environment,
// argument checks and error-message helpers.
#include "ember/dist/process_group.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "dist/dist_internal.h"

namespace ember::dist {

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum:
      return "sum";
    case ReduceOp::Avg:
      return "avg";
    case ReduceOp::Max:
      return "max";
  }
  return "?";
}

// ---- Work ----

void Work::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return done_; });
  if (error_) std::rethrow_exception(error_);
}

bool Work::is_completed() {
  std::lock_guard<std::mutex> lock(mu_);
  return done_;
}

double Work::seconds() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!started_) return 0.0;
  Clock::time_point end = done_ ? end_ : Clock::now();
  return std::chrono::duration<double>(end - start_).count();
}

void Work::mark_started() {
  std::lock_guard<std::mutex> lock(mu_);
  started_ = true;
  start_ = Clock::now();
}

void Work::finish(std::exception_ptr error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_) {
      started_ = true;
      start_ = Clock::now();
    }
    end_ = Clock::now();
    error_ = std::move(error);
    done_ = true;
  }
  cv_.notify_all();
}

// ---- ProcessGroup ----

ProcessGroup::ProcessGroup(int rank, int size, std::string backend, double timeout_seconds)
    : rank_(rank), size_(size), backend_(std::move(backend)), timeout_seconds_(timeout_seconds) {}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::allreduce(Tensor t, ReduceOp op) {
  allreduce_async(std::move(t), op)->wait();
}

// ---- launcher environment ----

namespace {

// The first of names that is set to an integer, or -1.
int env_int(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') continue;
    char* end = nullptr;
    long x = std::strtol(v, &end, 10);
    if (*end == '\0' && x >= 0 && x <= INT_MAX) return static_cast<int>(x);
  }
  return -1;
}

}  // namespace

LaunchEnv launch_env() {
  LaunchEnv env;
  int rank = env_int({"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"});
  int size = env_int({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"});
  if (rank < 0 || size < 1 || rank >= size) return env;
  env.rank = rank;
  env.size = size;
  env.launched = true;
  int local = env_int({"OMPI_COMM_WORLD_LOCAL_RANK", "PMI_LOCAL_RANK", "MPI_LOCALRANKID"});
  env.local_rank = local >= 0 ? local : 0;
  return env;
}

// ---- init ----

bool is_available(const std::string& backend) {
#ifdef EMBER_WITH_MPI
  if (backend == "mpi") return true;
#endif
#ifdef EMBER_WITH_NCCL
  if (backend == "nccl") return true;
#endif
  return false;
}

namespace {
std::mutex g_init_mu;
std::weak_ptr<ProcessGroup> g_mpi_group;
std::weak_ptr<ProcessGroup> g_nccl_group;

#ifdef EMBER_WITH_MPI
std::shared_ptr<ProcessGroup> mpi_group_locked(double timeout_seconds) {
  if (auto g = g_mpi_group.lock()) return g;
  auto g = detail::make_mpi_group(timeout_seconds);
  g_mpi_group = g;
  return g;
}
#endif
}  // namespace

std::shared_ptr<ProcessGroup> init_process_group(const InitOptions& opts) {
  const std::string& b = opts.backend;
  if (b != "mpi" && b != "nccl")
    EMBER_THROW(DistError, "init_process_group: unknown backend \"", b, "\": expected mpi or nccl");
  if (!(opts.timeout_seconds > 0))
    EMBER_THROW(DistError, "init_process_group: timeout_seconds must be > 0 (got ",
                opts.timeout_seconds, ")");
  std::lock_guard<std::mutex> lock(g_init_mu);
#ifndef EMBER_WITH_MPI
  EMBER_THROW(DistError, "backend ", b,
              ": this build has no MPI (install libopenmpi-dev and rebuild with -DEMBER_MPI=ON)");
#else
  if (b == "mpi") return mpi_group_locked(opts.timeout_seconds);
#ifndef EMBER_WITH_NCCL
  EMBER_THROW(DistError, "backend nccl: this build has no NCCL (rebuild with -DEMBER_NCCL=ON)");
#else
  if (auto g = g_nccl_group.lock()) return g;
  detail::check_nccl_device();
  auto g = detail::make_nccl_group(mpi_group_locked(opts.timeout_seconds), opts.timeout_seconds);
  g_nccl_group = g;
  return g;
#endif
#endif
}

// ---- checks and messages ----

namespace detail {

void check_tensor(const char* op, const char* what, const Tensor& t, const std::string& backend) {
  if (!t.defined()) EMBER_THROW(DistError, op, ": ", what, " is an undefined tensor");
  bool nccl = backend == "nccl";
  if (nccl && !t.device().is_cuda())
    EMBER_THROW(DistError, op, ": ", what, " is on ", t.device(),
                " but backend nccl reduces CUDA tensors (use backend mpi for CPU tensors)");
  if (!nccl && !t.device().is_cpu())
    EMBER_THROW(DistError, op, ": ", what, " is on ", t.device(),
                " but backend mpi reduces CPU tensors (use backend nccl for CUDA tensors)");
  DType d = t.dtype();
  bool ok =
      d == kFloat32 || d == kFloat64 || d == kInt64 || d == kInt32 || (nccl && d == kBFloat16);
  if (!ok)
    EMBER_THROW(DistError, op, ": ", what, " has dtype ", d, " but backend ", backend,
                " supports float32, float64, int32 and int64", nccl ? " and bfloat16" : "");
  if (t.numel() > 0 && !t.is_contiguous())  // empty: nothing to lay out (strides vary)
    EMBER_THROW(DistError, op, ": ", what, " of shape ", t.shape_str(), " with strides ",
                ::ember::detail::shape_to_string(t.strides()),
                " is not contiguous (collectives work in place on contiguous memory; pass "
                "t.contiguous() and copy the result back)");
  if (t.numel() > INT_MAX)
    EMBER_THROW(DistError, op, ": ", what, " has ", t.numel(), " elements, more than the ", INT_MAX,
                " one collective can carry; split it into chunks");
}

void check_allgather(const Tensor& in, const Tensor& out, int size, const std::string& backend) {
  check_tensor("allgather", "in", in, backend);
  check_tensor("allgather", "out", out, backend);
  Shape want = in.shape();
  want.insert(want.begin(), size);
  if (out.shape() != want)
    EMBER_THROW(DistError, "allgather: out has shape ", out.shape_str(), " but expected ",
                ::ember::detail::shape_to_string(want), " (world size ", size, ", in ",
                in.shape_str(), ")");
  if (out.dtype() != in.dtype() || out.device() != in.device())
    EMBER_THROW(DistError, "allgather: out is ", out.dtype(), " on ", out.device(), " but in is ",
                in.dtype(), " on ", in.device());
}

void check_reduce_scatter(const Tensor& in, const Tensor& out, int size,
                          const std::string& backend) {
  check_tensor("reduce_scatter", "in", in, backend);
  check_tensor("reduce_scatter", "out", out, backend);
  bool ok = in.dim() >= 1 && out.dim() == in.dim() && in.size(0) == out.size(0) * size;
  for (int64_t d = 1; ok && d < in.dim(); ++d) ok = in.size(d) == out.size(d);
  if (!ok)
    EMBER_THROW(DistError, "reduce_scatter: in ", in.shape_str(), " and out ", out.shape_str(),
                " do not match: expected in (size * n, ...) and out (n, ...) with world size ",
                size);
  if (out.dtype() != in.dtype() || out.device() != in.device())
    EMBER_THROW(DistError, "reduce_scatter: out is ", out.dtype(), " on ", out.device(),
                " but in is ", in.dtype(), " on ", in.device());
}

std::string describe_payload(int64_t numel, DType dtype) {
  double bytes = static_cast<double>(numel) * static_cast<double>(itemsize(dtype));
  char buf[64];
  if (bytes >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  } else if (bytes >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  } else if (bytes >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.1f kB", bytes / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  }
  return std::string(buf) + " " + dtype_name(dtype);
}

std::string describe_ranks(const std::vector<int>& ranks) {
  if (ranks.empty()) return "no rank";
  std::string s = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size();) {
    size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (i > 0) s += ", ";
    s += std::to_string(ranks[i]);
    if (j > i) s += (j == i + 1 ? ", " : "-") + std::to_string(ranks[j]);
    i = j + 1;
  }
  return s;
}

}  // namespace detail
}  // namespace ember::dist
