// DistributedDataParallel: one model replica per rank, gradients averaged in buckets during
// backward.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "ember/dist/process_group.h"
#include "ember/nn/module.h"

namespace ember::dist {

struct DDPOptions {
  double bucket_cap_mb = 25;         ///< gradient bytes per reduction (torch's default)
  bool broadcast_parameters = true;  ///< start every rank from rank 0's parameters and buffers
};

/// Communication counters since construction.
struct DDPStats {
  int64_t syncs = 0;        ///< gradient synchronisations (optimizer steps)
  int64_t reductions = 0;   ///< bucket allreduces
  double bytes = 0;         ///< gradient bytes reduced
  double comm_seconds = 0;  ///< summed durations of the allreduces, start to completion
  double wait_seconds = 0;  ///< time sync_gradients() blocked: communication not hidden
};

/// Note [DDP buckets]
/// Parameters are grouped in reverse registration order (the order backward usually finishes
/// their gradients) into buckets of about bucket_cap_mb. A post-accumulate-grad hook copies each
/// finished gradient into its bucket's flat buffer; when a bucket is full it is handed to the
/// process group's communication thread (allreduce, average) while backward goes on. Buckets start
/// in index order on every rank, so collectives always match across ranks. sync_gradients() starts
/// what is left (parameters whose hook did not run get their .grad, or zeros, so every rank takes
/// part), waits, and writes the averages back into .grad.
///
///     dist::DistributedDataParallel ddp(model, group);
///     Tensor loss = loss_fn(ddp(x), y);    // x: this rank's share of the global batch
///     loss.backward();
///     ddp.sync_gradients();               // grads are now the mean over all ranks
///     opt.step();
class DistributedDataParallel {
 public:
  /// Broadcasts rank 0's parameters and buffers (unless options say otherwise) and installs the
  /// gradient hooks. Throws DistError for parameters with row-sparse gradients.
  DistributedDataParallel(nn::Module& module, std::shared_ptr<ProcessGroup> group,
                          DDPOptions options = {});
  ~DistributedDataParallel();
  DistributedDataParallel(const DistributedDataParallel&) = delete;
  DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

  Tensor operator()(const Tensor& x) { return module_(x); }
  nn::Module& module() { return module_; }
  ProcessGroup& group() { return *group_; }

  /// False during the first micro-batches of gradient accumulation: backward then only adds into
  /// the local .grad and nothing is communicated (torch's no_sync()).
  void set_require_gradient_sync(bool sync) { state_->require_sync = sync; }
  /// Completes the averaging of all gradients over the ranks; call after backward, before step.
  void sync_gradients();
  const DDPStats& stats() const { return state_->stats; }
  /// The byte size of each bucket, in reduction order.
  std::vector<size_t> bucket_bytes() const;

 private:
  struct Bucket {
    Tensor flat;                 // (numel) of the bucket's dtype
    std::vector<size_t> params;  // indices into params
    size_t pending = 0;          // gradients not yet copied in during this backward
    std::shared_ptr<Work> work;  // the running allreduce, once started
  };
  struct State {
    std::shared_ptr<ProcessGroup> group;
    std::vector<Tensor> params;
    std::vector<size_t> bucket_of, offset_of;  // per parameter
    std::vector<bool> ready;                   // per parameter, this backward
    std::vector<Bucket> buckets;
    size_t next_start = 0;  // the next bucket to start (they start in order)
    bool require_sync = true;
    DDPStats stats;
    void on_grad(size_t i);
    void copy_in(size_t i);
    void start_ready_buckets();
  };
  nn::Module& module_;
  std::shared_ptr<ProcessGroup> group_;
  std::shared_ptr<State> state_;
};

/// Copies root's parameters and buffers to every rank (in place).
void broadcast_module(nn::Module& module, ProcessGroup& group, int root = 0);
/// True when every rank holds bitwise the same parameters (a collective: all ranks must call it).
bool parameters_in_sync(const nn::Module& module, ProcessGroup& group);

}  // namespace ember::dist
