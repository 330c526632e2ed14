// DistributedDataParallel and ZeRO-1 under mpirun: N ranks with shards of a global batch follow the
// one-process trajectory on the whole batch, step by step, and stay bitwise in sync.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"

namespace ember::dist {
namespace {

std::shared_ptr<ProcessGroup> world() {
  static std::shared_ptr<ProcessGroup> g = init_process_group({.timeout_seconds = 60});
  return g;
}

std::shared_ptr<nn::Sequential> make_mlp(uint64_t seed) {
  manual_seed(seed);
  return std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(12, 32), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(32, 16), std::make_shared<nn::Tanh>(),
      std::make_shared<nn::Linear>(16, 5));
}

// max |a - b| / max |b| over each pair of parameters.
double max_rel_diff(const nn::Module& a, const nn::Module& b) {
  const auto pa = a.parameters(), pb = b.parameters();
  double worst = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    const double scale = std::max(pb[i].abs().max().item(), 1e-12);
    worst = std::max(worst, (pa[i] - pb[i]).abs().max().item() / scale);
  }
  return worst;
}

struct Data {
  Tensor x, y;
};
Data make_data(int64_t n) {
  manual_seed(7);
  return {randn({n, 12}), randint(0, 5, {n})};
}

struct Run {
  bool zero = false;
  int64_t accum = 1;          // micro-batches per step
  double bucket_cap_mb = 25;  // small caps make many buckets
};

// Trains the one-process reference and the distributed model side by side for `steps` steps of
// global batch B (split in `accum` micro-batches) and checks them after every step.
void check_trajectory(const Run& run, int64_t steps = 50, int64_t B = 24) {
  auto g = world();
  const int W = g->size(), rank = g->rank();
  ASSERT_EQ(B % (W * run.accum), 0);
  const Data d = make_data(steps * B);
  auto ref = make_mlp(1);
  auto model = make_mlp(100 + static_cast<uint64_t>(rank));  // DDP starts every rank from rank 0's
  auto ref_init = make_mlp(100);                             // what rank 0 starts from
  ref->load_state_dict(ref_init->state_dict());

  DistributedDataParallel ddp(*model, g, {.bucket_cap_mb = run.bucket_cap_mb});
  ASSERT_TRUE(parameters_in_sync(*model, *g));
  EXPECT_EQ(max_rel_diff(*model, *ref), 0.0);
  std::unique_ptr<ZeroShards> zero;
  if (run.zero) zero = std::make_unique<ZeroShards>(model->parameters(), g);
  optim::AdamW ref_opt(ref->parameters(), {.lr = 1e-2, .weight_decay = 0.1});
  optim::AdamW opt(zero ? zero->local_params() : model->parameters(),
                   {.lr = 1e-2, .weight_decay = 0.1});

  const int64_t micro = B / run.accum;
  for (int64_t step = 0; step < steps; ++step) {
    // Reference: the whole global batch, in the same micro-batches.
    for (int64_t m = 0; m < run.accum; ++m) {
      const Tensor x = d.x.narrow(0, step * B + m * micro, micro);
      const Tensor y = d.y.narrow(0, step * B + m * micro, micro);
      (nn::functional::cross_entropy((*ref)(x), y) / static_cast<double>(run.accum)).backward();
    }
    ref_opt.step();
    ref_opt.zero_grad();
    // Distributed: this rank's shard of each micro-batch.
    for (int64_t m = 0; m < run.accum; ++m) {
      const int64_t at = step * B + m * micro;
      const Tensor x = d.x.narrow(0, at, micro).slice(0, rank, micro, W);
      const Tensor y = d.y.narrow(0, at, micro).slice(0, rank, micro, W);
      ddp.set_require_gradient_sync(m + 1 == run.accum);
      (nn::functional::cross_entropy(ddp(x), y) / static_cast<double>(run.accum)).backward();
    }
    ddp.sync_gradients();
    opt.step();
    model->zero_grad();  // not opt.zero_grad(): with ZeRO it knows only this rank's parameters
    if (zero) zero->broadcast_parameters();
    ASSERT_TRUE(parameters_in_sync(*model, *g)) << "ranks differ after step " << step + 1;
    ASSERT_LE(max_rel_diff(*model, *ref), 1e-5) << "after step " << step + 1;
  }
  EXPECT_EQ(ddp.stats().syncs, steps);
  EXPECT_EQ(ddp.stats().reductions, steps * static_cast<int64_t>(ddp.bucket_bytes().size()));
  // The parameters moved: the comparison above was not between two idle models.
  EXPECT_GT(max_rel_diff(*model, *ref_init), 1e-2);
}

TEST(DDP, FollowsTheOneProcessTrajectory) {
  check_trajectory({});
}

TEST(DDP, ManySmallBucketsStartInOrder) {
  // 1 KB buckets: every parameter gets its own bucket (or shares one with its bias).
  check_trajectory({.bucket_cap_mb = 1.0 / 1024});
}

TEST(DDP, GradientAccumulationSyncsOnlyTheLastMicroBatch) {
  auto g = world();
  check_trajectory({.accum = 2}, 20, 8 * g->size());
}

TEST(DDP, ZeroOneMatchesPlainDdp) {
  check_trajectory({.zero = true});
}

TEST(DDP, ZeroOneShardsTheOptimizerStateAndGathersItWhole) {
  auto g = world();
  auto model = make_mlp(3);
  DistributedDataParallel ddp(*model, g);
  ZeroShards zero(model->parameters(), g);
  optim::Adam opt(zero.local_params(), {.lr = 1e-3});
  const Data d = make_data(8);
  nn::functional::cross_entropy(ddp(d.x), d.y).backward();
  ddp.sync_gradients();
  opt.step();
  zero.broadcast_parameters();

  // A one-process optimizer over all parameters, stepped on the same averaged gradients.
  optim::Adam whole(model->parameters(), {.lr = 1e-3});
  const size_t local = state_bytes(opt.state_dict());
  Tensor total = full({1}, static_cast<double>(local), kFloat64);
  g->allreduce(total, ReduceOp::Sum);
  const optim::StateDict gathered = zero.gather_state_dict(opt.state_dict());
  if (g->rank() == 0) {
    EXPECT_EQ(state_bytes(gathered), static_cast<size_t>(total.item()));
    // Every parameter's two Adam buffers, named as one optimizer names them.
    for (size_t i = 0; i < model->parameters().size(); ++i) {
      bool found = false;
      for (const auto& [k, t] : gathered)
        found = found || k == "state." + std::to_string(i) + ".exp_avg";
      EXPECT_TRUE(found) << "state." << i << ".exp_avg";
    }
    // ... and it loads back into each rank's shard.
    const optim::StateDict mine = zero.local_state_dict(gathered);
    optim::Adam again(zero.local_params(), {.lr = 1e-3});
    again.load_state_dict(mine);
    EXPECT_EQ(state_bytes(again.state_dict()), local);
  } else {
    EXPECT_TRUE(gathered.empty());
  }
  if (g->size() > 1) {
    EXPECT_LT(local, static_cast<size_t>(total.item()));
  }
}

TEST(DDP, UnusedParametersStillTakePartWithZeroGradients) {
  auto g = world();
  manual_seed(5);
  auto used = std::make_shared<nn::Linear>(4, 3);
  auto unused = std::make_shared<nn::Linear>(4, 3);
  nn::Sequential both(used, unused);
  DistributedDataParallel ddp(both, g);
  // Only the first layer runs: the second one's hook never fires, sync_gradients covers it.
  (*used)(full({2, 4}, 1.0 + g->rank())).sum().backward();
  ddp.sync_gradients();
  EXPECT_EQ(unused->weight.grad().abs().sum().item(), 0.0);
  // d sum(W x + b) / dW = sum over rows of x: rank r has 2 (1 + r) in every entry; the average.
  const double expected = 2 * (1 + (g->size() - 1) / 2.0);
  EXPECT_NEAR(used->weight.grad().mean().item(), expected, 1e-6);
}

// A module whose one parameter gets a row-sparse gradient.
struct SparseBag : nn::Module {
  Tensor weight;
  SparseBag() { weight = register_parameter("weight", randn({10, 4})); }
  Tensor forward(const Tensor& idx) override {
    return embedding_bag(weight, idx, {}, "sum", {}, -1, false, /*sparse=*/true);
  }
};

TEST(DDP, RowSparseGradientsAreRefusedClearly) {
  auto g = world();
  manual_seed(2);
  SparseBag bag;
  DistributedDataParallel ddp(bag, g);
  bag(zeros({2, 3}, kInt64)).sum().backward();
  try {
    ddp.sync_gradients();
    FAIL() << "expected a DistError";
  } catch (const DistError& e) {
    EXPECT_NE(e.message().find("row-sparse"), std::string::npos) << e.message();
  }
}

}  // namespace
}  // namespace ember::dist
