// The image pipeline: Preprocessor in image mode, prepare_image_data on image folders and
// Fashion-MNIST, and the [[augment]] transforms of make_augment.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "ember/data/image.h"
#include "ember/data/transforms.h"
#include "ember/ember.h"
#include "ember/train/pipeline.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using ember::testing::expect_error;
namespace fs = std::filesystem;

namespace {

data::Preprocessor image_pre(const std::string& normalize = "standard") {
  data::PreprocessOptions o;
  o.normalize = normalize;
  return data::Preprocessor::for_images(o, {"cat", "dog"});
}

std::vector<double> channel_means(const Tensor& x) {
  return x.mean({0, 2, 3}).to(kFloat64).to_vector<double>();
}

// Population standard deviation per channel of x (N, C, H, W), in float64.
std::vector<double> channel_stds(const Tensor& x) {
  const Tensor d = x.to(kFloat64);
  const Tensor centered = d - d.mean({0, 2, 3}, true);
  return sqrt((centered * centered).mean({0, 2, 3})).to_vector<double>();
}

// Random whole numbers 0..254 as float32, like raw 8-bit pixels.
Tensor raw_values(IntList shape) {
  return (rand(shape) * 255.0).to(kInt64).to(kFloat32);
}

// x (C, H, W) mirrored left to right.
Tensor flip_width(const Tensor& x) {
  const std::vector<float> v = x.contiguous().to_vector<float>();
  std::vector<float> out(v.size());
  const int64_t w = x.size(2), rows = x.numel() / w;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < w; ++j)
      out[static_cast<size_t>(r * w + j)] = v[static_cast<size_t>(r * w + w - 1 - j)];
  return from_vector(out, x.shape());
}

// The pixel value of image i of class k in the folder made by make_folder: distinct per image.
float pixel_value(int64_t k, int64_t i) {
  return static_cast<float>(k * 10 + i + 1) / 32.0f;
}

// root/<a|b|c>/img<i>.png: 3 classes x 10 gray 8x8 images, image i of class k filled with
// pixel_value(k, i) (a right half brighter, so flips are visible).
fs::path make_folder(const std::string& name) {
  const fs::path root = ember::testing::fresh_dir("train_image_pipeline", name);
  const char* classes[] = {"a", "b", "c"};
  for (int64_t k = 0; k < 3; ++k) {
    fs::create_directories(root / classes[k]);
    for (int64_t i = 0; i < 10; ++i) {
      Tensor img = full({1, 8, 8}, pixel_value(k, i));
      img.narrow(2, 4, 4).mul_(0.5);
      data::write_png((root / classes[k] / ("img" + std::to_string(i) + ".png")).string(), img);
    }
  }
  return root;
}

train::TrainConfig folder_config(const fs::path& root) {
  train::TrainConfig cfg;
  cfg.data.format = "image_folder";
  cfg.data.path = root.string();
  cfg.data.split = {0.6, 0.2, 0.2};
  cfg.data.seed = 3;
  return cfg;
}

}  // namespace

TEST(TrainImagePipeline, FitGivesPerChannelMeanAndStd) {
  manual_seed(0);
  // Raw 0..255 values; channel c scaled by (c + 1) / 3 so the channels differ.
  const Tensor images =
      raw_values({6, 3, 4, 5}) * reshape(tensor({1.0 / 3, 2.0 / 3, 1.0}), {1, 3, 1, 1});
  data::Preprocessor pre = image_pre();
  EXPECT_TRUE(pre.is_image());
  pre.fit_images(images, 1.0 / 255.0);
  const data::ImageSpec& im = pre.image();
  EXPECT_EQ(im.channels, 3);
  EXPECT_EQ(im.height, 4);
  EXPECT_EQ(im.width, 5);
  EXPECT_EQ(pre.input_shape(), (std::vector<int64_t>{3, 4, 5}));
  const Tensor pixels = images / 255.0;
  const std::vector<double> mean = channel_means(pixels), std = channel_stds(pixels);
  ASSERT_EQ(im.mean.size(), 3u);
  ASSERT_EQ(im.std.size(), 3u);
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(im.mean[c], mean[c], 1e-6) << c;
    EXPECT_NEAR(im.std[c], std[c], 1e-6) << c;
  }
  // The training images come out with mean 0 and std 1 in every channel.
  const Tensor x = pre.transform_images(images);
  EXPECT_EQ(x.dtype(), kFloat32);
  EXPECT_EQ(x.shape(), images.shape());
  for (double m : channel_means(x)) EXPECT_NEAR(m, 0.0, 1e-5);
  for (double s : channel_stds(x)) EXPECT_NEAR(s, 1.0, 1e-5);
  EXPECT_EQ(pre.class_names(), (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(pre.num_classes(), 2);
}

TEST(TrainImagePipeline, OtherNormalizations) {
  const Tensor images = reshape(arange(0.0, 32.0, 1.0, kFloat32), {2, 1, 4, 4}) * 8.0;
  for (const auto& [norm, lo, hi] : std::vector<std::tuple<std::string, double, double>>{
           {"none", 0, 248 / 255.0},
           {"minmax", 0, 248 / 255.0},
           {"minmax_sym", -1, 2 * 248 / 255.0 - 1}}) {
    data::Preprocessor pre = image_pre(norm);
    pre.fit_images(images, 1.0 / 255.0);
    const Tensor x = pre.transform_images(images);
    EXPECT_NEAR(x.min().item(), lo, 1e-6) << norm;
    EXPECT_NEAR(x.max().item(), hi, 1e-6) << norm;
  }
  data::PreprocessOptions o;
  o.normalize = "zscore";
  expect_error<ConfigError>([&] { data::Preprocessor::for_images(o, {"a"}); },
                            {"zscore", "minmax_sym", "standard"});
}

TEST(TrainImagePipeline, JsonRoundTripTransformsBitIdentically) {
  manual_seed(1);
  const Tensor images = raw_values({5, 3, 6, 6});
  data::Preprocessor pre = image_pre();
  pre.fit_images(images, 1.0 / 255.0);
  const json::Value j = pre.to_json();
  const data::Preprocessor back = data::Preprocessor::from_json(json::parse(json::dump(j)));
  EXPECT_TRUE(back.is_image());
  EXPECT_EQ(back.image(), pre.image());
  EXPECT_EQ(back.class_names(), pre.class_names());
  const Tensor probe = raw_values({4, 3, 6, 6});
  EXPECT_EQ(back.transform_images(probe).to_vector<float>(),
            pre.transform_images(probe).to_vector<float>());
  // A broken document names what is wrong.
  json::Value bad = j;
  bad["image"]["std"] = json::Array{1.0, 0.0, 1.0};
  expect_error<Error>([&] { data::Preprocessor::from_json(bad); }, {"std"});
}

TEST(TrainImagePipeline, WrongShapesAreShapeErrors) {
  data::Preprocessor pre = image_pre();
  pre.fit_images(rand({2, 3, 4, 5}), 1.0);
  expect_error<ShapeError>(
      [&] {
        pre.transform_images(rand({2, 3, 5, 4}));
      },
      {"(N, 3, 4, 5)", "(2, 3, 5, 4)"});
  expect_error<ShapeError>(
      [&] {
        pre.transform_images(rand({3, 4, 5}));
      },
      {"(N, 3, 4, 5)", "(3, 4, 5)"});
  expect_error<ShapeError>(
      [&] {
        pre.normalize_pixels(rand({1, 1, 4, 5}));
      },
      {"(N, 3, 4, 5)", "(1, 1, 4, 5)"});
  expect_error<ShapeError>([&] { image_pre().fit_images(rand({3, 4, 5}), 1.0); }, {"(3, 4, 5)"});
  // Table methods on an image preprocessor, and the reverse, say which one to use.
  expect_error<Error>(
      [&] {
        image_pre().transform_images(rand({1, 3, 4, 5}));
      },
      {"transform_images"});
}

TEST(TrainImagePipeline, NormalizeDenormalizeRoundTrip) {
  manual_seed(2);
  data::Preprocessor pre = image_pre();
  pre.fit_images(rand({4, 3, 4, 4}) * 255.0, 1.0 / 255.0);
  const Tensor pixels = rand({2, 3, 4, 4});
  const Tensor x = pre.normalize_pixels(pixels);
  EXPECT_FALSE(allclose(x, pixels, 1e-3, 1e-3));
  EXPECT_TRUE(allclose(pre.denormalize_pixels(x), pixels, 1e-5, 1e-6));
  // normalize_pixels of pixels equals transform_images of the raw values they came from.
  EXPECT_TRUE(allclose(pre.transform_images(pixels * 255.0), x, 1e-5, 1e-5));
}

TEST(TrainImagePipeline, ImageFolderSplitsLabelsAndStratifies) {
  const fs::path root = make_folder("folder");
  const train::TrainConfig cfg = folder_config(root);
  const train::PreparedData d = train::prepare_image_data(cfg);
  EXPECT_EQ(d.table.source, root.string());
  EXPECT_EQ(d.pre.class_names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(d.pre.input_shape(), (std::vector<int64_t>{1, 8, 8}));
  ASSERT_EQ(d.train.size(), 18);
  ASSERT_EQ(d.val.size(), 6);
  ASSERT_EQ(d.test.size(), 6);
  EXPECT_EQ(d.train.x.shape(), (Shape{18, 1, 8, 8}));
  EXPECT_EQ(d.train.y.dtype(), kInt64);
  EXPECT_EQ(d.augment, nullptr);
  std::set<int64_t> seen;
  for (const train::SplitData* s : {&d.train, &d.val, &d.test}) {
    const std::vector<int64_t> y = s->y.to_vector<int64_t>();
    ASSERT_EQ(s->rows.size(), y.size());
    int64_t counts[3] = {0, 0, 0};
    const Tensor pixels = d.pre.denormalize_pixels(s->x);
    for (size_t i = 0; i < y.size(); ++i) {
      const int64_t row = s->rows[i];
      EXPECT_TRUE(seen.insert(row).second) << "row " << row << " in two splits";
      // Rows follow the sorted classes and files: image i of class k is row 10 k + (the
      // position of "img<i>.png" in name order, which is i for 0..9).
      EXPECT_EQ(y[i], row / 10) << row;
      ++counts[y[i]];
      const float want = std::round(pixel_value(row / 10, row % 10) * 255.0f) / 255.0f;
      EXPECT_NEAR(
          pixels.select(0, static_cast<int64_t>(i)).select(0, 0).select(0, 0).select(0, 0).item(),
          want, 1e-5)
          << row;
    }
    // Stratified: each class keeps its share (6 / 2 / 2 of its 10 images).
    const int64_t per_class = s->size() / 3;
    for (int64_t c : counts) EXPECT_EQ(c, per_class);
  }
  EXPECT_EQ(seen.size(), 30u);
  // The training split is normalized to mean 0, std 1.
  EXPECT_NEAR(d.train.x.mean().item(), 0.0, 1e-5);
  // The same seed gives the same split; another seed another one.
  EXPECT_EQ(train::prepare_image_data(cfg).train.rows, d.train.rows);
  train::TrainConfig other = cfg;
  other.data.seed = 4;
  EXPECT_NE(train::prepare_image_data(other).train.rows, d.train.rows);
}

TEST(TrainImagePipeline, ImageFolderResizesAndConvertsChannels) {
  const fs::path root = make_folder("resize");
  train::TrainConfig cfg = folder_config(root);
  cfg.data.channels = 3;
  cfg.data.image_size = {4, 6};
  cfg.data.split = {0.8, 0.2, 0.0};
  const train::PreparedData d = train::prepare_image_data(cfg);
  EXPECT_EQ(d.train.x.shape(), (Shape{24, 3, 4, 6}));
  EXPECT_EQ(d.val.size(), 6);
  EXPECT_EQ(d.test.size(), 0);
  EXPECT_EQ(d.pre.input_shape(), (std::vector<int64_t>{3, 4, 6}));
}

TEST(TrainImagePipeline, MakeAugmentBuildsEveryType) {
  const train::PreparedData d = train::prepare_image_data(folder_config(make_folder("augment")));
  EXPECT_EQ(train::make_augment({}, d.pre), nullptr);
  const Tensor x = d.train.x.select(0, 0).contiguous();
  Generator gen(11);
  std::vector<train::AugmentConfig> all;
  for (const std::string& type : train::kAugmentNames) {
    train::AugmentConfig a;
    a.type = type;
    all.push_back(a);
    const auto t = train::make_augment({a}, d.pre);
    ASSERT_NE(t, nullptr) << type;
    for (int i = 0; i < 5; ++i) {
      const Tensor y = t->apply(x, gen);
      EXPECT_EQ(y.shape(), x.shape()) << type;
      EXPECT_FALSE(any(isnan(y)).item<bool>()) << type;
    }
  }
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(train::make_augment(all, d.pre)->apply(x, gen).shape(), x.shape());
  // A sure flip gives the flipped normalized sample: the pixels go back to [0, 1] and return.
  train::AugmentConfig flip;
  flip.type = "horizontal_flip";
  flip.p = 1;
  EXPECT_TRUE(
      allclose(train::make_augment({flip}, d.pre)->apply(x, gen), flip_width(x), 1e-5, 1e-5));
  // A rotation by 0 degrees is the identity.
  train::AugmentConfig still;
  still.type = "rotation";
  still.degrees = 0;
  EXPECT_TRUE(allclose(train::make_augment({still}, d.pre)->apply(x, gen), x, 1e-5, 1e-5));
  // Erasing with value 0.5 writes pixel intensity 0.5, i.e. normalize(0.5) after normalization.
  train::AugmentConfig erase;
  erase.type = "erasing";
  erase.p = 1;
  erase.scale = {0.5, 0.5};
  erase.ratio = {1, 1};
  erase.value = 0.5;
  const Tensor erased = train::make_augment({erase}, d.pre)->apply(x, gen);
  const double want = (0.5 - d.pre.image().mean[0]) / d.pre.image().std[0];
  EXPECT_NEAR(erased.min().item(), std::min(want, x.min().item()), 1e-5);
  int64_t hits = 0;
  for (float v : erased.to_vector<float>()) hits += std::abs(v - want) < 1e-4;
  EXPECT_GE(hits, 25);  // a 5x5 or larger patch of the 8x8 image (about half its area)
  train::AugmentConfig bad;
  bad.type = "blur";
  expect_error<ConfigError>([&] { train::make_augment({bad}, d.pre); }, {"blur"});
}

TEST(TrainImagePipeline, FashionMnistSplits) {
  const std::string dir = std::string(EMBER_SOURCE_DIR) + "/data/fashion-mnist";
  if (!fs::exists(dir + "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << dir << " is missing (scripts/get-data.sh fashion-mnist)";
  train::TrainConfig cfg;
  cfg.data.format = "fashion_mnist";
  cfg.data.path = dir;
  const train::PreparedData d = train::prepare_image_data(cfg);
  EXPECT_EQ(d.train.size(), 54000);
  EXPECT_EQ(d.val.size(), 6000);
  EXPECT_EQ(d.test.size(), 10000);
  EXPECT_EQ(d.train.x.shape(), (Shape{54000, 1, 28, 28}));
  const std::vector<std::string> classes = d.pre.class_names();
  ASSERT_EQ(classes.size(), 10u);
  EXPECT_EQ(classes[0], "T-shirt/top");
  EXPECT_EQ(classes[9], "Ankle boot");
  // Validation is stratified: 600 of each class.
  const std::vector<int64_t> y = d.val.y.to_vector<int64_t>();
  for (int64_t c = 0; c < 10; ++c) EXPECT_EQ(std::count(y.begin(), y.end(), c), 600) << c;
  EXPECT_NEAR(d.pre.image().mean[0], 0.2860, 2e-3);  // the well-known Fashion-MNIST statistics
  EXPECT_NEAR(d.pre.image().std[0], 0.3530, 2e-3);
  // The official test set, in order.
  EXPECT_EQ(d.test.rows.front(), 0);
  EXPECT_EQ(d.test.rows.back(), 9999);
}
