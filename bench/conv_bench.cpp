// Convolution benchmark: the CNN's two conv layers at batch 64, Ember and libtorch interleaved in
// one process; prints ms, GFLOP/s and the libtorch/Ember time ratio (medians of repetitions).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "interleaved.h"

namespace {

struct Layer {
  const char* name;
  int64_t N, C, H, W, OC, K, pad;
};

// Times ours and theirs alternately (reps blocks of iters calls each) and prints one table row.
void compare(const std::string& what, double flops, const std::function<void()>& ours,
             const std::function<void()>& theirs, int reps = 9, int iters = 5) {
  const auto [me, mt] = bench::interleaved(ours, theirs, reps, iters);
  std::printf("%-34s %9.3f %9.3f %9.1f %9.1f %7.2fx\n", what.c_str(), me * 1e3, mt * 1e3,
              flops / me * 1e-9, flops / mt * 1e-9, mt / me);
  std::fflush(stdout);
}

void bench_layer(const Layer& l) {
  using ember::Tensor;
  ember::manual_seed(0);
  Tensor x = ember::randn({l.N, l.C, l.H, l.W});
  Tensor w = (ember::randn({l.OC, l.C, l.K, l.K}) * 0.1).requires_grad_();
  Tensor b = ember::randn({l.OC}).requires_grad_();
  const int64_t OH = l.H + 2 * l.pad - l.K + 1, OW = l.W + 2 * l.pad - l.K + 1;
  Tensor g = ember::randn({l.N, l.OC, OH, OW});
  Tensor xg = x.detach().clone().requires_grad_();
  torch::Tensor tx = bench::to_torch(x), txg = bench::to_torch(x).requires_grad_();
  torch::Tensor tw = bench::to_torch(w).requires_grad_(), tb = bench::to_torch(b).requires_grad_();
  torch::Tensor tg = bench::to_torch(g);
  const double fwd = 2.0 * l.N * l.OC * OH * OW * l.C * l.K * l.K;
  const std::vector<int64_t> pad = {l.pad};
  const std::string name = l.name;
  compare(
      name + " fwd", fwd,
      [&] {
        ember::NoGradGuard ng;
        ember::conv2d(x, w, b, {1}, pad);
      },
      [&] {
        torch::NoGradGuard ng;
        torch::conv2d(tx, tw, tb, 1, l.pad);
      });
  compare(
      name + " fwd+bwd (w, b)", 2 * fwd,
      [&] {
        ember::autograd::grad({ember::conv2d(x, w, b, {1}, pad)}, {w, b}, {g});
      },
      [&] {
        torch::autograd::grad({torch::conv2d(tx, tw, tb, 1, l.pad)}, {tw, tb}, {tg});
      });
  compare(
      name + " fwd+bwd (x, w, b)", 3 * fwd,
      [&] {
        ember::autograd::grad({ember::conv2d(xg, w, b, {1}, pad)}, {xg, w, b}, {g});
      },
      [&] {
        torch::autograd::grad({torch::conv2d(txg, tw, tb, 1, l.pad)}, {txg, tw, tb}, {tg});
      });
}

}  // namespace

int main() {
  torch::set_num_threads(2);
  std::printf("%-34s %9s %9s %9s %9s %8s\n", "case (batch 64)", "ember ms", "torch ms",
              "ember GF/s", "torch GF/s", "speedup");
  const Layer layers[] = {{"conv1 1->32 3x3 p1 28x28", 64, 1, 28, 28, 32, 3, 1},
                          {"conv2 32->64 3x3 p1 14x14", 64, 32, 14, 14, 64, 3, 1}};
  for (const Layer& l : layers) bench_layer(l);
  return 0;
}
