// Side-by-side benchmarks: every case runs in Ember and in libtorch in the same process under
// Google Benchmark; results go to stdout as "case<TAB>impl<TAB>seconds" lines for bench/report.py.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdio>
#include <map>
#include <string>

#include "ember/ember.h"

namespace {

// ---- float32 GEMM ----

void ember_matmul(benchmark::State& state, int64_t n, int64_t k, int64_t m) {
  ember::manual_seed(0);
  ember::Tensor a = ember::randn({n, k}), b = ember::randn({k, m});
  for (auto _ : state) benchmark::DoNotOptimize(ember::matmul(a, b).raw_data());
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * n * k * m, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
}

void torch_matmul(benchmark::State& state, int64_t n, int64_t k, int64_t m) {
  torch::manual_seed(0);
  torch::Tensor a = torch::randn({n, k}), b = torch::randn({k, m});
  for (auto _ : state) benchmark::DoNotOptimize(torch::matmul(a, b).data_ptr());
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * n * k * m, benchmark::Counter::kIsIterationInvariantRate,
                         benchmark::Counter::kIs1000);
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

// Collects real time per iteration of every run, keyed "case/impl".
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (!r.error_occurred && r.iterations > 0)
        seconds[r.run_name.function_name] = r.real_accumulated_time / static_cast<double>(r.iterations);
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds;
};

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(2);
  benchmark::RegisterBenchmark("matmul_1024x1024x1024/ember", ember_matmul, 1024, 1024, 1024)
      ->Unit(benchmark::kMillisecond)->MinTime(1.0);
  benchmark::RegisterBenchmark("matmul_1024x1024x1024/libtorch", torch_matmul, 1024, 1024, 1024)
      ->Unit(benchmark::kMillisecond)->MinTime(1.0);
  benchmark::RegisterBenchmark("matmul_4096x768x768/ember", ember_matmul, 4096, 768, 768)
      ->Unit(benchmark::kMillisecond)->MinTime(1.0);
  benchmark::RegisterBenchmark("matmul_4096x768x768/libtorch", torch_matmul, 4096, 768, 768)
      ->Unit(benchmark::kMillisecond)->MinTime(1.0);
  benchmark::RegisterBenchmark("add_1elem/ember", ember_add_tiny)->MinTime(0.5);
  benchmark::RegisterBenchmark("add_1elem/libtorch", torch_add_tiny)->MinTime(0.5);

  benchmark::Initialize(&argc, argv);
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  for (const auto& [name, s] : collector.seconds) {
    const auto slash = name.rfind('/');
    std::fprintf(stderr, "RESULT\t%s\t%s\t%.9g\n", name.substr(0, slash).c_str(),
                 name.substr(slash + 1).c_str(), s);
  }
  return 0;
}
