// Side-by-side benchmarks: every case runs in Ember and in libtorch in the same process under
// Google Benchmark; results go to stdout as "case<TAB>impl<TAB>seconds" lines for bench/report.py.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "ember/ember.h"

namespace {

// ---- the machine's float32 peak: independent 256-bit FMAs on every thread ----

__attribute__((target("avx2,fma"))) float fma_loop(int64_t iters) {
  __m256 acc[10];
  for (int i = 0; i < 10; ++i) acc[i] = _mm256_set1_ps(0.1f * static_cast<float>(i));
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 10; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
  float out[8];
  __m256 sum = acc[0];
  for (int i = 1; i < 10; ++i) sum = _mm256_add_ps(sum, acc[i]);
  _mm256_storeu_ps(out, sum);
  return out[0];
}

// Measured FLOP/s of FMA-only code on all threads (2 FMA pipes x 8 lanes x 2 FLOP per cycle per
// core on AVX2/Zen 4), at the clock the cores actually run.
double measured_peak_gflops() {
  const int64_t iters = 20'000'000;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    float sink = 0;
    const auto t0 = std::chrono::steady_clock::now();
    int threads = 1;
#pragma omp parallel reduction(+ : sink)
    {
      threads = omp_get_num_threads();
      sink += fma_loop(iters);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(sink);
    best = std::max(best, threads * iters * 10.0 * 8 * 2 / s * 1e-9);
  }
  return best;
}

// ---- float32 GEMM ----

void ember_matmul(benchmark::State& state, int64_t n, int64_t k, int64_t m) {
  ember::manual_seed(0);
  ember::Tensor a = ember::randn({n, k}), b = ember::randn({k, m});
  for (auto _ : state) benchmark::DoNotOptimize(ember::matmul(a, b).raw_data());
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * n * k * m, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void torch_matmul(benchmark::State& state, int64_t n, int64_t k, int64_t m) {
  torch::manual_seed(0);
  torch::Tensor a = torch::randn({n, k}), b = torch::randn({k, m});
  for (auto _ : state) benchmark::DoNotOptimize(torch::matmul(a, b).data_ptr());
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * n * k * m, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

// ---- per-op overhead: a + b on 1-element tensors ----

void ember_add_tiny(benchmark::State& state) {
  ember::Tensor a = ember::ones({1}), b = ember::ones({1});
  for (auto _ : state) benchmark::DoNotOptimize((a + b).raw_data());
}

void torch_add_tiny(benchmark::State& state) {
  torch::Tensor a = torch::ones({1}), b = torch::ones({1});
  for (auto _ : state) benchmark::DoNotOptimize((a + b).data_ptr());
}

// ---- MLP 784-256-128-10 (ReLU): one Adam training step at batch 128, and batch-1 inference ----

std::shared_ptr<ember::nn::Sequential> ember_mlp() {
  using namespace ember::nn;
  return std::make_shared<Sequential>(std::make_shared<Linear>(784, 256), std::make_shared<ReLU>(),
                                      std::make_shared<Linear>(256, 128), std::make_shared<ReLU>(),
                                      std::make_shared<Linear>(128, 10));
}

torch::nn::Sequential torch_mlp() {
  return torch::nn::Sequential(torch::nn::Linear(784, 256), torch::nn::ReLU(),
                               torch::nn::Linear(256, 128), torch::nn::ReLU(),
                               torch::nn::Linear(128, 10));
}

void ember_mlp_train(benchmark::State& state) {
  ember::manual_seed(0);
  auto model = ember_mlp();
  ember::optim::Adam opt(model->parameters(), {.lr = 1e-3});
  ember::Tensor x = ember::randn({128, 784}), y = ember::randint(0, 10, {128});
  for (auto _ : state) {
    opt.zero_grad();
    ember::Tensor loss = ember::nn::functional::cross_entropy((*model)(x), y);
    loss.backward();
    opt.step();
  }
}

void torch_mlp_train(benchmark::State& state) {
  torch::manual_seed(0);
  auto model = torch_mlp();
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  torch::Tensor x = torch::randn({128, 784}), y = torch::randint(0, 10, {128});
  for (auto _ : state) {
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    opt.step();
  }
}

void ember_mlp_infer(benchmark::State& state) {
  ember::manual_seed(0);
  auto model = ember_mlp();
  ember::Tensor x = ember::randn({1, 784});
  ember::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize((*model)(x).raw_data());
}

void torch_mlp_infer(benchmark::State& state) {
  torch::manual_seed(0);
  auto model = torch_mlp();
  torch::Tensor x = torch::randn({1, 784});
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(x).data_ptr());
}

// ---- the Fashion-MNIST CNN of examples/fmnist_cnn.toml: conv 1->32, pool, conv 32->64, pool,
// Linear 3136->128, Linear 128->10 (ReLUs between); an Adam step at batch 64, inference ----

std::shared_ptr<ember::nn::Sequential> ember_cnn() {
  using namespace ember::nn;
  return std::make_shared<Sequential>(
      std::make_shared<Conv2d>(1, 32, 3, 1, 1), std::make_shared<ReLU>(),
      std::make_shared<MaxPool2d>(ember::Shape{2}), std::make_shared<Conv2d>(32, 64, 3, 1, 1),
      std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(ember::Shape{2}),
      std::make_shared<Flatten>(), std::make_shared<Linear>(3136, 128), std::make_shared<ReLU>(),
      std::make_shared<Linear>(128, 10));
}

torch::nn::Sequential torch_cnn() {
  using namespace torch::nn;
  return Sequential(Conv2d(Conv2dOptions(1, 32, 3).padding(1)), ReLU(), MaxPool2d(2),
                    Conv2d(Conv2dOptions(32, 64, 3).padding(1)), ReLU(), MaxPool2d(2), Flatten(),
                    Linear(3136, 128), ReLU(), Linear(128, 10));
}

void ember_cnn_train(benchmark::State& state) {
  ember::manual_seed(0);
  auto model = ember_cnn();
  ember::optim::Adam opt(model->parameters(), {.lr = 1e-3});
  ember::Tensor x = ember::randn({64, 1, 28, 28}), y = ember::randint(0, 10, {64});
  for (auto _ : state) {
    opt.zero_grad();
    ember::Tensor loss = ember::nn::functional::cross_entropy((*model)(x), y);
    loss.backward();
    opt.step();
  }
}

void torch_cnn_train(benchmark::State& state) {
  torch::manual_seed(0);
  auto model = torch_cnn();
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  torch::Tensor x = torch::randn({64, 1, 28, 28}), y = torch::randint(0, 10, {64});
  for (auto _ : state) {
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    opt.step();
  }
}

void ember_cnn_infer(benchmark::State& state, int64_t batch) {
  ember::manual_seed(0);
  auto model = ember_cnn();
  model->eval();
  ember::Tensor x = ember::randn({batch, 1, 28, 28});
  ember::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize((*model)(x).raw_data());
}

void torch_cnn_infer(benchmark::State& state, int64_t batch) {
  torch::manual_seed(0);
  auto model = torch_cnn();
  model->eval();
  torch::Tensor x = torch::randn({batch, 1, 28, 28});
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(x).data_ptr());
}

// Collects real time per iteration of every run, keyed "case/impl".
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (!r.error_occurred && r.iterations > 0)
        seconds[r.run_name.function_name] =
            r.real_accumulated_time / static_cast<double>(r.iterations);
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds;
};

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(2);
  benchmark::RegisterBenchmark("matmul_1024x1024x1024/ember", ember_matmul, 1024, 1024, 1024)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(1.0);
  benchmark::RegisterBenchmark("matmul_1024x1024x1024/libtorch", torch_matmul, 1024, 1024, 1024)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(1.0);
  benchmark::RegisterBenchmark("matmul_4096x768x768/ember", ember_matmul, 4096, 768, 768)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(1.0);
  benchmark::RegisterBenchmark("matmul_4096x768x768/libtorch", torch_matmul, 4096, 768, 768)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(1.0);
  benchmark::RegisterBenchmark("add_1elem/ember", ember_add_tiny)->MinTime(0.5);
  benchmark::RegisterBenchmark("add_1elem/libtorch", torch_add_tiny)->MinTime(0.5);

  benchmark::RegisterBenchmark("mlp_train_step_b128/ember", ember_mlp_train)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("mlp_train_step_b128/libtorch", torch_mlp_train)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("mlp_infer_1/ember", ember_mlp_infer)
      ->Unit(benchmark::kMicrosecond)
      ->MinTime(1.0);
  benchmark::RegisterBenchmark("mlp_infer_1/libtorch", torch_mlp_infer)
      ->Unit(benchmark::kMicrosecond)
      ->MinTime(1.0);

  benchmark::RegisterBenchmark("cnn_train_step_b64/ember", ember_cnn_train)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(3.0);
  benchmark::RegisterBenchmark("cnn_train_step_b64/libtorch", torch_cnn_train)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(3.0);
  benchmark::RegisterBenchmark("cnn_infer_1/ember", ember_cnn_infer, 1)
      ->Unit(benchmark::kMicrosecond)
      ->MinTime(1.0);
  benchmark::RegisterBenchmark("cnn_infer_1/libtorch", torch_cnn_infer, 1)
      ->Unit(benchmark::kMicrosecond)
      ->MinTime(1.0);
  benchmark::RegisterBenchmark("cnn_infer_256/ember", ember_cnn_infer, 256)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);
  benchmark::RegisterBenchmark("cnn_infer_256/libtorch", torch_cnn_infer, 256)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);

  benchmark::Initialize(&argc, argv);
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  std::fprintf(stderr, "PEAK\t%.1f\n", measured_peak_gflops());
  for (const auto& [name, s] : collector.seconds) {
    const auto slash = name.rfind('/');
    std::fprintf(stderr, "RESULT\t%s\t%s\t%.9g\n", name.substr(0, slash).c_str(),
                 name.substr(slash + 1).c_str(), s);
  }
  return 0;
}
