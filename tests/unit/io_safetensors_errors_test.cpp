// safetensors: every malformed file is rejected with an IOError naming the file and the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "ember/ember.h"

using namespace ember;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

class SafetensorsErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(EMBER_TEST_TMPDIR) / "io_safetensors_errors" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }

  // Writes raw bytes to a fresh file and returns its path.
  std::string raw_file(const std::string& bytes) {
    std::string name = "case";
    name += std::to_string(count_++);
    name += ".safetensors";
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  // A file with this header (space-padded to 8 bytes) and data_size zero bytes of data.
  std::string file_with(std::string header, size_t data_size) {
    header.append((8 - header.size() % 8) % 8, ' ');
    return raw_file(le64(header.size()) + header + std::string(data_size, '\0'));
  }

  static std::string le64(uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(n >> (8 * i));
    return s;
  }

  // Every way of opening path throws an IOError naming the file and containing each needle.
  static void expect_error(const std::string& path, std::initializer_list<std::string> needles) {
    for (int how = 0; how < 3; ++how) {
      try {
        if (how == 0) io::SafeTensorsFile file(path, /*mmap=*/true);
        if (how == 1) io::load_safetensors(path, /*mmap=*/false);
        if (how == 2) io::read_safetensors_metadata(path);
        ADD_FAILURE() << "no error for " << path << " (way " << how << ")";
      } catch (const IOError& e) {
        const std::string what = e.what();
        EXPECT_THAT(what, HasSubstr("safetensors file '" + path + "': "));
        for (const auto& needle : needles) EXPECT_THAT(what, HasSubstr(needle));
      }
    }
  }

  fs::path dir_;
  int count_ = 0;
};

const std::string kF32x2 = R"({"dtype":"F32","shape":[2],"data_offsets":)";

}  // namespace

TEST_F(SafetensorsErrors, TruncatedFile) {
  expect_error(raw_file(""), {"file is 0 bytes, too short to hold the 8-byte header size"});
  expect_error(raw_file(std::string("\x08\0\0\0\0", 5)), {"file is 5 bytes, too short"});
}

TEST_F(SafetensorsErrors, HeaderSizeBeyondTheFile) {
  expect_error(raw_file(le64(1000) + "{}"),
               {"header size 1000 runs past the end of the file (10 bytes)"});
  expect_error(raw_file(le64(3) + "{}"), {"header size 3 runs past the end of the file"});
}

TEST_F(SafetensorsErrors, AbsurdHeaderSize) {
  expect_error(raw_file(le64(1ull << 40) + "{}"),
               {"header size 1099511627776 exceeds the limit of 100000000 bytes"});
  expect_error(raw_file(le64(~0ull) + "{}"), {"header size 18446744073709551615 exceeds"});
}

TEST_F(SafetensorsErrors, InvalidJson) {
  expect_error(file_with(R"({"w": {"dtype": "F32",)", 0),
               {"invalid JSON header: JSON parse error at line 1, column 25 (byte 24)",
                "unexpected end of input, expected a string key"});
  expect_error(file_with("{\"w\xFF\": 1}", 0), {"invalid JSON header", "invalid UTF-8"});
  expect_error(raw_file(le64(8) + std::string("{}\0\0\0\0\0\0", 8)),
               {"invalid JSON header", "byte 0x00"});
}

TEST_F(SafetensorsErrors, HeaderNotAnObject) {
  expect_error(file_with("[1, 2]", 0), {"header does not start with '{'"});
  expect_error(file_with(" {}", 0), {"header does not start with '{'"});
  expect_error(file_with(R"({"w": 5})", 0), {"tensor \"w\": entry is integer, expected an object"});
}

TEST_F(SafetensorsErrors, MissingOrExtraFields) {
  expect_error(file_with(R"({"w": {"dtype": "F32", "shape": [1]}})", 4),
               {"tensor \"w\": missing field \"data_offsets\""});
  expect_error(file_with(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", 4),
               {"tensor \"w\": missing field \"dtype\""});
  expect_error(
      file_with(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "x": 1}})", 4),
      {"tensor \"w\": unexpected field \"x\""});
}

TEST_F(SafetensorsErrors, UnknownDtype) {
  expect_error(file_with(R"({"w": {"dtype": "F17", "shape": [1], "data_offsets": [0, 4]}})", 4),
               {"tensor \"w\": unknown dtype \"F17\"", "supported: F32"});
  expect_error(file_with(R"({"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}})", 4),
               {"tensor \"w\": dtype \"F16\" is not supported by Ember"});
  expect_error(file_with(R"({"w": {"dtype": "f32", "shape": [1], "data_offsets": [0, 4]}})", 4),
               {"unknown dtype \"f32\""});
  expect_error(file_with(R"({"w": {"dtype": 32, "shape": [1], "data_offsets": [0, 4]}})", 4),
               {"tensor \"w\": dtype is 32, expected a string"});
}

TEST_F(SafetensorsErrors, BadShape) {
  const auto entry = [](const std::string& shape) {
    return R"({"w": {"dtype": "F32", "shape": )" + shape + R"(, "data_offsets": [0, 4]}})";
  };
  expect_error(file_with(entry("[-1]"), 4),
               {"tensor \"w\": shape[0] is -1, expected a non-negative integer"});
  expect_error(file_with(entry("[1, 2.5]"), 4), {"shape[1] is 2.5"});
  expect_error(file_with(entry("[1.0]"), 4), {"shape[0] is 1.0"});
  expect_error(file_with(entry(R"(["1"])"), 4), {"shape[0] is \"1\""});
  expect_error(file_with(entry("[1e40]"), 4), {"shape[0] is 1e+40"});
  expect_error(file_with(entry("4"), 4), {"tensor \"w\": shape is 4, expected an array"});
  expect_error(file_with(entry("[4294967296, 4294967296, 4]"), 4),
               {"tensor \"w\": shape [4294967296,4294967296,4] has too many elements"});
  expect_error(file_with(entry("[4611686018427387904]"), 4), {"has too many elements"});
  // No elements, but strides would overflow.
  expect_error(file_with(R"({"w": {"dtype": "F32", "shape": [0, 4611686018427387904, 4], )"
                         R"("data_offsets": [0, 0]}})",
                         0),
               {"has too many elements"});
}

TEST_F(SafetensorsErrors, BadDataOffsets) {
  expect_error(file_with(R"({"w": )" + kF32x2 + "[0]}}", 8),
               {"tensor \"w\": data_offsets is [0], expected [begin, end]"});
  expect_error(file_with(R"({"w": )" + kF32x2 + "[0, 8, 8]}}", 8), {"data_offsets is [0,8,8]"});
  expect_error(file_with(R"({"w": )" + kF32x2 + "{}}}", 8), {"data_offsets is {}"});
  expect_error(file_with(R"({"w": )" + kF32x2 + R"([0, "8"]}})", 8),
               {"tensor \"w\": data_offsets[1] is \"8\", expected a non-negative integer"});
  expect_error(file_with(R"({"w": )" + kF32x2 + "[-8, 0]}}", 8), {"data_offsets[0] is -8"});
  expect_error(file_with(R"({"w": )" + kF32x2 + "[8, 0]}}", 8),
               {"tensor \"w\": data_offsets [8,0] begin after end"});
}

TEST_F(SafetensorsErrors, OffsetsPastTheEnd) {
  expect_error(file_with(R"({"w": )" + kF32x2 + "[0, 8]}}", 4),
               {"tensor \"w\": data_offsets [0,8] end beyond the data buffer (4 bytes)"});
  expect_error(file_with(R"({"w": )" + kF32x2 + "[18446744073709551608, 0]}}", 4),
               {"data_offsets[0] is 18446744073709551616.0"});
  expect_error(file_with(R"({"w": )" + kF32x2 + "[9223372036854775800, 9223372036854775807]}}", 8),
               {"end beyond the data buffer"});
}

TEST_F(SafetensorsErrors, ShapeDisagreesWithByteRange) {
  expect_error(
      file_with(R"({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}})", 20),
      {"tensor \"w\": dtype F32 and shape [2,3] need 24 bytes but data_offsets [0,20] hold 20"});
  expect_error(file_with(R"({"w": {"dtype": "I64", "shape": [], "data_offsets": [0, 4]}})", 4),
               {"dtype I64 and shape [] need 8 bytes"});
  expect_error(file_with(R"({"w": {"dtype": "BF16", "shape": [0], "data_offsets": [0, 2]}})", 2),
               {"need 0 bytes"});
}

TEST_F(SafetensorsErrors, OverlappingRanges) {
  expect_error(file_with(R"({"a": )" + kF32x2 + R"([0, 8]}, "b": )" + kF32x2 + "[4, 12]}}", 12),
               {"tensors \"a\" [0, 8) and \"b\" [4, 12) overlap"});
  expect_error(file_with(R"({"b": )" + kF32x2 + R"([0, 8]}, "a": )" + kF32x2 + "[0, 8]}}", 8),
               {"overlap"});
  // An empty tensor inside another's range also overlaps (as in the reference implementation).
  expect_error(file_with(R"({"a": )" + kF32x2 +
                             R"([0, 8]}, "e": {"dtype":"F32","shape":[0],"data_offsets":[4, 4]}})",
                         8),
               {"tensors \"a\" [0, 8) and \"e\" [4, 4) overlap"});
}

TEST_F(SafetensorsErrors, HolesInTheBuffer) {
  expect_error(file_with(R"({"a": )" + kF32x2 + R"([0, 8]}, "b": )" + kF32x2 + "[12, 20]}}", 20),
               {"hole in the data buffer: bytes [8, 12) before tensor \"b\" belong to no tensor"});
  expect_error(file_with(R"({"a": )" + kF32x2 + "[4, 12]}}", 12),
               {"hole in the data buffer: bytes [0, 4) before tensor \"a\""});
  expect_error(file_with(R"({"a": )" + kF32x2 + "[0, 8]}}", 16),
               {"hole in the data buffer: bytes [8, 16) at the end belong to no tensor"});
  expect_error(file_with("{}", 1), {"bytes [0, 1) at the end"});
}

TEST_F(SafetensorsErrors, DuplicateKeys) {
  expect_error(file_with(R"({"w": )" + kF32x2 + R"([0, 8]}, "w": )" + kF32x2 + "[8, 16]}}", 16),
               {"invalid JSON header", "duplicate key \"w\""});
  expect_error(file_with(R"({"w": {"dtype": "F32", "dtype": "F32", "shape": [0], )"
                         R"("data_offsets": [0, 0]}})",
                         0),
               {"duplicate key \"dtype\""});
}

TEST_F(SafetensorsErrors, BadMetadata) {
  expect_error(file_with(R"({"__metadata__": {"step": 5}})", 0),
               {"__metadata__ value for \"step\" is 5, expected a string"});
  expect_error(file_with(R"({"__metadata__": ["a"]})", 0),
               {"__metadata__ is array, expected an object of strings"});
}

TEST_F(SafetensorsErrors, NotAFile) {
  expect_error(dir_.string(), {"not a regular file"});
  expect_error((dir_ / "missing.safetensors").string(), {"cannot open: No such file or directory"});
}

TEST_F(SafetensorsErrors, MissingTensorName) {
  const std::string path = file_with(R"({"w": )" + kF32x2 + "[0, 8]}}", 8);
  const io::SafeTensorsFile f(path);
  try {
    f.get("v");
    FAIL();
  } catch (const IOError& e) {
    EXPECT_THAT(e.what(), HasSubstr("safetensors file '" + path + "': no tensor named \"v\""));
  }
  EXPECT_EQ(f.get("w").shape(), (Shape{2}));
}

// Random corruptions of a valid file either load (and every byte of every tensor can be read)
// or throw IOError: never a crash, never another exception.
TEST_F(SafetensorsErrors, RandomCorruptionsNeverCrash) {
  const std::string good_path = (dir_ / "good.safetensors").string();
  io::save_safetensors(good_path,
                       {{"w", randn({3, 2})},
                        {"b", ones({2}, kInt64)},
                        {"m", ones({3}, kBool)},
                        {"h", ones({1}, kBFloat16)},
                        {"s", scalar_tensor(1, kInt32)}},
                       {{"k", "v"}});
  const std::string good = io::read_file(good_path);
  // The mutants live in memory (a memfd opened through /proc) to keep the disk out of the loop.
  const int fd = ::memfd_create("mutant.safetensors", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::string path = "/proc/self/fd/";
  path += std::to_string(fd);
  const std::string alphabet =
      "{}[]\":,0123456789-.e \x01\x80\xFF"
      "FIBLOT_";
  std::mt19937 rng(99);
  int loaded = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s = good;
    switch (rng() % 4) {
      case 0:
        s.resize(rng() % s.size());
        break;  // truncate
      case 1:
        s[rng() % 8] = static_cast<char>(rng());
        break;  // header size
      default: {
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits; ++e) {
          const size_t pos = 8 + rng() % (s.size() - 8);
          s[pos] = alphabet[rng() % alphabet.size()];
        }
      }
    }
    ASSERT_EQ(::ftruncate(fd, 0), 0);
    ASSERT_EQ(::pwrite(fd, s.data(), s.size(), 0), static_cast<ssize_t>(s.size()));
    for (bool mmap : {true, false}) {
      try {
        const io::SafeTensorsFile f(path, mmap);
        for (const auto& [name, t] : f.tensors()) {
          const auto* p = static_cast<const uint8_t*>(t.raw_data());
          unsigned sum = 0;
          for (int64_t i = 0; i < t.numel() * static_cast<int64_t>(t.element_size()); ++i)
            sum += p[i];
          (void)sum;
        }
        ++loaded;
      } catch (const IOError&) {
      }
    }
  }
  ::close(fd);
  EXPECT_GT(loaded, 0);  // some corruptions only touch tensor data
}
