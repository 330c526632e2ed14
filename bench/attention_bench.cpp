// Attention and LayerNorm benchmark: Ember's fused kernels against libtorch's composite
// (matmul / softmax / matmul with the causal mask; torch::layer_norm), interleaved in one
// process; prints ms and the libtorch/Ember time ratio (medians of repetitions).
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "interleaved.h"

namespace {

// Times ours and theirs alternately (reps blocks of iters calls each) and prints one table row.
void compare(const std::string& what, const std::function<void()>& ours,
             const std::function<void()>& theirs, int reps = 9, int iters = 5) {
  const auto [me, mt] = bench::interleaved(ours, theirs, reps, iters);
  std::printf("%-40s %9.3f %9.3f %7.2fx\n", what.c_str(), me * 1e3, mt * 1e3, mt / me);
  std::fflush(stdout);
}

// x: (B, H, T, D) causal self-attention, forward and forward + backward.
void bench_attention(int64_t B, int64_t H, int64_t T, int64_t D) {
  using ember::Tensor;
  ember::manual_seed(0);
  Tensor q = ember::randn({B, H, T, D}).requires_grad_();
  Tensor k = ember::randn({B, H, T, D}).requires_grad_();
  Tensor v = ember::randn({B, H, T, D}).requires_grad_();
  Tensor g = ember::randn({B, H, T, D});
  torch::Tensor tq = bench::to_torch(q).requires_grad_(), tk = bench::to_torch(k).requires_grad_(),
                tv = bench::to_torch(v).requires_grad_(), tg = bench::to_torch(g);
  const torch::Tensor causal =
      torch::ones({T, T}, torch::kBool).tril().logical_not();  // true = masked
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  const auto torch_attn = [&] {
    torch::Tensor s = tq.matmul(tk.transpose(-2, -1)) * scale;
    return s.masked_fill(causal, -std::numeric_limits<float>::infinity()).softmax(-1).matmul(tv);
  };
  char name[96];
  std::snprintf(name, sizeof name, "sdpa fwd (%lld,%lld,%lld,%lld) causal", (long long)B,
                (long long)H, (long long)T, (long long)D);
  compare(
      name,
      [&] {
        ember::NoGradGuard ng;
        ember::scaled_dot_product_attention(q, k, v, {}, 0.0, true);
      },
      [&] {
        torch::NoGradGuard ng;
        torch_attn();
      });
  std::snprintf(name, sizeof name, "sdpa fwd+bwd (%lld,%lld,%lld,%lld) causal", (long long)B,
                (long long)H, (long long)T, (long long)D);
  compare(
      name,
      [&] {
        ember::autograd::grad(
            {ember::sum(ember::scaled_dot_product_attention(q, k, v, {}, 0.0, true) * g)},
            {q, k, v});
      },
      [&] {
        torch::autograd::grad({(torch_attn() * tg).sum()}, {tq, tk, tv});
      });
}

// LayerNorm over C of (M, C), the austen GPT's shape (batch 32 x 128 tokens, 256 channels).
void bench_layer_norm(int64_t M, int64_t C) {
  using ember::Tensor;
  ember::manual_seed(0);
  Tensor x = ember::randn({M, C}).requires_grad_();
  Tensor w = ember::randn({C}).requires_grad_(), b = ember::randn({C}).requires_grad_();
  Tensor g = ember::randn({M, C});
  torch::Tensor tx = bench::to_torch(x).requires_grad_(), tw = bench::to_torch(w).requires_grad_(),
                tb = bench::to_torch(b).requires_grad_(), tg = bench::to_torch(g);
  char name[96];
  std::snprintf(name, sizeof name, "layer_norm fwd (%lld, %lld)", (long long)M, (long long)C);
  compare(
      name,
      [&] {
        ember::NoGradGuard ng;
        ember::layer_norm(x, {C}, w, b);
      },
      [&] {
        torch::NoGradGuard ng;
        torch::layer_norm(tx, {C}, tw, tb);
      });
  std::snprintf(name, sizeof name, "layer_norm fwd+bwd (%lld, %lld)", (long long)M, (long long)C);
  compare(
      name,
      [&] {
        ember::autograd::grad({ember::sum(ember::layer_norm(x, {C}, w, b) * g)}, {x, w, b});
      },
      [&] {
        torch::autograd::grad({(torch::layer_norm(tx, {C}, tw, tb) * tg).sum()}, {tx, tw, tb});
      });
}

}  // namespace

int main() {
  torch::set_num_threads(omp_get_max_threads());
  std::printf("%-40s %9s %9s %8s\n", "case", "ember ms", "torch ms", "ratio");
  bench_attention(32, 4, 128, 64);
  bench_layer_norm(4096, 256);
  return 0;
}
