// Images: PNG/JPEG round trips, channel conversion, bad input, writing errors; image folders.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "ember/data/image.h"
#include "ember/data/image_folder.h"
#include "ember/io/file.h"
#include "ember/ops/creation.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;
namespace fs = std::filesystem;

namespace {

// (c, h, w) image with values k/255 (exactly representable in 8 bits).
Tensor test_image(int64_t c, int64_t h, int64_t w, int64_t salt = 0) {
  std::vector<float> v(static_cast<size_t>(c * h * w));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>((i * 37 + salt * 11) % 256) / 255.0f;
  return from_vector(v, {c, h, w});
}

void expect_close(const Tensor& a, const Tensor& b, float tol) {
  ASSERT_EQ(a.shape(), b.shape());
  const auto x = a.to_vector<float>(), y = b.to_vector<float>();
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], y[i], tol) << "element " << i;
}

}  // namespace

TEST(DataImage, PngRoundTripsExactly) {
  const auto dir = ember::testing::fresh_dir("DataImage", "png");
  for (int64_t c : {1, 3, 4}) {
    const Tensor img = test_image(c, 5, 7);
    const std::string path = (dir / ("img" + std::to_string(c) + ".png")).string();
    write_png(path, img);
    const Tensor back = read_image(path);
    EXPECT_EQ(back.shape(), (Shape{c, 5, 7}));
    EXPECT_EQ(back.dtype(), kFloat32);
    expect_close(back, img, 1e-7f);
  }
  // (H, W) is gray; values are clamped and NaN becomes 0.
  const Tensor gray = from_vector<float>({-1.0f, 0.5f, 2.0f, std::nanf("")}, {2, 2});
  write_png((dir / "gray.png").string(), gray);
  expect_close(read_image((dir / "gray.png").string()),
               from_vector<float>({0.0f, 128 / 255.0f, 1.0f, 0.0f}, {1, 2, 2}), 1e-7f);
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_FALSE(e.path().filename().string().starts_with(".")) << "temporary file left";
}

TEST(DataImage, ChannelConversion) {
  const auto dir = ember::testing::fresh_dir("DataImage", "channels");
  const std::string rgb_path = (dir / "rgb.png").string(), gray_path = (dir / "gray.png").string();
  write_png(rgb_path, test_image(3, 4, 4));
  write_png(gray_path, test_image(1, 4, 4));
  EXPECT_EQ(read_image(rgb_path, 1).shape(), (Shape{1, 4, 4}));
  EXPECT_EQ(read_image(rgb_path, 4).shape(), (Shape{4, 4, 4}));
  const Tensor g3 = read_image(gray_path, 3);
  ASSERT_EQ(g3.shape(), (Shape{3, 4, 4}));
  expect_close(g3.select(0, 0), g3.select(0, 2), 0);
  expect_close(g3.select(0, 1), test_image(1, 4, 4).select(0, 0), 1e-7f);
  const Tensor rgba = read_image(rgb_path, 4);
  expect_close(rgba.select(0, 3), from_vector(std::vector<float>(16, 1.0f), {4, 4}), 0);
  expect_error<ValueError>([&] { read_image(rgb_path, 5); }, {"channels must be 0"});
}

TEST(DataImage, JpegRoundTripsApproximately) {
  const auto dir = ember::testing::fresh_dir("DataImage", "jpeg");
  // A smooth gradient compresses well: JPEG error stays small at quality 95.
  std::vector<float> v(3 * 16 * 16);
  for (int64_t k = 0; k < 3; ++k)
    for (int64_t y = 0; y < 16; ++y)
      for (int64_t x = 0; x < 16; ++x) v[(k * 16 + y) * 16 + x] = (x + y + 8.0f * k) / 46.0f;
  const Tensor img = from_vector(v, {3, 16, 16});
  const std::string path = (dir / "grad.jpg").string();
  write_jpeg(path, img, 95);
  const Tensor back = read_image(path);
  ASSERT_EQ(back.shape(), (Shape{3, 16, 16}));
  expect_close(back, img, 0.06f);
  const std::string bytes = io::read_file(path);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 0xFF);
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]), 0xD8);
  write_jpeg((dir / "rgba.jpg").string(), test_image(4, 8, 8));  // alpha dropped
  EXPECT_EQ(read_image((dir / "rgba.jpg").string()).shape(), (Shape{3, 8, 8}));
}

TEST(DataImage, CorruptAndUnsupportedInput) {
  const auto dir = ember::testing::fresh_dir("DataImage", "bad");
  const auto write = [&](const std::string& name, const std::string& bytes) {
    const std::string path = (dir / name).string();
    io::write_file_atomic(path, bytes);
    return path;
  };
  std::string path = write("empty.png", "");
  expect_error<IOError>([&] { read_image(path); }, {path, "not a valid PNG/JPEG image", "empty"});
  path = write("garbage.png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(200, 'g'));
  expect_error<IOError>([&] { read_image(path); }, {path, "not a valid PNG/JPEG image (stb: "});
  path = write("text.jpg", "this is not an image");
  expect_error<IOError>([&] { read_image(path); }, {path, "not a valid PNG/JPEG image (stb: "});

  write_jpeg((dir / "ok.jpg").string(), test_image(3, 32, 32));
  const std::string jpeg = io::read_file((dir / "ok.jpg").string());
  path = write("cut.jpg", jpeg.substr(0, jpeg.size() / 3));
  expect_error<IOError>([&] { read_image(path); }, {path, "not a valid PNG/JPEG image"});

  // PNG IHDR: width at bytes 16..19, height at 20..23 (stb does not check the CRC).
  write_png((dir / "ok.png").string(), test_image(1, 3, 3));
  std::string png = io::read_file((dir / "ok.png").string());
  std::string zero = png;
  for (int i = 16; i < 20; ++i) zero[i] = 0;
  path = write("zero.png", zero);
  expect_error<IOError>([&] { read_image(path); }, {path});
  std::string huge = png;
  for (int i = 16; i < 24; ++i) huge[i] = (i == 17 || i == 21) ? '\x01' : '\0';  // 65536 x 65536
  path = write("huge.png", huge);
  expect_error<IOError>([&] { read_image(path); }, {path});
  expect_error<IOError>([&] { read_image((dir / "missing.png").string()); }, {"missing.png"});
}

TEST(DataImage, WritingChecksTheImage) {
  const auto dir = ember::testing::fresh_dir("DataImage", "write");
  const std::string path = (dir / "x.png").string();
  expect_error<ShapeError>([&] { write_png(path, test_image(2, 4, 4)); },
                           {"write_png", "C in {1, 3, 4}", "(2, 4, 4)"});
  expect_error<ShapeError>([&] { write_png(path, zeros({1, 2, 3, 4})); }, {"(1, 2, 3, 4)"});
  expect_error<ShapeError>(
      [&] {
        write_jpeg(path, zeros({3, 0, 4}));
      },
      {"write_jpeg", "(3, 0, 4)"});
  expect_error<DTypeError>([&] { write_png(path, zeros({1, 2, 2}, kInt64)); }, {"float"});
  expect_error<ValueError>([&] { write_jpeg(path, test_image(3, 4, 4), 0); },
                           {"quality must be in [1, 100]; got 0"});
  EXPECT_FALSE(fs::exists(path));
  expect_error<IOError>(
      [&] { write_png((dir / "no/such/dir/x.png").string(), test_image(1, 2, 2)); },
      {"no/such/dir"});
}

TEST(DataImageFolder, LoadsClassesInSortedOrder) {
  const auto root = ember::testing::fresh_dir("DataImageFolder", "ok");
  fs::create_directories(root / "dog");
  fs::create_directories(root / "cat");
  write_png((root / "dog" / "b.png").string(), test_image(3, 4, 6, 1));
  write_png((root / "dog" / "a.PNG").string(), test_image(3, 4, 6, 2));
  write_png((root / "cat" / "z.png").string(), test_image(3, 4, 6, 3));
  io::write_file_atomic((root / "cat" / "notes.txt").string(), "not an image");
  io::write_file_atomic((root / "README").string(), "ignored");
  const ImageFolder ds = load_image_folder(root.string());
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(ds.images.shape(), (Shape{3, 3, 4, 6}));
  EXPECT_EQ(ds.labels.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 1}));
  ASSERT_EQ(ds.paths.size(), 3u);
  EXPECT_TRUE(ds.paths[1].ends_with("dog/a.PNG")) << ds.paths[1];
  expect_close(ds.images.select(0, 1), test_image(3, 4, 6, 2), 1e-7f);
  expect_close(ds.images.select(0, 0), test_image(3, 4, 6, 3), 1e-7f);

  ImageFolderOptions opts;
  opts.channels = 1;
  opts.height = 8;
  opts.width = 3;
  const ImageFolder small = load_image_folder(root.string(), opts);
  EXPECT_EQ(small.images.shape(), (Shape{3, 1, 8, 3}));
}

TEST(DataImageFolder, Errors) {
  const auto root = ember::testing::fresh_dir("DataImageFolder", "bad");
  expect_error<IOError>([&] { load_image_folder((root / "missing").string()); },
                        {"missing", "not a directory"});
  expect_error<IOError>([&] { load_image_folder(root.string()); }, {"no class folders"});
  fs::create_directories(root / "a");
  fs::create_directories(root / "b");
  write_png((root / "a" / "1.png").string(), test_image(3, 4, 4));
  expect_error<IOError>([&] { load_image_folder(root.string()); },
                        {(root / "b").string(), "class folder has no image files"});
  write_png((root / "b" / "2.png").string(), test_image(3, 5, 4));
  expect_error<IOError>([&] { load_image_folder(root.string()); },
                        {"2.png: image is 4x5", "1.png is 4x4", "set a height and width"});
  io::write_file_atomic((root / "b" / "3.jpg").string(), "garbage");
  ImageFolderOptions opts;
  opts.height = opts.width = 4;
  expect_error<IOError>([&] { load_image_folder(root.string(), opts); },
                        {"3.jpg: not a valid PNG/JPEG image"});
  opts.width = 0;
  expect_error<ValueError>([&] { load_image_folder(root.string(), opts); },
                           {"height and width must both be > 0"});
}
