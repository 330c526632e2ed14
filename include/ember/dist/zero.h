// ZeRO stage 1: the optimizer state sharded over the ranks, parameters re-broadcast after each
// step.
#pragma once

#include <cstddef>
#include <vector>

#include "ember/dist/process_group.h"
#include "ember/optim/optimizer.h"

namespace ember::dist {

/// Note [ZeRO-1]
/// Every rank still holds all parameters and, after DDP's allreduce, all averaged gradients, but
/// each parameter is owned by one rank (greedily, by size), and only its owner keeps optimizer
/// state for it and updates it: build the optimizer over local_params(), step it, then call
/// broadcast_parameters(); zero the gradients through the model (the optimizer sees only its
/// share). Optimizer updates are elementwise per parameter, so the trajectory is
/// the one of plain DDP while the optimizer state per rank shrinks to about 1 / size.
/// Checkpoints hold the whole state under single-process names (gather_state_dict), so a sharded
/// run resumes with any world size, with or without ZeRO.
class ZeroShards {
 public:
  /// params: the model's parameters in optimizer order (the same on every rank, one dtype).
  ZeroShards(std::vector<Tensor> params, std::shared_ptr<ProcessGroup> group);

  /// The parameters this rank owns, in their global order: give these to the optimizer.
  const std::vector<Tensor>& local_params() const { return local_; }
  /// The owner rank of each parameter.
  const std::vector<int>& owners() const { return owner_; }
  /// Copies every parameter from its owner to all ranks (one broadcast per rank).
  void broadcast_parameters();

  /// The whole optimizer state on root, named as one optimizer over all parameters would name it
  /// ("state.<global index>.<buffer>", param_groups of one group); an empty list on other ranks.
  /// A collective: every rank must call it.
  optim::StateDict gather_state_dict(const optim::StateDict& local, int root = 0);
  /// This rank's part of a whole state dict (as gather_state_dict makes), renamed for the
  /// optimizer over local_params().
  optim::StateDict local_state_dict(const optim::StateDict& whole) const;

 private:
  std::vector<Tensor> params_, local_;
  std::vector<int> owner_;
  std::vector<size_t> global_of_local_;
  std::shared_ptr<ProcessGroup> group_;
};

/// Bytes of the tensors of an optimizer state dict (the per-rank saving ZeRO-1 reports).
size_t state_bytes(const optim::StateDict& state);

}  // namespace ember::dist
