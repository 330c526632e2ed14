// GPT-2 small (124 M parameters) training steps on the GPU: tokens/s, loss after the steps, peak
// memory, MFU against a measured matmul rate. One "RESULT<TAB>name<TAB>value<TAB>note" line each.
// Usage: gpt2_train [batch] [steps] [precision: highest|high|medium]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ember/core/cuda.h"
#include "ember/ember.h"
#include "ember/models/gpt.h"

using namespace ember;

int main(int argc, char** argv) {
  if (!cuda::is_available()) {
    std::printf("no CUDA device: gpt2_train skipped\n");
    return 0;
  }
  const int64_t B = argc > 1 ? std::atoll(argv[1]) : 16, steps = argc > 2 ? std::atoll(argv[2]) : 20;
  const std::string precision = argc > 3 ? argv[3] : "high";
  set_float32_matmul_precision(precision);
  const Device gpu = Device::cuda();

  // The matmul rate this precision reaches here: the MFU denominator.
  double peak_flops = 0;
  {
    NoGradGuard no_grad;
    const Tensor a = randn({8192, 8192}, Options(kFloat32, gpu));
    for (int i = 0; i < 3; ++i) (void)matmul(a, a);
    cuda::synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) (void)matmul(a, a);
    cuda::synchronize();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    peak_flops = 10 * 2.0 * 8192.0 * 8192.0 * 8192.0 / s;
  }

  manual_seed(0);
  models::GPTConfig cfg;  // GPT-2 small with the vocabulary padded to a multiple of 64
  cfg.vocab_size = 50304;
  cfg.block_size = 1024;
  cfg.n_layer = 12;
  cfg.n_head = 12;
  cfg.n_embd = 768;
  models::GPT model(cfg);
  model.to(gpu);
  model.train();
  optim::AdamW opt(model.parameters(), {.lr = 6e-4, .betas = {0.9, 0.95}, .weight_decay = 0.1});
  const int64_t T = cfg.block_size, params = model.num_parameters();

  double loss = 0, seconds = 0;
  for (int64_t step = 0; step <= steps; ++step) {  // step 0 warms up and is not timed
    const Tensor idx = randint(0, cfg.vocab_size, {B, T + 1}).to(gpu);
    const Tensor x = idx.narrow(1, 0, T).contiguous(), y = idx.narrow(1, 1, T).contiguous();
    cuda::synchronize();
    const auto t0 = std::chrono::steady_clock::now();
    const Tensor l = nn::functional::cross_entropy(model(x).flatten(0, 1), y.flatten());
    l.backward();
    opt.step();
    opt.zero_grad();
    loss = l.item();  // synchronises
    if (step > 0)
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double tokens_per_s = static_cast<double>(B * T * steps) / seconds;
  const double flops_per_token = 6.0 * static_cast<double>(params) +
                                 12.0 * cfg.n_layer * static_cast<double>(T) * cfg.n_embd;
  const auto mem = cuda::memory_stats();
  std::printf("RESULT\tember tokens/s (B=%lld, %s)\t%.0f\t\n", static_cast<long long>(B),
              precision.c_str(), tokens_per_s);
  std::printf("RESULT\tember loss after %lld steps\t%.4f\t\n", static_cast<long long>(steps), loss);
  std::printf("RESULT\tember peak memory\t%.2f GiB\t\n", mem.peak / 1073741824.0);
  std::printf("RESULT\tember MFU vs measured matmul\t%.1f%%\tmatmul %.0f TFLOP/s\n",
              100 * tokens_per_s * flops_per_token / peak_flops, peak_flops / 1e12);
  return 0;
}
