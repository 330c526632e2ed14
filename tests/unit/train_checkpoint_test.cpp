// Checkpoints: round trip, cleanup of old tensor files, and kill -9 while writing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "ember/ember.h"
#include "support/expect.h"
#include "support/tmpdir.h"

namespace fs = std::filesystem;
using namespace ember;
using ember::testing::expect_error;

namespace {

fs::path fresh_dir(const std::string& name) {
  return ember::testing::fresh_dir("train_checkpoint", name);
}

}  // namespace

TEST(TrainCheckpoint, RoundTripsTensorsAndState) {
  const fs::path dir = fresh_dir("round_trip");
  train::Checkpoint c;
  c.tensors = {{"model.w", arange(6).reshape({2, 3})}, {"optimizer.step", tensor({7.0}, kInt64)}};
  c.state = json::Value::object();
  c.state["epoch"] = 3;
  train::save_checkpoint(dir.string(), "last", 42, c);
  ASSERT_TRUE(train::has_checkpoint(dir.string(), "last"));
  EXPECT_FALSE(train::has_checkpoint(dir.string(), "best"));
  const train::Checkpoint back = train::load_checkpoint(dir.string(), "last");
  EXPECT_EQ(back.state["epoch"].as_int(), 3);
  EXPECT_EQ(back.state["step"].as_int(), 42);
  ASSERT_EQ(back.tensors.size(), 2u);
  std::map<std::string, Tensor> by_name(back.tensors.begin(), back.tensors.end());
  EXPECT_EQ(by_name["model.w"].shape(), (Shape{2, 3}));
  EXPECT_EQ(by_name["model.w"].to_vector<float>(), arange(6).to_vector<float>());
  EXPECT_EQ(by_name["optimizer.step"].item(), 7.0);
}

TEST(TrainCheckpoint, KeepsOnlyTheCommittedTensorFile) {
  const fs::path dir = fresh_dir("cleanup");
  train::Checkpoint c{{{"w", ones({2})}}, json::Value::object()};
  train::save_checkpoint(dir.string(), "last", 1, c);
  train::save_checkpoint(dir.string(), "best", 1, c);
  train::save_checkpoint(dir.string(), "last", 2, c);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"best-000000001.safetensors", "best.json",
                                             "last-000000002.safetensors", "last.json"}));
}

TEST(TrainCheckpoint, MissingOrBadCheckpointNamesTheFile) {
  const fs::path dir = fresh_dir("bad");
  expect_error<IOError>([&] { train::load_checkpoint(dir.string(), "last"); },
                        {"last.json", "no checkpoint"});
  io::write_file_atomic((dir / "last.json").string(), "{\"tensors\": \"../../etc/passwd\"}");
  expect_error<IOError>([&] { train::load_checkpoint(dir.string(), "last"); }, {"tensors"});
  io::write_file_atomic((dir / "last.json").string(), "{\"tensors\": \"gone.safetensors\"}");
  expect_error<IOError>([&] { train::load_checkpoint(dir.string(), "last"); },
                        {"gone.safetensors"});
}

TEST(TrainCheckpoint, GeneratorStateRoundTripsExactly) {
  Generator g(123);
  g.next_normal();  // leaves a cached spare normal
  const Generator::State s = g.state();
  const Generator::State back =
      train::generator_state_from_json(json::parse(train::generator_state_to_json(s).dump()));
  Generator h;
  h.set_state(back);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(g.next_normal(), h.next_normal());
}

// A writer killed with SIGKILL at random moments while it rewrites the checkpoint in a loop must
// leave a checkpoint that loads and is consistent (its tensor holds the step its JSON names).
TEST(TrainCheckpoint, KillDuringWritingLeavesThePreviousCheckpointLoadable) {
  const fs::path dir = fresh_dir("kill9");
  constexpr int64_t kFloats = 2 << 20;  // 8 MB per write: the kill often lands mid-write
  Tensor big = zeros({kFloats});
  for (int trial = 0; trial < 6; ++trial) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // the writer: plain loops only (no OpenMP after fork)
      float* p = big.data_ptr<float>();
      for (int64_t step = 1;; ++step) {
        std::fill(p, p + kFloats, static_cast<float>(step));
        train::Checkpoint c{{{"w", big}}, json::Value::object()};
        train::save_checkpoint(dir.string(), "last", step, c);
      }
    }
    while (!train::has_checkpoint(dir.string(), "last"))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(3 + 7 * trial));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    const train::Checkpoint c = train::load_checkpoint(dir.string(), "last");
    const int64_t step = c.state["step"].as_int();
    ASSERT_EQ(c.tensors.size(), 1u);
    const std::vector<float> w = c.tensors[0].second.to_vector<float>();
    ASSERT_EQ(static_cast<int64_t>(w.size()), kFloats);
    EXPECT_TRUE(std::all_of(w.begin(), w.end(), [&](float v) { return v == step; }))
        << "trial " << trial << ": tensor does not match step " << step;
  }
}
