// safetensors: round trips for every dtype, the exact byte layout of the reference library, mmap.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "ember/ember.h"
#include "support/tmpdir.h"

using namespace ember;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  return ember::testing::fresh_dir("io_safetensors", name);
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(n >> (8 * i));
  return s;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
std::string raw_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

std::string tensor_bytes(const Tensor& t) {
  const Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.raw_data()), c.numel() * c.element_size());
}

// Same dtype, shape and bytes.
void expect_same(const Tensor& actual, const Tensor& expected, const std::string& what = "") {
  ASSERT_TRUE(actual.defined()) << what;
  EXPECT_EQ(actual.dtype(), expected.dtype()) << what;
  EXPECT_EQ(actual.shape(), expected.shape()) << what;
  EXPECT_EQ(tensor_bytes(actual), tensor_bytes(expected)) << what;
}

// Every dtype, 0-d and empty tensors.
io::NamedTensors all_kinds() {
  manual_seed(7);
  return {
      {"f32", randn({3, 4})},
      {"f64", randn({2, 3}, kFloat64)},
      {"i32", randint(-1000, 1000, {5}, kInt32)},
      {"i64", from_vector<int64_t>({std::numeric_limits<int64_t>::min(), -1, 0, 1,
                                    std::numeric_limits<int64_t>::max(), 1LL << 40})},
      {"bool", rand({2, 5}) > 0.5},
      {"bf16", randn({4, 2}).to(kBFloat16)},
      {"scalar.f32", scalar_tensor(3.5)},
      {"scalar.i64", scalar_tensor(-7, kInt64)},
      {"scalar.bool", scalar_tensor(1, kBool)},
      {"empty.f32", zeros({0})},
      {"empty.f64", zeros({2, 0, 3}, kFloat64)},
      {"empty.bool", zeros({0, 4}, kBool)},
      {"empty.bf16", zeros({0}, kBFloat16)},
  };
}

}  // namespace

TEST(Safetensors, RoundTripEveryDtype) {
  const fs::path dir = fresh_dir("roundtrip");
  const std::string path = (dir / "all.safetensors").string();
  const io::NamedTensors tensors = all_kinds();
  io::save_safetensors(path, tensors);
  for (bool mmap : {true, false}) {
    const io::NamedTensors loaded = io::load_safetensors(path, mmap);
    ASSERT_EQ(loaded.size(), tensors.size());
    std::map<std::string, Tensor> by_name(loaded.begin(), loaded.end());
    for (const auto& [name, t] : tensors) {
      ASSERT_TRUE(by_name.count(name)) << name;
      expect_same(by_name[name], t, name + (mmap ? " (mmap)" : " (read)"));
      EXPECT_FALSE(by_name[name].requires_grad());
    }
  }
  EXPECT_EQ(io::SafeTensorsFile(path).data_start() % 8, 0u);
}

TEST(Safetensors, NonContiguousInputsAreWrittenContiguous) {
  const fs::path dir = fresh_dir("noncontig");
  const std::string path = (dir / "views.safetensors").string();
  const Tensor base = arange(24).to(kFloat32).view({4, 6});
  const io::NamedTensors tensors = {
      {"transposed", base.t()},
      {"strided", base.slice(1, 0, 6, 2)},
      {"expanded", full({1, 3}, 2.0, kInt64).expand({4, 3})},
      {"offset", base.select(0, 2)},
      {"grad", randn({3}).requires_grad_()},
  };
  ASSERT_FALSE(tensors[0].second.is_contiguous());
  io::save_safetensors(path, tensors);
  const auto loaded = io::load_safetensors_map(path);
  for (const auto& [name, t] : tensors) {
    expect_same(loaded.at(name), t.detach().contiguous(), name);
    EXPECT_TRUE(loaded.at(name).is_contiguous());
  }
}

TEST(Safetensors, MetadataRoundTrip) {
  const fs::path dir = fresh_dir("metadata");
  const std::string path = (dir / "m.safetensors").string();
  const std::map<std::string, std::string> meta = {
      {"format", "pt"}, {"step", "1200"}, {"note", "quote \" newline \n caf\xC3\xA9"}, {"", ""}};
  io::save_safetensors(path, {{"w", ones({2})}}, meta);
  EXPECT_EQ(io::read_safetensors_metadata(path), meta);
  EXPECT_EQ(io::SafeTensorsFile(path).metadata(), meta);
  io::save_safetensors(path, {{"w", ones({2})}});
  EXPECT_TRUE(io::read_safetensors_metadata(path).empty());
}

TEST(Safetensors, MmapAndCopyLoadsAgree) {
  const fs::path dir = fresh_dir("modes");
  const std::string path = (dir / "m.safetensors").string();
  io::save_safetensors(path, all_kinds());
  const io::SafeTensorsFile mapped(path, true), read(path, false);
  EXPECT_EQ(mapped.keys(), read.keys());
  for (const auto& name : mapped.keys()) {
    const Tensor a = mapped.get(name), b = read.get(name);
    expect_same(a, b, name);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.raw_data()) % a.element_size(), 0u) << name;
  }
}

TEST(Safetensors, MmapViewsAreZeroCopyAndCopyOnWrite) {
  const fs::path dir = fresh_dir("cow");
  const std::string path = (dir / "w.safetensors").string();
  io::save_safetensors(path, {{"w", arange(6).to(kFloat32)}, {"b", ones({2}, kInt64)}});
  const std::string before = io::read_file(path);
  {
    const io::SafeTensorsFile file(path);
    Tensor w = file.get("w");
    // Zero-copy: the tensor points into the mapping; repeated gets view the same bytes.
    EXPECT_EQ(w.raw_data(), file.get("w").raw_data());
    w.fill_(42);
    w.add_(1);
    EXPECT_EQ(w.at<float>({3}), 43.f);
  }
  EXPECT_EQ(io::read_file(path), before);
  expect_same(io::load_safetensors_map(path).at("w"), arange(6).to(kFloat32));
}

TEST(Safetensors, MappingLivesAsLongAsTheLastTensor) {
  const fs::path dir = fresh_dir("lifetime");
  const std::string path = (dir / "life.safetensors").string();
  io::save_safetensors(path, {{"a", arange(1000).to(kFloat64)}, {"b", ones({3})}});
  const std::string real = fs::canonical(path).string();
  const auto mapped = [&] {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line))
      if (line.find(real) != std::string::npos) return true;
    return false;
  };
  Tensor a;
  {
    io::NamedTensors all = io::load_safetensors(path);
    a = all[0].second;
    EXPECT_TRUE(mapped());
  }
  EXPECT_TRUE(mapped());  // the file object and the other tensor are gone; `a` keeps the map
  Tensor view = a.slice(0, 10, 20);
  a = Tensor();
  EXPECT_EQ(view.at<double>({0}), 10.0);
  view = Tensor();
  EXPECT_FALSE(mapped());
  io::load_safetensors(path, /*mmap=*/false);
  EXPECT_FALSE(mapped());
}

// The byte vectors below are the reference library's own serialization tests
// (huggingface/safetensors, safetensors/src/tensor.rs: test_serialization, test_empty,
// test_serialization_forced_alignement): Ember must write exactly the same bytes.
TEST(Safetensors, WritesExactlyTheReferenceBytes) {
  const fs::path dir = fresh_dir("reference");
  const std::string path = (dir / "ref.safetensors").string();
  const auto bytes = [](std::initializer_list<int> v) {
    std::string s;
    for (int b : v) s += static_cast<char>(b);
    return s;
  };
  const Tensor data = arange(6).to(kFloat32);

  io::save_safetensors(path, {{"attn.0", data.view({1, 2, 3})}});
  EXPECT_EQ(io::read_file(path),
            bytes({64, 0,  0,   0,   0,   0,   0,   0,   123, 34,  97,  116, 116, 110, 46,  48,
                   34, 58, 123, 34,  100, 116, 121, 112, 101, 34,  58,  34,  70,  51,  50,  34,
                   44, 34, 115, 104, 97,  112, 101, 34,  58,  91,  49,  44,  50,  44,  51,  93,
                   44, 34, 100, 97,  116, 97,  95,  111, 102, 102, 115, 101, 116, 115, 34,  58,
                   91, 48, 44,  50,  52,  93,  125, 125, 0,   0,   0,   0,   0,   0,   128, 63,
                   0,  0,  0,   64,  0,   0,   64,  64,  0,   0,   128, 64,  0,   0,   160, 64}));

  io::save_safetensors(path, {{"attn0", data.view({1, 1, 2, 3})}});
  EXPECT_EQ(
      io::read_file(path),
      bytes({72,  0,   0,   0,   0,   0,   0,   0,   123, 34, 97, 116, 116, 110, 48,  34,  58,  123,
             34,  100, 116, 121, 112, 101, 34,  58,  34,  70, 51, 50,  34,  44,  34,  115, 104, 97,
             112, 101, 34,  58,  91,  49,  44,  49,  44,  50, 44, 51,  93,  44,  34,  100, 97,  116,
             97,  95,  111, 102, 102, 115, 101, 116, 115, 34, 58, 91,  48,  44,  50,  52,  93,  125,
             125, 32,  32,  32,  32,  32,  32,  32,  0,   0,  0,  0,   0,   0,   128, 63,  0,   0,
             0,   64,  0,   0,   64,  64,  0,   0,   128, 64, 0,  0,   160, 64}));

  io::save_safetensors(path, {});
  EXPECT_EQ(io::read_file(path), bytes({8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32}));

  io::save_safetensors(path, {}, {{"framework", "pt"}});
  EXPECT_EQ(io::read_file(path),
            bytes({40,  0,   0,   0,  0,  0,  0,   0,   123, 34,  95,  95,  109, 101, 116, 97,
                   100, 97,  116, 97, 95, 95, 34,  58,  123, 34,  102, 114, 97,  109, 101, 119,
                   111, 114, 107, 34, 58, 34, 112, 116, 34,  125, 125, 32,  32,  32,  32,  32}));
  for (const auto& [name, t] : io::load_safetensors(path)) ADD_FAILURE() << name;
}

// Ember's header parses back to exactly the JSON the spec describes: "__metadata__" first, then
// entries sorted by dtype alignment (I64, F64, F32, I32, BF16, BOOL) and name, offsets tiling
// the buffer.
TEST(Safetensors, HeaderLayoutMatchesTheSpec) {
  const fs::path dir = fresh_dir("layout");
  const std::string path = (dir / "layout.safetensors").string();
  io::save_safetensors(path,
                       {{"b", ones({3})},
                        {"flag", ones({3}, kBool)},
                        {"a", ones({2, 2})},
                        {"half", ones({1}, kBFloat16)},
                        {"idx", ones({2}, kInt64)},
                        {"count", ones({}, kInt32)},
                        {"z", ones({1}, kFloat64)}},
                       {{"framework", "ember"}});
  const std::string file = io::read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  ASSERT_EQ((8 + n) % 8, 0u);
  const std::string header = file.substr(8, n);
  const size_t json_len = header.find_last_not_of(' ') + 1;
  EXPECT_EQ(header.substr(json_len), std::string(n - json_len, ' '));  // space padding only
  EXPECT_LT(n - json_len, 8u);
  const json::Value expected = json::parse(R"({
    "__metadata__": {"framework": "ember"},
    "idx":   {"dtype": "I64",  "shape": [2],    "data_offsets": [0, 16]},
    "z":     {"dtype": "F64",  "shape": [1],    "data_offsets": [16, 24]},
    "a":     {"dtype": "F32",  "shape": [2, 2], "data_offsets": [24, 40]},
    "b":     {"dtype": "F32",  "shape": [3],    "data_offsets": [40, 52]},
    "count": {"dtype": "I32",  "shape": [],     "data_offsets": [52, 56]},
    "half":  {"dtype": "BF16", "shape": [1],    "data_offsets": [56, 58]},
    "flag":  {"dtype": "BOOL", "shape": [3],    "data_offsets": [58, 61]}})");
  const json::Value actual = json::parse(header);
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(actual.dump(), expected.dump());               // same key order too
  EXPECT_EQ(header.substr(0, json_len), expected.dump());  // compact, as serde_json writes
  EXPECT_EQ(file.size(), 8 + n + 61);
  EXPECT_EQ(file.substr(8 + n + 58), std::string("\1\1\1", 3));
  const io::SafeTensorsFile f(path);
  EXPECT_EQ(f.keys(), (std::vector<std::string>{"idx", "z", "a", "b", "count", "half", "flag"}));
  EXPECT_EQ(f.info("half").begin, 56u);
  EXPECT_EQ(f.data_start(), 8 + n);
}

// A file assembled by hand from the spec (arbitrary key and field order, whitespace, metadata,
// entries out of data order, a BF16 tensor, no padding) loads with the right values.
TEST(Safetensors, LoadsAHandBuiltFile) {
  const fs::path dir = fresh_dir("handbuilt");
  const std::string path = (dir / "hand.safetensors").string();
  const std::string header =
      "{ \"w\" : {\"data_offsets\": [8, 32], \"shape\": [2, 3], \"dtype\": \"F32\"},\n"
      "  \"__metadata__\": {\"source\": \"by hand\"},\n"
      "  \"ids\": {\"shape\": [2], \"dtype\": \"I32\", \"data_offsets\": [0, 8]},\n"
      "  \"h\": {\"dtype\": \"BF16\", \"shape\": [2], \"data_offsets\": [32, 36]},\n"
      "  \"m\": {\"dtype\": \"BOOL\", \"shape\": [3], \"data_offsets\": [36, 39]}}   ";
  const std::string data = raw_bytes<int32_t>({-5, 70000}) +
                           raw_bytes<float>({0.5f, -1.f, 2.f, 3.25f, 1e-3f, -0.f}) +
                           raw_bytes<uint16_t>({0x3F80, 0xC020}) +  // bf16 1.0, -2.5
                           std::string("\1\0\1", 3);
  write_bytes(path, le64(header.size()) + header + data);
  for (bool mmap : {true, false}) {
    const io::SafeTensorsFile f(path, mmap);
    EXPECT_EQ(f.keys(), (std::vector<std::string>{"w", "ids", "h", "m"}));
    EXPECT_EQ(f.metadata().at("source"), "by hand");
    expect_same(f.get("ids"), from_vector<int32_t>({-5, 70000}));
    expect_same(f.get("w"), from_vector<float>({0.5f, -1.f, 2.f, 3.25f, 1e-3f, -0.f}, {2, 3}));
    EXPECT_EQ(f.get("h").to(kFloat32).to_vector<float>(), (std::vector<float>{1.f, -2.5f}));
    EXPECT_EQ(f.get("m").to_vector<bool>(), (std::vector<bool>{true, false, true}));
  }
}

// Other writers may leave the data buffer unaligned (a header size that is not a multiple of 8);
// such tensors are copied instead of viewed. Bool bytes other than 0/1 are read as true.
TEST(Safetensors, MisalignedDataIsCopied) {
  const fs::path dir = fresh_dir("misaligned");
  const std::string path = (dir / "odd.safetensors").string();
  std::string header = R"({"x":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
                       R"("y":{"dtype":"I32","shape":[1],"data_offsets":[16,20]},)"
                       R"("z":{"dtype":"BOOL","shape":[2],"data_offsets":[20,22]}})";
  if ((8 + header.size()) % 8 == 0) header += " ";
  header += " ";  // data starts at an odd offset
  if ((8 + header.size()) % 2 == 0) header += " ";
  const std::string data =
      raw_bytes<double>({1.5, -2.25}) + raw_bytes<int32_t>({123456}) + std::string("\0\x07", 2);
  write_bytes(path, le64(header.size()) + header + data);
  for (bool mmap : {true, false}) {
    const io::SafeTensorsFile f(path, mmap);
    const Tensor x = f.get("x");
    EXPECT_EQ(reinterpret_cast<uintptr_t>(x.raw_data()) % 8, 0u);
    EXPECT_EQ(x.to_vector<double>(), (std::vector<double>{1.5, -2.25}));
    EXPECT_EQ(f.get("y").item<int32_t>(), 123456);
    const Tensor z = f.get("z");
    EXPECT_EQ(z.to_vector<bool>(), (std::vector<bool>{false, true}));
    EXPECT_EQ(static_cast<const uint8_t*>(z.raw_data())[1], 1);
  }
}

TEST(Safetensors, SaveRejectsBadNames) {
  const fs::path dir = fresh_dir("badnames");
  const std::string path = (dir / "bad.safetensors").string();
  try {
    io::save_safetensors(path, {{"w", ones({1})}, {"w", zeros({1})}});
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_THAT(e.what(), HasSubstr("duplicate tensor name \"w\""));
  }
  EXPECT_THROW(io::save_safetensors(path, {{"__metadata__", ones({1})}}), ValueError);
  EXPECT_THROW(io::save_safetensors(path, {{"u", Tensor()}}), ValueError);
  EXPECT_THROW(io::save_safetensors(path, {{"\xFF", ones({1})}}), ValueError);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(Safetensors, FailedSaveKeepsThePreviousFile) {
  const fs::path dir = fresh_dir("failsave");
  const std::string path = (dir / "model.safetensors").string();
  io::save_safetensors(path, {{"w", ones({4})}});
  const std::string before = io::read_file(path);
  EXPECT_THROW(io::save_safetensors(path, {{"w", ones({4})}, {"w", ones({4})}}), ValueError);
  EXPECT_THROW(io::save_safetensors((dir / "missing" / "m.safetensors").string(), {}), IOError);
  EXPECT_EQ(io::read_file(path), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(Safetensors, ManyTensors) {
  const fs::path dir = fresh_dir("many");
  const std::string path = (dir / "many.safetensors").string();
  io::NamedTensors tensors;
  for (int i = 0; i < 300; ++i) {
    std::string name = "layers.";
    name += std::to_string(i);
    name += ".weight";
    tensors.emplace_back(name, full({i % 5}, i));
  }
  io::save_safetensors(path, tensors);
  const auto loaded = io::load_safetensors_map(path, false);
  ASSERT_EQ(loaded.size(), 300u);
  for (const auto& [name, t] : tensors) expect_same(loaded.at(name), t, name);
}

// If the Python safetensors package is importable, cross-check both directions with it.
TEST(Safetensors, AgreesWithPythonSafetensorsIfInstalled) {
  if (std::system("/usr/bin/python3 -c 'import safetensors, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 safetensors not installed; the reference byte tests cover the format";
  const fs::path dir = fresh_dir("python");
  const std::string ours = (dir / "ember.safetensors").string();
  const std::string theirs = (dir / "python.safetensors").string();
  io::save_safetensors(ours, {{"a", arange(6).to(kFloat32).view({2, 3})}, {"b", ones({2}, kInt64)}},
                       {{"k", "v"}});
  const std::string script =
      "import numpy as np, safetensors.numpy as s, safetensors\n"
      "t = s.load_file('" +
      ours +
      "')\n"
      "assert (t['a'] == np.arange(6, dtype=np.float32).reshape(2, 3)).all()\n"
      "assert (t['b'] == np.ones(2, dtype=np.int64)).all()\n"
      "with safetensors.safe_open('" +
      ours +
      "', 'np') as f: assert f.metadata() == {'k': 'v'}\n"
      "s.save_file({'x': np.arange(4, dtype=np.float64), 'y': np.array([True, False])}, '" +
      theirs + "', metadata={'m': '1'})\n";
  const std::string script_path = (dir / "check.py").string();
  write_bytes(script_path, script);
  ASSERT_EQ(std::system(("/usr/bin/python3 " + script_path).c_str()), 0);
  const io::SafeTensorsFile f(theirs);
  expect_same(f.get("x"), arange(4).to(kFloat64));
  EXPECT_EQ(f.get("y").to_vector<bool>(), (std::vector<bool>{true, false}));
  EXPECT_EQ(f.metadata().at("m"), "1");
}
