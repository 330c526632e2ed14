// Internals shared by the process-group backends: factories, argument checks, message formatting.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ember/dist/process_group.h"

namespace ember::dist::detail {

/// The MPI world group (initialises MPI on its communication thread).
std::shared_ptr<ProcessGroup> make_mpi_group(double timeout_seconds);
/// Throws DistError "backend nccl: no CUDA device" unless this process sees a CUDA device. Called
/// before the MPI group starts, so that a failed nccl init does not start (and finalise) MPI.
void check_nccl_device();
/// The NCCL world group; mpi carries the ncclUniqueId from rank 0 and stays alive with it.
std::shared_ptr<ProcessGroup> make_nccl_group(std::shared_ptr<ProcessGroup> mpi,
                                              double timeout_seconds);

/// Checks that t is defined, contiguous, on a device of the backend (CPU for mpi, CUDA for nccl),
/// of a dtype it reduces, and has at most INT_MAX elements; throws DistError naming op otherwise.
void check_tensor(const char* op, const char* what, const Tensor& t, const std::string& backend);
/// in/out agreement for allgather (out: (size, *in.shape)) and reduce_scatter
/// (in: (size * n, ...), out: (n, ...)).
void check_allgather(const Tensor& in, const Tensor& out, int size, const std::string& backend);
void check_reduce_scatter(const Tensor& in, const Tensor& out, int size,
                          const std::string& backend);

/// "4.2 MB float32" (decimal units, as network speeds are quoted).
std::string describe_payload(int64_t numel, DType dtype);
/// "rank 1", "ranks 0, 2-5"; "no rank" when empty.
std::string describe_ranks(const std::vector<int>& ranks);

}  // namespace ember::dist::detail
