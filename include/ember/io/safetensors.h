// safetensors: the Hugging Face tensor file format; validated loads (zero-copy maps) and atomic
// saves.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::io {

/// Named tensors in a fixed order.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// Note [safetensors layout]: a file is
//   8 bytes   N, the header size, unsigned little-endian
//   N bytes   a UTF-8 JSON object, starting with '{', optionally padded with spaces:
//             {"__metadata__": {"key": "value", ...},           (optional, strings only)
//              "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//   the rest  the data buffer; [begin, end) are byte offsets into it, C-contiguous, little-endian.
// The byte ranges must tile the data buffer exactly: no overlaps, no holes, no trailing bytes.
// Ember reads and writes F32, F64, I32, I64, BOOL and BF16; other dtypes the format defines (F16,
// U8, F8_E4M3, ...) are recognised and reported as unsupported.

/// One tensor's header entry. Offsets are relative to the start of the data buffer.
struct SafeTensorInfo {
  std::string name;
  DType dtype = kFloat32;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t nbytes() const { return end - begin; }
};

/// Writes tensors to path atomically (io::AtomicFile), laid out exactly as the Python library does:
/// entries sorted by dtype alignment (largest first) then name, the header padded with spaces to a
/// multiple of 8 bytes so every tensor is aligned, "__metadata__" first when metadata is not empty.
/// Non-contiguous tensors are written contiguous; autograd state is not saved. Duplicate or
/// reserved
/// ("__metadata__") names, names or metadata that are not valid UTF-8, and undefined tensors throw
/// ember::ValueError; file system failures throw ember::IOError and leave any old file intact.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

/// A validated safetensors file. The constructor reads and checks the whole header — sizes, JSON,
/// fields, dtypes, shapes, offsets, overlaps, holes — before touching any tensor data, and throws
/// ember::IOError naming the file and the offending key and values on any problem.
///
/// With mmap (the default), get() returns zero-copy views of a private copy-on-write mapping: the
/// tensors are writable, writes never reach the file, and the mapping is released when the file
/// object and the last tensor viewing it are gone. A tensor whose bytes are not aligned for its
/// dtype (possible in files padded by other writers), and any BOOL tensor holding bytes other than
/// 0 or 1, is copied instead; repeated get() calls for one name view the same memory (clone() for
/// an independent copy). Without mmap, get() reads the tensor into fresh memory each time.
/// Note: as with any memory map, truncating the file while tensors view it can crash readers;
/// replacing it (as save_safetensors does, by rename) is safe.
class SafeTensorsFile {
 public:
  explicit SafeTensorsFile(const std::string& path, bool mmap = true);
  ~SafeTensorsFile();
  SafeTensorsFile(SafeTensorsFile&&) noexcept;
  SafeTensorsFile& operator=(SafeTensorsFile&&) noexcept;

  const std::string& path() const { return path_; }
  /// Tensor names in header order (for files written by safetensors or Ember, data order).
  std::vector<std::string> keys() const;
  size_t size() const { return infos_.size(); }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  /// Header entries in header order.
  const std::vector<SafeTensorInfo>& infos() const { return infos_; }
  /// The entry for name; ember::IOError naming the file when absent.
  const SafeTensorInfo& info(const std::string& name) const;
  /// The tensor called name (see the class comment for views versus copies).
  Tensor get(const std::string& name) const;
  /// All tensors, in header order.
  NamedTensors tensors() const;
  /// The "__metadata__" strings (empty when the file has none).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /// Bytes from the start of the file to the data buffer (8 + header size).
  uint64_t data_start() const { return data_start_; }

 private:
  struct Source;
  std::string path_;
  std::vector<SafeTensorInfo> infos_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
  uint64_t data_start_ = 0;
  std::shared_ptr<Source> source_;
};

/// All tensors of a file in header order; see SafeTensorsFile for validation and mmap.
NamedTensors load_safetensors(const std::string& path, bool mmap = true);
/// All tensors of a file by name.
std::map<std::string, Tensor> load_safetensors_map(const std::string& path, bool mmap = true);
/// Only the "__metadata__" strings (reads and validates the header, never the data).
std::map<std::string, std::string> read_safetensors_metadata(const std::string& path);

/// The safetensors dtype name: "F32", "F64", "I32", "I64", "BOOL", "BF16".
const char* safetensors_dtype_name(DType dtype);
/// The Ember dtype for a safetensors dtype name; std::nullopt for names Ember does not read.
std::optional<DType> dtype_from_safetensors_name(std::string_view name);

namespace detail {
/// Parses and validates a complete header (the bytes after the 8-byte size) for a file of
/// file_size bytes; errors name `path`. Exposed for tests and the fuzzer.
void parse_safetensors_header(std::string_view header, uint64_t file_size, const std::string& path,
                              std::vector<SafeTensorInfo>* infos,
                              std::map<std::string, std::string>* metadata);
}  // namespace detail

}  // namespace ember::io
