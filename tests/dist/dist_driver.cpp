// A small MPI program for the failure tests and the allreduce micro-benchmark:
//   ember_dist_driver stop|kill|mismatch TIMEOUT_S   (rank 1 misbehaves; see failure_test.sh)
//   ember_dist_driver bench                          (allreduce GB/s of 1 MB and 16 MB float32)
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ember/dist/process_group.h"
#include "ember/ember.h"

using namespace ember;

namespace {

int run_failure(const std::string& mode, double timeout_s) {
  auto g = dist::init_process_group({"mpi", timeout_s});
  g->barrier();  // every rank is up
  Tensor t = full({mode == "mismatch" && g->rank() == 1 ? 2000 : 1000}, 1.0);
  if (g->rank() == 1 && mode == "stop") std::raise(SIGSTOP);  // alive but never answers
  if (g->rank() == 1 && mode == "kill") std::raise(SIGKILL);
  try {
    g->allreduce(t);
  } catch (const dist::DistError& e) {
    // The group is broken now: a later collective throws at once.
    auto t0 = std::chrono::steady_clock::now();
    try {
      g->barrier();
    } catch (const dist::DistError& later) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "rank %d: then barrier threw after %.3f s: %s\n", g->rank(), s,
                   later.message().c_str());
    }
    g->abort(e.message(), 3);
  }
  std::fprintf(stderr, "rank %d: allreduce returned although rank 1 misbehaved\n", g->rank());
  return 0;
}

int run_bench() {
  auto g = dist::init_process_group({"mpi", 120});
  for (int64_t bytes : {int64_t{1} << 20, int64_t{16} << 20}) {
    Tensor t = full({bytes / 4}, 1.0);
    for (int i = 0; i < 3; ++i) g->allreduce(t);  // warm up
    std::vector<double> secs;
    const int reps = bytes < (4 << 20) ? 50 : 10;
    for (int i = 0; i < reps; ++i) {
      g->barrier();
      auto t0 = std::chrono::steady_clock::now();
      g->allreduce(t);
      secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(secs.begin(), secs.end());
    double med = secs[secs.size() / 2];
    double algbw = static_cast<double>(bytes) / med / 1e9;
    double busbw = algbw * 2.0 * (g->size() - 1) / g->size();
    if (g->rank() == 0)
      std::printf(
          "allreduce %5.1f MB float32, %d ranks: median %.3f ms, algbw %.2f GB/s, "
          "busbw %.2f GB/s\n",
          static_cast<double>(bytes) / (1 << 20), g->size(), med * 1e3, algbw, busbw);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "bench") return run_bench();
    if (mode == "stop" || mode == "kill" || mode == "mismatch")
      return run_failure(mode, argc > 2 ? std::atof(argv[2]) : 3.0);
  } catch (const Error& e) {
    std::fprintf(stderr, "ember_dist_driver: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: ember_dist_driver stop|kill|mismatch [TIMEOUT_S] | bench\n");
  return 2;
}
