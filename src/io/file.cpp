// Files: AtomicFile (temp + fsync + rename + dir fsync), read_file and private memory maps.
#include "ember/io/file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "ember/core/error.h"

namespace ember::io {

namespace {

std::string reason(int err) {
  return std::generic_category().message(err);
}

std::string parent_dir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// A name no other writer (thread or process) will pick: pid, a process-wide counter and a clock.
std::string temp_name_for(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  const std::filesystem::path p(path);
  const uint64_t stamp =
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  const uint64_t mix = (stamp * 0x9E3779B97F4A7C15ull) ^ (counter.fetch_add(1) << 20) ^
                       static_cast<uint64_t>(::getpid());
  char suffix[17];
  static const char* digits = "0123456789abcdefghijklmnopqrstuv";
  uint64_t v = mix;
  for (int i = 0; i < 12; ++i, v >>= 5) suffix[i] = digits[v & 31];
  suffix[12] = '\0';
  std::string name = ".";  // built with appends: GCC 12 flags `"." + s` with a false -Wrestrict
  name += p.filename().string();
  name += ".tmp.";
  name += suffix;
  return (p.parent_path() / name).string();
}

int retry_open(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

// ---- AtomicFile ----

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  EMBER_CHECK_IO(!path_.empty(), "AtomicFile: empty path");
  EMBER_CHECK_IO(std::filesystem::path(path_).has_filename(), "cannot write '", path_,
                 "': the path names a directory");
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    temp_path_ = temp_name_for(path_);
    fd_ = retry_open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd_ < 0 && errno != EEXIST) break;
  }
  if (fd_ < 0) {
    const int err = errno;
    temp_path_.clear();  // nothing of ours to remove
    EMBER_THROW(IOError, "cannot write '", path_, "': cannot create a temporary file in '",
                parent_dir(path_), "': ", reason(err));
  }
  // Replacing a file keeps its permission bits.
  struct stat st {};
  if (::stat(path_.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::fchmod(fd_, st.st_mode & 07777);
}

AtomicFile::~AtomicFile() {
  discard();
}

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
  buffer_.clear();
}

void AtomicFile::fail(const std::string& what, int err) {
  const std::string temp = temp_path_;
  discard();
  EMBER_THROW(IOError, "cannot write '", path_, "': ", what, " '", temp, "': ", reason(err));
}

void AtomicFile::flush_buffer() {
  const char* p = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write to", errno);
    }
    if (n == 0) fail("write to", EIO);
    p += n;
    left -= static_cast<size_t>(n);
  }
  buffer_.clear();
}

void AtomicFile::write(const void* data, size_t nbytes) {
  EMBER_CHECK_IO(fd_ >= 0, "cannot write '", path_,
                 "': the file was already committed or discarded");
  constexpr size_t kBuffer = size_t(1) << 20;
  if (buffer_.size() + nbytes <= kBuffer) {
    buffer_.append(static_cast<const char*>(data), nbytes);
    return;
  }
  flush_buffer();
  if (nbytes <= kBuffer) {
    buffer_.append(static_cast<const char*>(data), nbytes);
    return;
  }
  // Large blocks go straight to the file.
  const char* p = static_cast<const char*>(data);
  while (nbytes > 0) {
    const size_t chunk = std::min(nbytes, size_t(1) << 30);
    const ssize_t n = ::write(fd_, p, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write to", errno);
    }
    if (n == 0) fail("write to", EIO);
    p += n;
    nbytes -= static_cast<size_t>(n);
  }
}

void AtomicFile::commit() {
  EMBER_CHECK_IO(fd_ >= 0, "cannot write '", path_,
                 "': the file was already committed or discarded");
  flush_buffer();
  if (::fsync(fd_) != 0) fail("fsync of", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && errno != EINTR) fail("close of", errno);
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) fail("rename of", errno);
  temp_path_.clear();  // it is the target now
  // Make the rename itself durable. Some file systems cannot fsync a directory (EINVAL).
  const std::string dir = parent_dir(path_);
  const int dfd = retry_open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd < 0) {
    EMBER_THROW(IOError, "wrote '", path_, "' but cannot open its directory '", dir,
                "' to fsync it: ", reason(errno));
  }
  if (::fsync(dfd) != 0 && errno != EINVAL && errno != ENOTSUP) {
    const int err = errno;
    ::close(dfd);
    EMBER_THROW(IOError, "wrote '", path_, "' but fsync of its directory '", dir,
                "' failed: ", reason(err));
  }
  ::close(dfd);
}

void write_file_atomic(const std::string& path, std::string_view bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

std::string read_file(const std::string& path) {
  const int fd = retry_open(path.c_str(), O_RDONLY);
  EMBER_CHECK_IO(fd >= 0, "cannot open '", path, "': ", reason(errno));
  std::string out;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      EMBER_THROW(IOError, "cannot read '", path, "': ", reason(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// ---- MappedFile ----

std::shared_ptr<MappedFile> MappedFile::map_fd(int fd, size_t size, const std::string& path) {
  std::shared_ptr<MappedFile> m(new MappedFile());
  m->path_ = path;
  if (size == 0) return m;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  EMBER_CHECK_IO(p != MAP_FAILED, "cannot map '", path, "' into memory: ", reason(errno));
  m->data_ = static_cast<uint8_t*>(p);
  m->size_ = size;
  return m;
}

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  const int fd = retry_open(path.c_str(), O_RDONLY);
  EMBER_CHECK_IO(fd >= 0, "cannot open '", path, "': ", reason(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    ::close(fd);
    EMBER_THROW(IOError, "cannot map '", path,
                "': ", S_ISREG(st.st_mode) ? reason(err) : "not a regular file");
  }
  try {
    auto m = map_fd(fd, static_cast<size_t>(st.st_size), path);
    ::close(fd);
    return m;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

}  // namespace ember::io
