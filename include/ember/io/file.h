// Files: atomic writes (temporary file, fsync, rename, fsync dir), whole-file reads, read-only
// maps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ember/core/error.h"

namespace ember::io {

/// Writes a file so that readers see either the old contents or the new, never a mix, even after a
/// crash: the bytes go to a temporary file in the target's directory (".name.tmp.XXXXXX"), which is
/// fsynced, renamed over the target, and then the directory is fsynced. New files get the usual
/// 0666 & ~umask permissions. If anything fails the temporary file is removed and ember::IOError
/// names the path and the system's reason. Destroying an uncommitted AtomicFile discards it.
/// A symbolic link at path is replaced by the new file, not followed.
///
///   AtomicFile f("model.safetensors");
///   f.write(header.data(), header.size());
///   f.commit();
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Appends bytes to the temporary file (handles short writes and EINTR).
  void write(const void* data, size_t nbytes);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  /// Flushes, fsyncs, renames over the target and fsyncs the directory. Call once.
  void commit();
  /// Removes the temporary file now; later writes and commits throw.
  void discard() noexcept;

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  void flush_buffer();

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;
  std::string buffer_;  // small writes are batched
};

/// Replaces path with bytes atomically (see AtomicFile).
void write_file_atomic(const std::string& path, std::string_view bytes);

/// The whole file as bytes; ember::IOError names the path and the reason on failure.
std::string read_file(const std::string& path);

/// A private (copy-on-write) memory map of a whole file: the mapped pages are writable, but writes
/// are never carried to the file. Shared by reference so that tensors viewing it keep it alive.
/// Note: as with any map, another process truncating the file while it is mapped can crash readers.
class MappedFile {
 public:
  /// Maps path; an empty file gives an empty map (data() == nullptr).
  static std::shared_ptr<MappedFile> open(const std::string& path);
  /// Maps the first size bytes of an open file descriptor (which the caller keeps and may close);
  /// path only names the file in errors.
  static std::shared_ptr<MappedFile> map_fd(int fd, size_t size, const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace ember::io
