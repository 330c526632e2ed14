// IDX reader: header checks, bounded gzip inflation (zlib), big-endian element conversion.
#include "ember/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include "ember/core/error.h"
#include "ember/io/file.h"

namespace ember::data {

namespace {

constexpr int64_t kMaxDims = 4;
constexpr uint64_t kMaxPayload = uint64_t{1} << 34;  // 16 GiB of elements

struct ElementType {
  uint8_t code;
  const char* name;
  int64_t size;
  bool integer;
};

constexpr ElementType kElementTypes[] = {
    {0x08, "ubyte", 1, true}, {0x09, "byte", 1, true},   {0x0B, "short", 2, true},
    {0x0C, "int", 4, true},   {0x0D, "float", 4, false}, {0x0E, "double", 8, false},
};

std::string hex_bytes(std::string_view b) {
  std::string out;
  char buf[8];
  for (char c : b) {
    std::snprintf(buf, sizeof(buf), "%s%02x", out.empty() ? "" : " ",
                  static_cast<unsigned>(static_cast<uint8_t>(c)));
    out += buf;
  }
  return out;
}

// The parsed header: element type, shape and the payload size in bytes it promises.
struct Header {
  ElementType type{};
  Shape shape;
  uint64_t payload = 0;
  std::string describe() const {  // "60000x28x28 ubyte = 47040000 bytes"
    std::string dims;
    for (int64_t d : shape) dims += (dims.empty() ? "" : "x") + std::to_string(d);
    return dims + " " + type.name + " = " + std::to_string(payload) + " bytes";
  }
};

// Magic: 00 00 <type> <ndim>.
Header parse_magic(std::string_view magic, size_t total, const std::string& name) {
  EMBER_CHECK_IO(magic.size() == 4, name, ": too short for an IDX header (", total,
                 " bytes; the header alone needs at least 8)");
  EMBER_CHECK_IO(magic[0] == 0 && magic[1] == 0, name, ": not an IDX file (first bytes ",
                 hex_bytes(magic), "; expected 00 00 <type> <ndim>)");
  Header h;
  const auto code = static_cast<uint8_t>(magic[2]);
  const auto* it = std::find_if(std::begin(kElementTypes), std::end(kElementTypes),
                                [&](const ElementType& t) { return t.code == code; });
  EMBER_CHECK_IO(it != std::end(kElementTypes), name, ": unknown IDX element type code ",
                 hex_bytes(magic.substr(2, 1)),
                 " (expected 08 ubyte, 09 byte, 0b short, 0c int, 0d float or 0e double)");
  h.type = *it;
  const int64_t ndim = static_cast<uint8_t>(magic[3]);
  EMBER_CHECK_IO(ndim >= 1 && ndim <= kMaxDims, name, ": IDX header has ", ndim,
                 " dimensions; expected 1 to ", kMaxDims);
  h.shape.resize(static_cast<size_t>(ndim));
  return h;
}

// The big-endian uint32 dimensions; fills shape and payload.
void parse_dims(Header& h, std::string_view dims, size_t total, const std::string& name) {
  EMBER_CHECK_IO(dims.size() == 4 * h.shape.size(), name, ": truncated IDX header (",
                 h.shape.size(), " dimensions need ", 4 + 4 * h.shape.size(), " bytes, file has ",
                 total, ")");
  uint64_t count = 1;
  bool too_big = false;
  for (size_t i = 0; i < h.shape.size(); ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(dims.data() + 4 * i);
    const uint64_t d =
        (uint64_t{p[0]} << 24) | (uint64_t{p[1]} << 16) | (uint64_t{p[2]} << 8) | p[3];
    h.shape[i] = static_cast<int64_t>(d);
    if (d != 0 && count > kMaxPayload / d) too_big = true;
    count *= d;
    if (count > kMaxPayload) too_big = true, count = kMaxPayload + 1;
  }
  h.payload = count * static_cast<uint64_t>(h.type.size);
  if (!too_big && h.payload > kMaxPayload) too_big = true;
  if (too_big) {
    std::string dims_str;
    for (int64_t d : h.shape) dims_str += (dims_str.empty() ? "" : "x") + std::to_string(d);
    EMBER_THROW(IOError, name, ": IDX header says ", dims_str, " ", h.type.name,
                ", more than the limit of ", kMaxPayload, " bytes of data");
  }
}

// Bounded gzip inflation: read() yields at most what is asked, so a small file can never make us
// allocate or decompress more than the header promises (plus one byte to detect trailing data).
class Inflater {
 public:
  Inflater(std::string_view in, const std::string& name) : in_(in), name_(name) {
    std::memset(&zs_, 0, sizeof(zs_));
    EMBER_CHECK_IO(inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK, name_,
                   ": cannot start gzip decompression (zlib out of memory)");
  }
  ~Inflater() { inflateEnd(&zs_); }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  /// Appends up to n decompressed bytes to out; fewer only when the gzip stream has ended.
  void read(std::string& out, uint64_t n) {
    const size_t want = out.size() + n;
    while (out.size() < want && !ended_) {
      const size_t have = out.size();
      const size_t step = std::min<size_t>({want - have, std::max<size_t>(have, 1 << 16), 1 << 30});
      out.resize(have + step);
      zs_.next_out = reinterpret_cast<Bytef*>(out.data() + have);
      zs_.avail_out = static_cast<uInt>(step);
      while (zs_.avail_out > 0 && !ended_) {
        if (zs_.avail_in == 0 && fed_ < in_.size()) {
          const size_t chunk = std::min<size_t>(in_.size() - fed_, 1 << 30);
          zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in_.data() + fed_));
          zs_.avail_in = static_cast<uInt>(chunk);
          fed_ += chunk;
        }
        const int rc = inflate(&zs_, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
          ended_ = true;
          EMBER_CHECK_IO(zs_.avail_in == 0 && fed_ == in_.size(), name_, ": ",
                         in_.size() - fed_ + zs_.avail_in,
                         " bytes after the end of the gzip stream (concatenated or corrupt gzip)");
        } else if (rc == Z_BUF_ERROR && zs_.avail_in == 0 && fed_ == in_.size()) {
          EMBER_THROW(IOError, name_, ": truncated gzip data (the compressed stream ends after ",
                      zs_.total_out, " decompressed bytes)");
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
          EMBER_THROW(IOError, name_,
                      ": not valid gzip data (zlib: ", zs_.msg ? zs_.msg : zError(rc), ")");
        }
      }
      out.resize(have + step - zs_.avail_out);
    }
  }
  /// Reads to the end of the stream, expecting no more data (checks the gzip CRC and length).
  bool at_end(std::string& scratch) {
    scratch.clear();
    read(scratch, 1);
    return scratch.empty();
  }

 private:
  std::string_view in_;
  const std::string& name_;
  z_stream zs_;
  size_t fed_ = 0;
  bool ended_ = false;
};

template <class U>
U load_be(const char* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>((v << 8) | static_cast<uint8_t>(p[i]));
  return v;
}

template <class Src, class Dst>
void convert(const char* in, Dst* out, int64_t n) {
  using Bits = std::conditional_t<
      sizeof(Src) == 1, uint8_t,
      std::conditional_t<sizeof(Src) == 2, uint16_t,
                         std::conditional_t<sizeof(Src) == 4, uint32_t, uint64_t>>>;
  for (int64_t i = 0; i < n; ++i) {
    const Src v = std::bit_cast<Src>(load_be<Bits>(in + i * static_cast<int64_t>(sizeof(Src))));
    out[i] = static_cast<Dst>(v);
  }
}

template <class Dst>
void convert_as(uint8_t code, const char* in, Dst* out, int64_t n) {
  switch (code) {
    case 0x08:
      return convert<uint8_t>(in, out, n);
    case 0x09:
      return convert<int8_t>(in, out, n);
    case 0x0B:
      return convert<int16_t>(in, out, n);
    case 0x0C:
      return convert<int32_t>(in, out, n);
    case 0x0D:
      return convert<float>(in, out, n);
    default:
      return convert<double>(in, out, n);
  }
}

Tensor to_tensor(const Header& h, std::string_view payload, DType dtype) {
  Tensor out = detail::make_tensor(h.shape, dtype);
  const int64_t n = out.numel();
  switch (dtype) {
    case kFloat32:
      convert_as(h.type.code, payload.data(), out.data_ptr<float>(), n);
      break;
    case kFloat64:
      convert_as(h.type.code, payload.data(), out.data_ptr<double>(), n);
      break;
    case kInt32:
      convert_as(h.type.code, payload.data(), out.data_ptr<int32_t>(), n);
      break;
    default:
      convert_as(h.type.code, payload.data(), out.data_ptr<int64_t>(), n);
      break;
  }
  return out;
}

}  // namespace

Tensor decode_idx(std::string_view bytes, const std::string& name, DType dtype) {
  EMBER_CHECK_DTYPE(dtype == kFloat32 || dtype == kFloat64 || dtype == kInt32 || dtype == kInt64,
                    "read_idx: dtype must be float32, float64, int32 or int64; got ", dtype);
  const bool gzip = bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f &&
                    static_cast<uint8_t>(bytes[1]) == 0x8b;
  Header h;
  std::string buffer;  // decompressed payload (gzip input only)
  std::string_view payload;
  if (!gzip) {
    h = parse_magic(bytes.substr(0, 4), bytes.size(), name);
    const size_t header_size = 4 + 4 * h.shape.size();
    parse_dims(h, bytes.substr(4, header_size - 4), bytes.size(), name);
    const uint64_t have = bytes.size() - header_size;
    EMBER_CHECK_IO(have == h.payload, name, ": IDX header says ", h.describe(),
                   " of data, file has ", have, " bytes",
                   have > h.payload ? " (trailing bytes, or dimensions that disagree with the size)"
                                    : " (truncated)");
    payload = bytes.substr(header_size);
  } else {
    Inflater inflater(bytes, name);
    std::string head;
    inflater.read(head, 4);
    h = parse_magic(head, head.size(), name + " (decompressed)");
    inflater.read(head, 4 * h.shape.size());
    parse_dims(h, std::string_view(head).substr(4), head.size(), name + " (decompressed)");
    inflater.read(buffer, h.payload);
    EMBER_CHECK_IO(buffer.size() == h.payload, name, ": IDX header says ", h.describe(),
                   " of data, the decompressed file has ", buffer.size(), " bytes (truncated)");
    std::string extra;
    EMBER_CHECK_IO(inflater.at_end(extra), name, ": IDX header says ", h.describe(),
                   " of data, the decompressed file has more (trailing bytes, or dimensions that "
                   "disagree with the size)");
    payload = buffer;
  }
  EMBER_CHECK_IO(h.type.integer || dtype == kFloat32 || dtype == kFloat64, name, ": IDX data is ",
                 h.type.name, "; it can only be read as float32 or float64, not ", dtype);
  return to_tensor(h, payload, dtype);
}

Tensor read_idx(const std::string& path, DType dtype) {
  return decode_idx(io::read_file(path), path, dtype);
}

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

namespace {

std::string find_idx(const std::string& dir, const std::string& stem) {
  namespace fs = std::filesystem;
  const fs::path gz = fs::path(dir) / (stem + ".gz"), plain = fs::path(dir) / stem;
  std::error_code ec;
  if (fs::exists(gz, ec)) return gz.string();
  if (fs::exists(plain, ec)) return plain.string();
  EMBER_THROW(IOError, "load_fashion_mnist: ", gz.string(),
              " not found (nor without .gz); scripts/get-data.sh fashion-mnist fetches it");
}

void load_split(const std::string& dir, const std::string& prefix, int64_t want, Tensor& images,
                Tensor& labels) {
  const std::string image_path = find_idx(dir, prefix + "-images-idx3-ubyte");
  const std::string label_path = find_idx(dir, prefix + "-labels-idx1-ubyte");
  images = read_idx(image_path, kFloat32);
  labels = read_idx(label_path, kInt64);
  EMBER_CHECK_IO(images.shape() == (Shape{want, 28, 28}), image_path, ": expected ", want,
                 " images of 28x28, i.e. shape (", want, ", 28, 28); got ", images.shape_str());
  EMBER_CHECK_IO(labels.shape() == (Shape{want}), label_path, ": expected ", want,
                 " labels, i.e. shape (", want, "); got ", labels.shape_str());
  const int64_t* y = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < want; ++i)
    EMBER_CHECK_IO(y[i] >= 0 && y[i] < 10, label_path, ": label ", i, " is ", y[i],
                   "; expected 0 to 9");
  images = images.view({want, 1, 28, 28});
}

}  // namespace

FashionMnist load_fashion_mnist(const std::string& dir) {
  FashionMnist ds;
  load_split(dir, "train", 60000, ds.train_images, ds.train_labels);
  load_split(dir, "t10k", 10000, ds.test_images, ds.test_labels);
  ds.classes = fashion_mnist_classes();
  return ds;
}

}  // namespace ember::data
