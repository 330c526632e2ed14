// safetensors: header validation, zero-copy (copy-on-write mmap) or copying loads, atomic saves.
#include "ember/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <numeric>
#include <set>
#include <system_error>
#include <tuple>
#include <utility>

#include "ember/io/file.h"
#include "ember/io/json.h"
#include "ember/ops/creation.h"

namespace ember::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; big-endian hosts need byte swapping");

namespace {

constexpr uint64_t kMaxHeaderSize = 100'000'000;  // the reference implementation's limit

// Every dtype name the format defines, for telling "unsupported" from "unknown".
constexpr const char* kFormatDtypes[] = {
    "BOOL",    "F4",          "F6_E2M3",     "F6_E3M2", "U8",  "I8",  "F8_E5M2", "F8_E4M3",
    "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16",     "U16", "F16", "BF16",    "I32",
    "U32",     "F32",         "C64",         "F64",     "I64", "U64"};

// Position in the reference's Dtype enum, which is ordered by alignment: writers sort by it
// (descending) so that larger-aligned tensors come first.
int alignment_rank(DType t) {
  switch (t) {
    case kBool:
      return 0;
    case kBFloat16:
      return 14;
    case kInt32:
      return 15;
    case kFloat32:
      return 17;
    case kFloat64:
      return 19;
    case kInt64:
      return 20;
  }
  return 0;
}

template <class... Args>
[[noreturn]] void fail(const std::string& path, const Args&... what) {
  EMBER_THROW(IOError, "safetensors file '", path, "': ", what...);
}

// A name as a JSON string, for messages (raw when it is not valid UTF-8).
std::string quoted(std::string_view name) {
  try {
    return json::dump(json::Value(std::string(name)));
  } catch (const ValueError&) {
    return "\"" + std::string(name) + "\"";
  }
}

std::string reason(int err) {
  return std::generic_category().message(err);
}

// Reads exactly n bytes at offset; false on end of file.
bool pread_all(int fd, void* dst, size_t n, uint64_t offset, int* err) {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    const size_t chunk = std::min(n, size_t(1) << 30);
    const ssize_t r = ::pread(fd, p, chunk, static_cast<off_t>(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      *err = r < 0 ? errno : 0;
      return false;
    }
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return true;
}

struct FdGuard {
  int fd = -1;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
  int release() { return std::exchange(fd, -1); }
};

// A non-negative JSON integer, or fail with `what` and the offending value.
uint64_t non_negative_int(const json::Value& v, const std::string& path, const std::string& what) {
  if (!v.is_int() || v.as_int() < 0)
    fail(path, what, " is ", json::dump(v, {-1, true}), ", expected a non-negative integer");
  return static_cast<uint64_t>(v.as_int());
}

SafeTensorInfo parse_entry(const std::string& name, const json::Value& entry, uint64_t data_size,
                           const std::string& path) {
  const std::string tensor = std::string("tensor ") + quoted(name);
  if (!entry.is_object())
    fail(path, tensor, ": entry is ", json::type_name(entry.type()),
         ", expected an object with dtype, shape and data_offsets");
  for (const auto& [field, v] : entry.as_object()) {
    if (field != "dtype" && field != "shape" && field != "data_offsets")
      fail(path, tensor, ": unexpected field ", quoted(field),
           " (expected only dtype, shape and data_offsets)");
  }
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!entry.contains(field)) fail(path, tensor, ": missing field \"", field, "\"");

  SafeTensorInfo info;
  info.name = name;
  const json::Value& dtype = entry["dtype"];
  if (!dtype.is_string())
    fail(path, tensor, ": dtype is ", json::dump(dtype, {-1, true}), ", expected a string");
  const std::string& dname = dtype.as_string();
  auto dt = dtype_from_safetensors_name(dname);
  if (!dt) {
    const bool known =
        std::find_if(std::begin(kFormatDtypes), std::end(kFormatDtypes),
                     [&](const char* k) { return dname == k; }) != std::end(kFormatDtypes);
    fail(path, tensor, ": ", (known ? "dtype " : "unknown dtype "), quoted(dname),
         (known ? " is not supported by Ember" : ""),
         " (supported: F32, F64, I32, I64, BOOL, BF16)");
  }
  info.dtype = *dt;

  const json::Value& shape = entry["shape"];
  if (!shape.is_array())
    fail(path, tensor, ": shape is ", json::dump(shape, {-1, true}), ", expected an array");
  // numel, and the product of the non-zero sizes (the largest stride) must both fit in int64.
  uint64_t numel = 1, extent = 1;
  bool overflow = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    const uint64_t d =
        non_negative_int(shape[i], path, ember::detail::str_cat(tensor, ": shape[", i, "]"));
    info.shape.push_back(static_cast<int64_t>(d));
    overflow = overflow || __builtin_mul_overflow(numel, d, &numel) ||
               __builtin_mul_overflow(extent, std::max<uint64_t>(d, 1), &extent) ||
               extent > static_cast<uint64_t>(INT64_MAX);
  }
  uint64_t nbytes = 0;
  overflow = overflow || numel > static_cast<uint64_t>(INT64_MAX) ||
             __builtin_mul_overflow(numel, itemsize(info.dtype), &nbytes);
  const std::string shape_str = json::dump(shape);
  if (overflow) fail(path, tensor, ": shape ", shape_str, " has too many elements");

  const json::Value& offsets = entry["data_offsets"];
  const std::string offsets_str = json::dump(offsets, {-1, true});
  if (!offsets.is_array() || offsets.size() != 2)
    fail(path, tensor, ": data_offsets is ", offsets_str, ", expected [begin, end]");
  info.begin = non_negative_int(offsets[size_t(0)], path, tensor + ": data_offsets[0]");
  info.end = non_negative_int(offsets[size_t(1)], path, tensor + ": data_offsets[1]");
  if (info.begin > info.end) fail(path, tensor, ": data_offsets ", offsets_str, " begin after end");
  if (info.end > data_size)
    fail(path, tensor, ": data_offsets ", offsets_str, " end beyond the data buffer (", data_size,
         " bytes)");
  if (info.end - info.begin != nbytes)
    fail(path, tensor, ": dtype ", dname, " and shape ", shape_str, " need ", nbytes,
         " bytes but data_offsets ", offsets_str, " hold ", info.end - info.begin);
  return info;
}

// The byte ranges must tile [0, data_size): sorted by (begin, end), each starts where the
// previous ended (as the reference implementation checks).
void check_coverage(const std::vector<SafeTensorInfo>& infos, uint64_t data_size,
                    const std::string& path) {
  std::vector<size_t> order(infos.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(infos[a].begin, infos[a].end) < std::tie(infos[b].begin, infos[b].end);
  });
  const auto range = [](const SafeTensorInfo& i) {
    return ember::detail::str_cat(" [", i.begin, ", ", i.end, ")");
  };
  uint64_t covered = 0;
  const SafeTensorInfo* prev = nullptr;
  for (size_t k : order) {
    const SafeTensorInfo& info = infos[k];
    if (info.begin < covered)
      fail(path, "tensors ", quoted(prev->name), range(*prev), " and ", quoted(info.name),
           range(info), " overlap");
    if (info.begin > covered)
      fail(path, "hole in the data buffer: bytes [", covered, ", ", info.begin, ") before tensor ",
           quoted(info.name), " belong to no tensor");
    covered = info.end;
    prev = &info;
  }
  if (covered != data_size)
    fail(path, "hole in the data buffer: bytes [", covered, ", ", data_size,
         ") at the end belong to no tensor");
}

// BOOL bytes other than 0 and 1 are not valid C++ bools; such tensors are copied as (byte != 0).
bool bools_are_canonical(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] > 1) return false;
  return true;
}

void canonicalize_bools(uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = p[i] != 0;
}

}  // namespace

const char* safetensors_dtype_name(DType dtype) {
  switch (dtype) {
    case kFloat32:
      return "F32";
    case kFloat64:
      return "F64";
    case kInt32:
      return "I32";
    case kInt64:
      return "I64";
    case kBool:
      return "BOOL";
    case kBFloat16:
      return "BF16";
  }
  return "?";
}

std::optional<DType> dtype_from_safetensors_name(std::string_view name) {
  for (DType t : {kFloat32, kFloat64, kInt32, kInt64, kBool, kBFloat16})
    if (name == safetensors_dtype_name(t)) return t;
  return std::nullopt;
}

void detail::parse_safetensors_header(std::string_view header, uint64_t file_size,
                                      const std::string& path, std::vector<SafeTensorInfo>* infos,
                                      std::map<std::string, std::string>* metadata) {
  EMBER_ASSERT(header.size() <= file_size && file_size - header.size() >= 8);
  const uint64_t data_size = file_size - 8 - header.size();
  if (header.empty() || header[0] != '{')
    fail(path, "header does not start with '{' (the header must be a JSON object)");
  json::ParseOptions opts;
  opts.max_depth = 64;
  json::Value root;
  try {
    root = json::parse(header, opts);
  } catch (const IOError& e) {
    fail(path, "invalid JSON header: ", e.message());
  }
  if (!root.is_object())
    fail(path, std::string("header is "), json::type_name(root.type()), ", expected an object");
  infos->clear();
  metadata->clear();
  for (const auto& [key, value] : root.as_object()) {
    if (key == "__metadata__") {
      if (!value.is_object())
        fail(path, std::string("__metadata__ is "), json::type_name(value.type()),
             ", expected an object of strings");
      for (const auto& [mkey, mvalue] : value.as_object()) {
        if (!mvalue.is_string())
          fail(path, "__metadata__ value for ", quoted(mkey), " is ",
               json::dump(mvalue, {-1, true}), ", expected a string");
        (*metadata)[mkey] = mvalue.as_string();
      }
      continue;
    }
    infos->push_back(parse_entry(key, value, data_size, path));
  }
  check_coverage(*infos, data_size, path);
}

// ---- loading ----

struct SafeTensorsFile::Source {
  std::shared_ptr<MappedFile> map;  // mmap mode
  int fd = -1;                      // read mode
  ~Source() {
    if (fd >= 0) ::close(fd);
  }
};

SafeTensorsFile::SafeTensorsFile(const std::string& path, bool mmap) : path_(path) {
  FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) fail(path, "cannot open: ", reason(errno));
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) fail(path, "cannot stat: ", reason(errno));
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < 8)
    fail(path, "file is ", file_size, " bytes, too short to hold the 8-byte header size");
  uint8_t size_bytes[8];
  int err = 0;
  if (!pread_all(fd.fd, size_bytes, 8, 0, &err)) fail(path, "cannot read: ", reason(err));
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | size_bytes[i];
  if (header_size > kMaxHeaderSize)
    fail(path, "header size ", header_size, " exceeds the limit of ", kMaxHeaderSize, " bytes");
  if (header_size > file_size - 8)
    fail(path, "header size ", header_size, " runs past the end of the file (", file_size,
         " bytes)");
  std::string header(static_cast<size_t>(header_size), '\0');
  if (!pread_all(fd.fd, header.data(), header.size(), 8, &err))
    fail(path, "cannot read the header: ", (err ? reason(err) : "file shrank while reading"));
  detail::parse_safetensors_header(header, file_size, path, &infos_, &metadata_);
  for (size_t i = 0; i < infos_.size(); ++i) index_.emplace(infos_[i].name, i);
  data_start_ = 8 + header_size;

  source_ = std::make_shared<Source>();
  if (mmap) {
    source_->map = MappedFile::map_fd(fd.fd, static_cast<size_t>(file_size), path);
  } else {
    source_->fd = fd.release();
  }
}

SafeTensorsFile::~SafeTensorsFile() = default;
SafeTensorsFile::SafeTensorsFile(SafeTensorsFile&&) noexcept = default;
SafeTensorsFile& SafeTensorsFile::operator=(SafeTensorsFile&&) noexcept = default;

std::vector<std::string> SafeTensorsFile::keys() const {
  std::vector<std::string> out;
  out.reserve(infos_.size());
  for (const auto& i : infos_) out.push_back(i.name);
  return out;
}

const SafeTensorInfo& SafeTensorsFile::info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) fail(path_, "no tensor named ", quoted(name));
  return infos_[it->second];
}

Tensor SafeTensorsFile::get(const std::string& name) const {
  const SafeTensorInfo& info = this->info(name);
  EMBER_CHECK_IO(source_ != nullptr, "safetensors file '", path_, "': used after being moved from");
  const auto nbytes = static_cast<size_t>(info.nbytes());
  if (nbytes == 0) return ember::detail::make_tensor(info.shape, info.dtype);
  const uint64_t offset = data_start_ + info.begin;
  if (const auto& map = source_->map) {
    uint8_t* p = map->data() + offset;
    const bool aligned = reinterpret_cast<uintptr_t>(p) % itemsize(info.dtype) == 0;
    if (aligned && (info.dtype != kBool || bools_are_canonical(p, nbytes)))
      return from_blob(p, info.shape, info.dtype, [keep = map](void*) {});
    Tensor t = ember::detail::make_tensor(info.shape, info.dtype);
    std::memcpy(t.raw_data(), p, nbytes);
    if (info.dtype == kBool) canonicalize_bools(static_cast<uint8_t*>(t.raw_data()), nbytes);
    return t;
  }
  Tensor t = ember::detail::make_tensor(info.shape, info.dtype);
  int err = 0;
  if (!pread_all(source_->fd, t.raw_data(), nbytes, offset, &err))
    fail(path_, "cannot read tensor ", quoted(name), ": ",
         (err ? reason(err) : "file shrank while reading"));
  if (info.dtype == kBool) canonicalize_bools(static_cast<uint8_t*>(t.raw_data()), nbytes);
  return t;
}

NamedTensors SafeTensorsFile::tensors() const {
  NamedTensors out;
  out.reserve(infos_.size());
  for (const auto& i : infos_) out.emplace_back(i.name, get(i.name));
  return out;
}

NamedTensors load_safetensors(const std::string& path, bool mmap) {
  return SafeTensorsFile(path, mmap).tensors();
}

std::map<std::string, Tensor> load_safetensors_map(const std::string& path, bool mmap) {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : load_safetensors(path, mmap)) out.emplace(name, std::move(t));
  return out;
}

std::map<std::string, std::string> read_safetensors_metadata(const std::string& path) {
  return SafeTensorsFile(path, /*mmap=*/false).metadata();
}

// ---- saving ----

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::set<std::string_view> seen;
  std::vector<std::pair<std::string, Tensor>> items;
  items.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    EMBER_CHECK(name != "__metadata__", "save_safetensors: '__metadata__' is reserved and cannot ",
                "name a tensor (", path, ")");
    EMBER_CHECK(seen.insert(name).second, "save_safetensors: duplicate tensor name ", quoted(name),
                " (", path, ")");
    EMBER_CHECK(t.defined(), "save_safetensors: tensor ", quoted(name), " is undefined (", path,
                ")");
    items.emplace_back(name, t.detach().cpu().contiguous());
  }
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int ra = alignment_rank(items[a].second.dtype());
    const int rb = alignment_rank(items[b].second.dtype());
    return ra != rb ? ra > rb : items[a].first < items[b].first;
  });

  json::Object header;
  if (!metadata.empty()) {
    json::Object meta;
    for (const auto& [k, v] : metadata) meta.insert(k, v);
    header.insert("__metadata__", std::move(meta));
  }
  uint64_t offset = 0;
  for (size_t k : order) {
    const auto& [name, t] = items[k];
    json::Array shape;
    for (int64_t d : t.shape()) shape.emplace_back(d);
    const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    json::Object entry;
    entry.insert("dtype", safetensors_dtype_name(t.dtype()));
    entry.insert("shape", std::move(shape));
    entry.insert("data_offsets", json::Array{offset, offset + nbytes});
    header.insert(name, std::move(entry));
    offset += nbytes;
  }
  std::string text;
  try {
    text = json::dump(json::Value(std::move(header)));
  } catch (const ValueError& e) {
    EMBER_THROW(ValueError,
                "save_safetensors: a tensor name or metadata string is not valid UTF-8 (", path,
                "): ", e.message());
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  uint8_t size_bytes[8];
  for (int i = 0; i < 8; ++i)
    size_bytes[i] = static_cast<uint8_t>(uint64_t(text.size()) >> (8 * i));
  AtomicFile file(path);
  file.write(size_bytes, 8);
  file.write(text);
  for (size_t k : order) {
    const Tensor& t = items[k].second;
    const size_t nbytes = static_cast<size_t>(t.numel()) * t.element_size();
    if (nbytes > 0) file.write(t.raw_data(), nbytes);
  }
  file.commit();
}

}  // namespace ember::io
