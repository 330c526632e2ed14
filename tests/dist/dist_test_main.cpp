// main() of ember_dist_tests: starts the MPI world, runs GoogleTest on every rank (rank 0 prints
// the usual report, the others only their failures), then finalises MPI by dropping the group.
#include <gtest/gtest.h>

#include <cstdio>

#include "dist_world.h"

namespace {

std::shared_ptr<ember::dist::ProcessGroup> g_world;

// Prints only failed assertions, prefixed with the rank (used on ranks other than 0).
class FailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_,
                 r.file_name() ? r.file_name() : "?", r.line_number(), r.summary());
  }
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result()->Failed())
      std::fprintf(stderr, "[rank %d] FAILED %s.%s\n", rank_, info.test_suite_name(), info.name());
  }

 private:
  int rank_;
};

}  // namespace

namespace ember::testing {
dist::ProcessGroup& world() {
  return *g_world;
}
}  // namespace ember::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ember::dist::InitOptions opts;
  opts.timeout_seconds = 30;  // a test that hangs fails with a message instead
  g_world = ember::dist::init_process_group(opts);
  if (g_world->rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new FailurePrinter(g_world->rank()));
  }
  int rc = RUN_ALL_TESTS();
  g_world.reset();  // MPI_Finalize
  return rc;
}
