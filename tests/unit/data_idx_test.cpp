// IDX reader: every element type, gzip, and bad input (magic, sizes, gzip); Fashion-MNIST.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>

#include "ember/data/idx.h"
#include "ember/io/file.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;

namespace {

// IDX header: 00 00 type ndim, then each dim big-endian.
std::string idx_header(uint8_t type, std::vector<uint32_t> dims) {
  std::string h = {0, 0, static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) h += static_cast<char>((d >> s) & 0xff);
  return h;
}

uint32_t crc32(std::string_view data) {
  uint32_t c = 0xffffffffu;
  for (char ch : data) {
    c ^= static_cast<uint8_t>(ch);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

void put_le(std::string& out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// A valid gzip member of data, with deflate "stored" blocks (no compression needed to test).
std::string gzip_stored(std::string_view data) {
  std::string out = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, '\xff'};
  size_t pos = 0;
  do {
    const size_t len = std::min<size_t>(65535, data.size() - pos);
    out += static_cast<char>(pos + len == data.size() ? 1 : 0);
    put_le(out, static_cast<uint32_t>(len), 2);
    put_le(out, static_cast<uint32_t>(~len & 0xffff), 2);
    out.append(data.substr(pos, len));
    pos += len;
  } while (pos < data.size());
  put_le(out, crc32(data), 4);
  put_le(out, static_cast<uint32_t>(data.size()), 4);
  return out;
}

std::string write(const std::filesystem::path& dir, const std::string& name,
                  const std::string& bytes) {
  const std::string path = (dir / name).string();
  io::write_file_atomic(path, bytes);
  return path;
}

}  // namespace

TEST(DataIdx, ReadsEveryElementTypeBigEndian) {
  const auto dir = ember::testing::fresh_dir("DataIdx", "types");
  // ubyte (2, 3)
  std::string ub = idx_header(0x08, {2, 3}) + std::string{0, 1, 2, 3, '\x7f', '\xff'};
  Tensor t = read_idx(write(dir, "ub.idx", ub));
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.dtype(), kFloat32);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 127, 255}));
  EXPECT_EQ(read_idx(write(dir, "ub2.idx", ub), kInt64).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 1, 2, 3, 127, 255}));
  // signed byte
  std::string sb = idx_header(0x09, {3}) + std::string{'\xff', '\x80', 5};
  EXPECT_EQ(decode_idx(sb, "sb", kInt32).to_vector<int32_t>(), (std::vector<int32_t>{-1, -128, 5}));
  // short, int
  std::string sh = idx_header(0x0B, {2}) + std::string{'\x01', '\x02', '\xff', '\xfe'};
  EXPECT_EQ(decode_idx(sh, "sh", kInt64).to_vector<int64_t>(), (std::vector<int64_t>{258, -2}));
  std::string in =
      idx_header(0x0C, {1, 1, 1, 2}) + std::string{'\x00', '\x01', '\x00', '\x00', '\x80', 0, 0, 0};
  Tensor ti = decode_idx(in, "in", kInt64);
  EXPECT_EQ(ti.shape(), (Shape{1, 1, 1, 2}));
  EXPECT_EQ(ti.to_vector<int64_t>(), (std::vector<int64_t>{65536, -2147483648LL}));
  // float 1.5 = 0x3fc00000, double -2.25 = 0xc002000000000000
  std::string fl = idx_header(0x0D, {1}) + std::string{'\x3f', '\xc0', 0, 0};
  EXPECT_EQ(decode_idx(fl, "fl", kFloat64).to_vector<double>(), (std::vector<double>{1.5}));
  std::string db = idx_header(0x0E, {1}) + std::string{'\xc0', '\x02', 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(decode_idx(db, "db").to_vector<float>(), (std::vector<float>{-2.25f}));
  // Zero items is a valid (empty) file.
  EXPECT_EQ(decode_idx(idx_header(0x08, {0, 28}), "empty").shape(), (Shape{0, 28}));
}

TEST(DataIdx, GzipMatchesPlain) {
  const auto dir = ember::testing::fresh_dir("DataIdx", "gzip");
  std::string plain = idx_header(0x08, {300, 300});  // > 65535 bytes: several stored blocks
  for (int i = 0; i < 300 * 300; ++i) plain += static_cast<char>(i * 7);
  const Tensor a = read_idx(write(dir, "a.idx", plain));
  const Tensor b = read_idx(write(dir, "a.idx.gz", gzip_stored(plain)));
  EXPECT_EQ(b.shape(), (Shape{300, 300}));
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
}

TEST(DataIdx, BadHeaders) {
  const auto dir = ember::testing::fresh_dir("DataIdx", "headers");
  const std::string data6 = std::string(6, '\x01');
  std::string path = write(dir, "magic.idx", std::string{1, 2, 8, 2} + data6);
  expect_error<IOError>([&] { read_idx(path); }, {path, "not an IDX file", "01 02 08 02"});
  path = write(dir, "type.idx", idx_header(0x07, {6}) + data6);
  expect_error<IOError>([&] { read_idx(path); }, {path, "unknown IDX element type code 07"});
  path = write(dir, "ndim0.idx", std::string{0, 0, 8, 0});
  expect_error<IOError>([&] { read_idx(path); }, {path, "0 dimensions; expected 1 to 4"});
  path = write(dir, "ndim5.idx", idx_header(0x08, {1, 1, 1, 1, 1}) + "x");
  expect_error<IOError>([&] { read_idx(path); }, {path, "5 dimensions"});
  path = write(dir, "empty.idx", "");
  expect_error<IOError>([&] { read_idx(path); }, {path, "too short for an IDX header (0 bytes"});
  path = write(dir, "header.idx", idx_header(0x08, {2, 3}).substr(0, 10));
  expect_error<IOError>([&] { read_idx(path); }, {path, "truncated IDX header", "file has 10"});
  path = write(dir, "huge.idx", idx_header(0x0E, {65535, 65535, 65535, 65535}));
  expect_error<IOError>([&] { read_idx(path); },
                        {path, "65535x65535x65535x65535 double", "more than the limit"});
  expect_error<DTypeError>([] { decode_idx(idx_header(0x08, {0}), "x", kBool); },
                           {"read_idx: dtype must be"});
  path = write(dir, "float.idx", idx_header(0x0D, {1}) + std::string(4, '\0'));
  expect_error<IOError>([&] { read_idx(path, kInt64); },
                        {path, "IDX data is float", "only be read as float32 or float64"});
  expect_error<IOError>([&] { read_idx((dir / "missing.idx").string()); }, {"missing.idx"});
}

TEST(DataIdx, SizeDisagreesWithDimensions) {
  const auto dir = ember::testing::fresh_dir("DataIdx", "sizes");
  std::string path = write(dir, "short.idx", idx_header(0x08, {3, 2}) + std::string(4, 'a'));
  expect_error<IOError>(
      [&] { read_idx(path); },
      {path, "IDX header says 3x2 ubyte = 6 bytes of data, file has 4 bytes", "truncated"});
  path = write(dir, "long.idx", idx_header(0x0B, {3}) + std::string(8, 'a'));
  expect_error<IOError>([&] { read_idx(path); },
                        {path, "3 short = 6 bytes of data, file has 8 bytes", "trailing bytes"});
  // The example of the brief: a header promising 60000x28x28 with 1000 bytes of data.
  path = write(dir, "train-images.gz",
               gzip_stored(idx_header(0x08, {60000, 28, 28}) + std::string(1000, 'a')));
  expect_error<IOError>([&] { read_idx(path); },
                        {path, "IDX header says 60000x28x28 ubyte = 47040000 bytes of data",
                         "decompressed file has 1000 bytes"});
  path = write(dir, "long.gz", gzip_stored(idx_header(0x08, {4}) + std::string(5000, 'a')));
  expect_error<IOError>([&] { read_idx(path); },
                        {path, "4 ubyte = 4 bytes of data", "decompressed file has more"});
  path = write(dir, "shorthead.gz", gzip_stored(std::string{0, 0, 8}));
  expect_error<IOError>([&] { read_idx(path); }, {path, "too short for an IDX header"});
}

TEST(DataIdx, BadGzip) {
  const auto dir = ember::testing::fresh_dir("DataIdx", "badgzip");
  const std::string good = gzip_stored(idx_header(0x08, {100}) + std::string(100, 'z'));
  ASSERT_EQ(decode_idx(good, "good").numel(), 100);
  std::string path = write(dir, "garbage.gz", std::string{'\x1f', '\x8b', 'n', 'o', 't', 'g', 'z'});
  expect_error<IOError>([&] { read_idx(path); }, {path, "not valid gzip data (zlib:"});
  path = write(dir, "cut.gz", good.substr(0, good.size() - 30));
  expect_error<IOError>([&] { read_idx(path); }, {path, "truncated gzip data"});
  std::string bad_crc = good;
  bad_crc[bad_crc.size() - 6] ^= 0x55;
  path = write(dir, "crc.gz", bad_crc);
  expect_error<IOError>([&] { read_idx(path); }, {path, "not valid gzip data", "check"});
  path = write(dir, "tail.gz", good + "extra");
  expect_error<IOError>([&] { read_idx(path); },
                        {path, "5 bytes after the end of the gzip stream"});
}

TEST(DataIdx, FashionMnistChecksCounts) {
  const auto dir = ember::testing::fresh_dir("DataIdx", "fashion");
  expect_error<IOError>([&] { load_fashion_mnist(dir.string()); },
                        {"train-images-idx3-ubyte.gz not found", "get-data.sh fashion-mnist"});
  write(dir, "train-images-idx3-ubyte", idx_header(0x08, {2, 28, 28}) + std::string(2 * 784, 0));
  write(dir, "train-labels-idx1-ubyte", idx_header(0x08, {2}) + std::string{1, 2});
  expect_error<IOError>(
      [&] { load_fashion_mnist(dir.string()); },
      {"train-images-idx3-ubyte", "expected 60000 images of 28x28", "(2, 28, 28)"});
  EXPECT_EQ(fashion_mnist_classes().size(), 10u);
  EXPECT_EQ(fashion_mnist_classes()[0], "T-shirt/top");
  EXPECT_EQ(fashion_mnist_classes()[9], "Ankle boot");
}

TEST(DataIdx, RealFashionMnist) {
  const std::string dir = std::string(EMBER_SOURCE_DIR) + "/data/fashion-mnist";
  if (!std::filesystem::exists(dir))
    GTEST_SKIP() << dir << " missing: scripts/get-data.sh fashion-mnist";
  const FashionMnist ds = load_fashion_mnist(dir);
  EXPECT_EQ(ds.train_images.shape(), (Shape{60000, 1, 28, 28}));
  EXPECT_EQ(ds.test_images.shape(), (Shape{10000, 1, 28, 28}));
  EXPECT_EQ(ds.train_labels.shape(), (Shape{60000}));
  EXPECT_EQ(ds.test_labels.dtype(), kInt64);
  EXPECT_EQ(ds.classes, fashion_mnist_classes());
  for (const Tensor* labels : {&ds.train_labels, &ds.test_labels}) {
    std::array<int64_t, 10> counts{};
    for (int64_t y : labels->to_vector<int64_t>()) {
      ASSERT_TRUE(y >= 0 && y < 10);
      ++counts[static_cast<size_t>(y)];
    }
    const int64_t want = labels->numel() / 10;  // 6000 and 1000 per class
    for (int64_t c : counts) EXPECT_EQ(c, want);
  }
  const std::vector<float> px = ds.test_images.to_vector<float>();
  float lo = 255, hi = 0;
  for (float v : px) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 255.0f);
}
