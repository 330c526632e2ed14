// The `ember` command as users run it: exit codes, one-line errors naming the file:line:column or
// the key, help on every subcommand, train → eval → predict, and resume after kill -9.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace {

const std::string kEmber = EMBER_CLI;
const std::string kSource = EMBER_SOURCE_DIR;
const fs::path kTmp = fs::path(EMBER_TEST_TMPDIR) / "cli";

struct Result {
  int code = -1;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `ember ARGS` through the shell, capturing stdout, stderr and the exit code.
Result ember(const std::string& args) {
  fs::create_directories(kTmp);
  const fs::path out = kTmp / "stdout.txt", err = kTmp / "stderr.txt";
  const std::string cmd = kEmber + " " + args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

fs::path write(const std::string& name, const std::string& text) {
  fs::create_directories(kTmp);
  const fs::path p = kTmp / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string iris() {
  return kSource + "/data/iris.csv";
}

// A config over the iris data with one section's text replaced or added.
fs::path iris_config(const std::string& name, const std::string& extra = "",
                     const std::string& data_section = "") {
  return write(name,
               (data_section.empty() ? "[data]\npath = \"" + iris() + "\"\ntarget = \"species\"\n"
                                     : data_section) +
                   "[training]\nepochs = 3\n" + extra);
}

// The failure shape every bad input must have: the exit code, exactly one line on stderr that
// contains each fragment, and no crash output.
void expect_failure(const Result& r, int code, const std::vector<std::string>& fragments) {
  EXPECT_EQ(r.code, code) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  for (const auto& f : fragments)
    EXPECT_NE(r.err.find(f), std::string::npos) << f << " in: " << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
}

}  // namespace

TEST(Cli, HelpAndVersion) {
  for (const char* sub : {"", "train ", "eval ", "predict ", "inspect ", "summary "}) {
    const Result r = ember(std::string(sub) + "--help");
    EXPECT_EQ(r.code, 0) << sub;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub << r.out;
  }
  EXPECT_EQ(ember("--version").out, "ember 0.1.0\n");
  expect_failure(ember("frobnicate"), 2, {"frobnicate"});
  expect_failure(ember(""), 2, {});
}

TEST(Cli, BadCsvFilesNameTheFileAndLine) {
  expect_failure(ember("inspect " + write("ragged.csv", "a,b,c\n1,2,3\n4,5\n").string()), 2,
                 {"ragged.csv:3", "2 fields", "3"});
  expect_failure(ember("inspect " + write("nonnum.csv", "a,b\n1,2\n3,abc\n").string()), 2,
                 {"nonnum.csv:3:3", "abc", "'b'"});
  expect_failure(ember("inspect " + write("empty.csv", "").string()), 2, {"empty.csv", "empty"});
  expect_failure(ember("inspect " + write("binary.csv", std::string("\x7f"
                                                                    "ELF\0\x01\x02",
                                                                    7))
                                        .string()),
                 2, {"binary.csv", "not a text"});
  expect_failure(ember("inspect " + (kTmp / "nope.csv").string()), 2, {"nope.csv"});
  // The same problems through `ember train`.
  const fs::path ragged = kTmp / "ragged.csv";
  expect_failure(
      ember("train " + iris_config("ragged.toml", "",
                                   "[data]\npath = \"" + ragged.string() + "\"\ntarget = \"c\"\n")
                           .string()),
      2, {"ragged.csv:3"});
}

TEST(Cli, BadConfigsNameTheKey) {
  expect_failure(
      ember("train " + iris_config("target.toml", "",
                                   "[data]\npath = \"" + iris() + "\"\ntarget = \"colour\"\n")
                           .string()),
      2, {"colour", "species"});
  expect_failure(ember("train " + iris_config("unknown.toml", "[optimizer]\nlrr = 0.1\n").string()),
                 2, {"unknown.toml:", "lrr", "did you mean 'lr'"});
  expect_failure(
      ember("train " + iris_config("type.toml", "[optimizer]\nlr = \"fast\"\n").string()), 2,
      {"type.toml:", "optimizer.lr", "fast"});
  expect_failure(ember("train " + write("nodata.toml", "[model]\ntype = \"mlp\"\n").string()), 2,
                 {"nodata.toml", "[data]"});
  expect_failure(ember("train " + iris_config("neg.toml", "[optimizer]\nlr = -0.1\n").string()), 2,
                 {"neg.toml:", "optimizer.lr", "-0.1"});
  expect_failure(ember("train " + iris_config("set.toml").string() + " --set optimizer.lr=-1"), 2,
                 {"optimizer.lr"});
  expect_failure(ember("train " + iris_config("syntax.toml", "[model\n").string()), 2,
                 {"syntax.toml:"});
}

TEST(Cli, MissingRunDirectoriesAreUsageErrors) {
  const std::string nowhere = (kTmp / "no_such_run").string();
  expect_failure(ember("eval " + nowhere), 2, {"no_such_run"});
  expect_failure(ember("predict " + nowhere + " " + iris()), 2, {"no_such_run"});
  expect_failure(ember("train " + iris_config("resume.toml").string() + " --resume " + nowhere), 2,
                 {"no_such_run"});
}

TEST(Cli, TrainEvalPredict) {
  const fs::path run = kTmp / "iris_run";
  fs::remove_all(run);
  const Result t = ember("train " + iris_config("ok.toml", "[output]\nplots = false\n").string() +
                         " --out " + run.string());
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("test_accuracy"), std::string::npos) << t.out;
  EXPECT_NE(t.err.find("epoch 3/3"), std::string::npos) << t.err;  // plain progress lines
  const Result e = ember("eval " + run.string() + " --json");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_NE(e.out.find("\"accuracy\""), std::string::npos) << e.out;
  const Result p =
      ember("predict " + run.string() + " " + iris() + " -o " + (kTmp / "pred.csv").string());
  ASSERT_EQ(p.code, 0) << p.err;
  const std::string csv = slurp(kTmp / "pred.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 151);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "sepal_length,sepal_width,petal_length,petal_width,species,prediction,"
            "prob_setosa,prob_versicolor,prob_virginica");
}

// kill -9 a training process after its first checkpoint, resume it, and get exactly the
// metrics of the run that was never interrupted.
TEST(Cli, ResumeAfterKillMatchesTheUninterruptedRun) {
  const std::string cfg = kSource + "/examples/digits.toml";
  const std::string common = " --set data.path=" + kSource + "/data/digits.csv" +
                             " --set training.epochs=8 --set output.plots=false -q";
  const fs::path full = kTmp / "digits_full", killed = kTmp / "digits_killed";
  fs::remove_all(full);
  fs::remove_all(killed);
  ASSERT_EQ(ember("train " + cfg + common + " --out " + full.string()).code, 0);

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(kEmber.c_str(), kEmber.c_str(), "train", cfg.c_str(), "--set",
          ("data.path=" + kSource + "/data/digits.csv").c_str(), "--set", "training.epochs=8",
          "--set", "output.plots=false", "-q", "--out", killed.c_str(), nullptr);
    _exit(127);
  }
  while (!fs::exists(killed / "checkpoints" / "last.json"))
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  const Result r = ember("train " + cfg + common + " --resume " + killed.string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(full / "metrics.json"), slurp(killed / "metrics.json"));
  EXPECT_EQ(slurp(full / "metrics.csv"), slurp(killed / "metrics.csv"));
}
