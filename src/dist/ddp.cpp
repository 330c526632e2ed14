// DistributedDataParallel: bucketed gradient averaging started from backward (Note [DDP buckets]).
#include "ember/dist/ddp.h"

#include <chrono>

#include "ember/autograd/grad_mode.h"
#include "ember/ops/creation.h"

namespace ember::dist {

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// 64-bit FNV-1a of a contiguous tensor's bytes.
int64_t fnv1a(const Tensor& t, uint64_t h) {
  const Tensor c = t.contiguous();
  const auto* p = static_cast<const unsigned char*>(c.storage()->data()) +
                  c.offset() * static_cast<int64_t>(c.element_size());
  const size_t n = static_cast<size_t>(c.numel()) * c.element_size();
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return static_cast<int64_t>(h);
}

}  // namespace

void broadcast_module(nn::Module& module, ProcessGroup& group, int root) {
  NoGradGuard no_grad;
  for (const Tensor& p : module.parameters()) group.broadcast(p, root);
  for (const Tensor& b : module.buffers()) group.broadcast(b, root);
}

bool parameters_in_sync(const nn::Module& module, ProcessGroup& group) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const Tensor& p : module.parameters()) h = static_cast<uint64_t>(fnv1a(p, h));
  Tensor mine = full({1}, static_cast<double>(0), kInt64);
  mine.data_ptr<int64_t>()[0] = static_cast<int64_t>(h);
  Tensor all = zeros({static_cast<int64_t>(group.size()), 1}, kInt64);
  group.allgather(mine, all);
  const int64_t* a = all.data_ptr<int64_t>();
  for (int r = 0; r < group.size(); ++r)
    if (a[r] != a[0]) return false;
  return true;
}

DistributedDataParallel::DistributedDataParallel(nn::Module& module,
                                                 std::shared_ptr<ProcessGroup> group,
                                                 DDPOptions options)
    : module_(module), group_(std::move(group)), state_(std::make_shared<State>()) {
  EMBER_CHECK_T(DistError, group_ != nullptr, "DistributedDataParallel: no process group");
  EMBER_CHECK_T(DistError, options.bucket_cap_mb > 0, "DistributedDataParallel: bucket_cap_mb ",
                options.bucket_cap_mb, " must be > 0");
  if (options.broadcast_parameters) broadcast_module(module_, *group_, 0);

  State& s = *state_;
  s.group = group_;
  for (const Tensor& p : module_.parameters())
    if (p.requires_grad()) s.params.push_back(p);
  const size_t n = s.params.size();
  s.bucket_of.resize(n);
  s.offset_of.resize(n);
  s.ready.assign(n, false);

  // Buckets in reverse registration order, split at the byte cap and at dtype changes.
  const auto cap = static_cast<size_t>(options.bucket_cap_mb * 1024 * 1024);
  std::vector<std::vector<size_t>> groups;
  size_t bytes = 0;
  for (size_t k = n; k-- > 0;) {
    const Tensor& p = s.params[k];
    const size_t nb = static_cast<size_t>(p.numel()) * p.element_size();
    const bool full_bucket = !groups.empty() && bytes + nb > cap;
    if (groups.empty() || full_bucket || s.params[groups.back().front()].dtype() != p.dtype()) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(k);
    bytes += nb;
  }
  for (auto& members : groups) {
    Bucket b;
    int64_t numel = 0;
    for (size_t k : members) {
      s.bucket_of[k] = s.buckets.size();
      s.offset_of[k] = static_cast<size_t>(numel);
      numel += s.params[k].numel();
    }
    b.flat = zeros({numel}, s.params[members.front()].dtype());
    b.params = std::move(members);
    b.pending = b.params.size();
    s.buckets.push_back(std::move(b));
  }

  // The hooks hold the state weakly: a dead DDP leaves harmless hooks behind.
  for (size_t k = 0; k < n; ++k) {
    std::weak_ptr<State> weak = state_;
    s.params[k].register_post_accumulate_grad_hook([weak, k](const Tensor&) {
      if (auto st = weak.lock()) st->on_grad(k);
    });
  }
}

DistributedDataParallel::~DistributedDataParallel() {
  // Never leave a reduction writing into a buffer that is about to die.
  for (Bucket& b : state_->buckets)
    if (b.work) try {
        b.work->wait();
      } catch (...) {  // the error was (or will be) reported by sync_gradients
      }
}

std::vector<size_t> DistributedDataParallel::bucket_bytes() const {
  std::vector<size_t> out;
  for (const Bucket& b : state_->buckets)
    out.push_back(static_cast<size_t>(b.flat.numel()) * b.flat.element_size());
  return out;
}

// x's gradient (or zeros) into its slot of the bucket.
void DistributedDataParallel::State::copy_in(size_t i) {
  const Tensor& p = params[i];
  Tensor slot = buckets[bucket_of[i]].flat.narrow(0, static_cast<int64_t>(offset_of[i]), p.numel());
  NoGradGuard no_grad;
  EMBER_CHECK_T(DistError, !p.grad_is_row_sparse(), "DistributedDataParallel: parameter ", i,
                " has a row-sparse gradient (model.sparse = true); distributed runs need dense "
                "gradients");
  if (p.grad().defined())
    slot.copy_(p.grad().reshape({-1}));
  else
    slot.zero_();
}

void DistributedDataParallel::State::on_grad(size_t i) {
  if (!require_sync) return;
  copy_in(i);  // a second accumulation in the same backward re-copies the sum
  if (ready[i]) return;
  ready[i] = true;
  --buckets[bucket_of[i]].pending;
  start_ready_buckets();
}

void DistributedDataParallel::State::start_ready_buckets() {
  while (next_start < buckets.size() && buckets[next_start].pending == 0) {
    Bucket& b = buckets[next_start++];
    b.work = group->allreduce_async(b.flat, ReduceOp::Avg);
  }
}

void DistributedDataParallel::sync_gradients() {
  State& s = *state_;
  if (!s.require_sync) return;
  // Parameters whose hook did not run (unused in this forward) still take part.
  for (size_t k = 0; k < s.params.size(); ++k)
    if (!s.ready[k]) {
      s.copy_in(k);
      s.ready[k] = true;
      --s.buckets[s.bucket_of[k]].pending;
    }
  s.start_ready_buckets();
  const double t0 = now_seconds();
  for (Bucket& b : s.buckets) {
    b.work->wait();
    s.stats.comm_seconds += b.work->seconds();
    s.stats.bytes +=
        static_cast<double>(b.flat.numel()) * static_cast<double>(b.flat.element_size());
    ++s.stats.reductions;
  }
  const double t1 = now_seconds();
  s.stats.wait_seconds += t1 - t0;
  ++s.stats.syncs;

  NoGradGuard no_grad;
  for (size_t k = 0; k < s.params.size(); ++k) {
    const Tensor& p = s.params[k];
    Tensor avg = s.buckets[s.bucket_of[k]]
                     .flat.narrow(0, static_cast<int64_t>(s.offset_of[k]), p.numel())
                     .view(p.shape());
    if (p.grad().defined())
      p.grad().copy_(avg);
    else
      p.set_grad(avg.clone());
  }
  for (Bucket& b : s.buckets) {
    b.pending = b.params.size();
    b.work = nullptr;
  }
  s.ready.assign(s.params.size(), false);
  s.next_start = 0;
}

}  // namespace ember::dist
