// Atomic file writes: replacement, failure cleanup (no temp files, old contents intact), reads,
// maps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>

#include "ember/ember.h"
#include "support/tmpdir.h"

using namespace ember;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  return ember::testing::fresh_dir("io_file", name);
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST(IoFile, WriteAtomicCreatesAndReplaces) {
  const fs::path dir = fresh_dir("replace");
  const std::string path = (dir / "data.bin").string();
  io::write_file_atomic(path, "first");
  EXPECT_EQ(io::read_file(path), "first");
  const std::string big(3 << 20, 'x');  // larger than the write buffer
  io::write_file_atomic(path, big);
  EXPECT_EQ(io::read_file(path), big);
  io::write_file_atomic(path, "");
  EXPECT_EQ(io::read_file(path), "");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"data.bin"});
}

TEST(IoFile, RelativePathInCurrentDirectory) {
  const fs::path dir = fresh_dir("relative");
  const fs::path old = fs::current_path();
  fs::current_path(dir);
  io::write_file_atomic("plain.txt", "hello");
  fs::current_path(old);
  EXPECT_EQ(io::read_file((dir / "plain.txt").string()), "hello");
}

TEST(IoFile, NewFilesUseUmaskAndReplacementsKeepPermissions) {
  const fs::path dir = fresh_dir("perms");
  const std::string path = (dir / "f").string();
  const mode_t old_mask = ::umask(022);
  io::write_file_atomic(path, "a");
  ::umask(old_mask);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  io::write_file_atomic(path, "b");
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(IoFile, MissingDirectoryFailsCleanly) {
  const fs::path dir = fresh_dir("missing");
  const std::string path = (dir / "no" / "such" / "file.bin").string();
  try {
    io::write_file_atomic(path, "x");
    FAIL() << "expected IOError";
  } catch (const IOError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr("No such file or directory"));
  }
  EXPECT_TRUE(listing(dir).empty());
}

TEST(IoFile, FailedRenameKeepsOldFileAndRemovesTemp) {
  // The target is a non-empty directory: everything succeeds up to the rename, which fails.
  const fs::path dir = fresh_dir("rename");
  const fs::path target = dir / "checkpoint";
  fs::create_directories(target);
  io::write_file_atomic((target / "keep").string(), "old");
  try {
    io::write_file_atomic(target.string(), "new contents");
    FAIL() << "expected IOError";
  } catch (const IOError& e) {
    EXPECT_THAT(e.what(), HasSubstr(target.string()));
    EXPECT_THAT(e.what(), HasSubstr("rename"));
  }
  EXPECT_EQ(listing(dir), std::vector<std::string>{"checkpoint"});
  EXPECT_EQ(io::read_file((target / "keep").string()), "old");
}

TEST(IoFile, ReadOnlyDirectoryKeepsOldFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  const fs::path dir = fresh_dir("readonly");
  const std::string path = (dir / "model.bin").string();
  io::write_file_atomic(path, "old");
  ASSERT_EQ(::chmod(dir.c_str(), 0555), 0);
  EXPECT_THROW(io::write_file_atomic(path, "new"), IOError);
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
  EXPECT_EQ(io::read_file(path), "old");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"model.bin"});
}

TEST(IoFile, WriteFailureMidwayKeepsOldFile) {
  // A file-size limit makes write() fail with EFBIG after the temporary file exists (and works
  // even as root, unlike read-only directories).
  const fs::path dir = fresh_dir("efbig");
  const std::string path = (dir / "weights.safetensors").string();
  io::write_file_atomic(path, "old");
  rlimit old_limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  rlimit small = old_limit;
  small.rlim_cur = 1 << 20;
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    io::write_file_atomic(path, std::string(4 << 20, 'z'));
  } catch (const IOError& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_THAT(message, HasSubstr(path));
  EXPECT_THAT(message, HasSubstr("File too large"));
  EXPECT_EQ(io::read_file(path), "old");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"weights.safetensors"});
}

TEST(IoFile, UncommittedWriteIsDiscarded) {
  const fs::path dir = fresh_dir("discard");
  const std::string path = (dir / "state.json").string();
  io::write_file_atomic(path, "old");
  try {
    io::AtomicFile f(path);
    f.write("half a checkp");
    EXPECT_TRUE(fs::exists(f.temp_path()));
    throw std::runtime_error("crash while writing");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(io::read_file(path), "old");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"state.json"});

  io::AtomicFile f(path);
  f.write(std::string(2 << 20, 'y'));  // flushed to the temp file
  EXPECT_TRUE(fs::exists(f.temp_path()));
  EXPECT_EQ(fs::path(f.temp_path()).parent_path(), dir);
  f.discard();
  EXPECT_EQ(listing(dir), std::vector<std::string>{"state.json"});
  EXPECT_THROW(f.write("x"), IOError);
  EXPECT_THROW(f.commit(), IOError);
}

TEST(IoFile, StreamedWritesCommitOnce) {
  const fs::path dir = fresh_dir("stream");
  const std::string path = (dir / "out").string();
  io::AtomicFile f(path);
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string piece = std::to_string(i) + ",";
    f.write(piece);
    expected += piece;
  }
  EXPECT_FALSE(fs::exists(path));
  f.commit();
  EXPECT_EQ(io::read_file(path), expected);
  EXPECT_THROW(f.commit(), IOError);
}

TEST(IoFile, PathThatIsADirectoryName) {
  const fs::path dir = fresh_dir("dirname");
  EXPECT_THROW(io::write_file_atomic(dir.string() + "/", "x"), IOError);
}

TEST(IoFile, ReadFileErrorsNameThePath) {
  const fs::path dir = fresh_dir("read");
  const std::string missing = (dir / "nope.txt").string();
  try {
    io::read_file(missing);
    FAIL();
  } catch (const IOError& e) {
    EXPECT_THAT(e.what(), HasSubstr(missing));
    EXPECT_THAT(e.what(), HasSubstr("No such file"));
  }
  EXPECT_THROW(io::read_file(dir.string()), IOError);
}

TEST(IoFile, MappedFileIsCopyOnWrite) {
  const fs::path dir = fresh_dir("map");
  const std::string path = (dir / "m.bin").string();
  io::write_file_atomic(path, "abcdef");
  auto m = io::MappedFile::open(path);
  ASSERT_EQ(m->size(), 6u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(m->data()), 6), "abcdef");
  m->data()[0] = 'X';
  EXPECT_EQ(io::read_file(path), "abcdef");
  io::write_file_atomic(path, "");
  EXPECT_EQ(io::MappedFile::open(path)->size(), 0u);
  EXPECT_THROW(io::MappedFile::open(dir.string()), IOError);
  EXPECT_THROW(io::MappedFile::open((dir / "missing").string()), IOError);
}
