// The MPI world the distributed tests share (initialised once in dist_test_main.cpp).
#pragma once

#include "ember/dist/process_group.h"

namespace ember::testing {
/// The world process group of this test run (backend mpi).
dist::ProcessGroup& world();
}  // namespace ember::testing
