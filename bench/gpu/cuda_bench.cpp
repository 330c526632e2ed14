// GPU micro-benchmarks of the CUDA kernels (GEMM, elementwise, softmax, layer norm, AdamW): one
// "RESULT<TAB>name<TAB>ms<TAB>rate" line each, for bench/gpu/run.sh's table.
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "ember/core/cuda.h"
#include "ember/ember.h"

using namespace ember;

namespace {
// Median-free but warm: 3 warm-up calls, then the mean of `reps` synchronised calls, in ms.
double time_ms(const std::function<void()>& f, int reps = 20) {
  for (int i = 0; i < 3; ++i) f();
  cuda::synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) f();
  cuda::synchronize();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(t1 - t0).count() / reps;
}
void report(const std::string& name, double ms, double rate, const char* unit) {
  std::printf("RESULT\t%s\t%.3f ms\t%.1f %s\n", name.c_str(), ms, rate, unit);
  std::fflush(stdout);
}
}  // namespace

int main() {
  if (!cuda::is_available()) {
    std::printf("no CUDA device: cuda_bench skipped\n");
    return 0;
  }
  NoGradGuard no_grad;
  const Options gpu(kFloat32, Device::cuda());
  const int64_t n = 4096;
  Tensor a = randn({n, n}, gpu), b = randn({n, n}, gpu);
  for (const char* p : {"highest", "high", "medium"}) {
    set_float32_matmul_precision(p);
    const double ms = time_ms([&] { (void)matmul(a, b); });
    report(std::string("matmul 4096^3 fp32 precision=") + p, ms, 2.0 * n * n * n / ms / 1e9,
           "TFLOP/s");
  }
  set_float32_matmul_precision("highest");
  Tensor x = randn({int64_t(1) << 26}, gpu), y = randn({int64_t(1) << 26}, gpu);
  double ms = time_ms([&] { (void)add(x, y); });
  report("add 64M fp32", ms, 3.0 * 4 * (1 << 26) / ms / 1e6, "GB/s");
  Tensor logits = randn({8192, 50304}, gpu);
  ms = time_ms([&] { (void)log_softmax(logits, 1); }, 10);
  report("log_softmax 8192 x 50304", ms, 2.0 * 4 * 8192 * 50304 / ms / 1e6, "GB/s");
  Tensor h = randn({16384, 768}, gpu), w = ones({768}, gpu), bias = zeros({768}, gpu);
  ms = time_ms([&] { (void)layer_norm(h, {768}, w, bias); });
  report("layer_norm 16384 x 768", ms, 2.0 * 4 * 16384 * 768 / ms / 1e6, "GB/s");
  Tensor r = randn({16384, 768}, gpu);
  ms = time_ms([&] { (void)sum(r, {0}); });
  report("sum over rows 16384 x 768", ms, 4.0 * 16384 * 768 / ms / 1e6, "GB/s");
  Tensor p = randn({124000000}, gpu).requires_grad_();
  p.set_grad(randn({124000000}, gpu));
  optim::AdamW opt({p});
  ms = time_ms([&] { opt.step(); }, 10);
  report("AdamW step 124M params", ms, 4.0 * 4 * 124e6 / ms / 1e6, "GB/s (4 tensors r+w)");
  const auto s = cuda::memory_stats();
  std::printf("RESULT\tpeak memory\t%.2f GiB\treserved %.2f GiB\n", s.peak / 1073741824.0,
              s.reserved / 1073741824.0);
  return 0;
}
