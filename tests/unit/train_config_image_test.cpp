// train/config for images: [data] image formats, [[model.layers]], resnet keys, [[augment]],
// and the to_toml / model_to_toml round trips of the Fashion-MNIST examples.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ember/io/file.h"
#include "ember/train/config.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using ember::testing::expect_error;
using train::load_train_config;
using train::TrainConfig;
namespace fs = std::filesystem;

namespace {

// The test directory: a config file name.toml next to an (empty) image dataset directory "imgs".
fs::path dir() {
  static const fs::path d = [] {
    const fs::path p = ember::testing::fresh_dir("train_config_image", "cfg");
    fs::create_directories(p / "imgs");
    fs::create_directories(p / "data" / "fashion-mnist");
    std::ofstream(p / "rows.csv") << "a,y\n1,0\n";
    return p;
  }();
  return d;
}

std::string config(const std::string& name, const std::string& text) {
  const fs::path path = dir() / (name + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

const std::string kFmnist = "[data]\nformat = \"fashion_mnist\"\npath = \"imgs\"\n";
const std::string kFolder = "[data]\nformat = \"image_folder\"\npath = \"imgs\"\n";
const std::string kSequential = "[model]\ntype = \"sequential\"\n";

void expect_config_error(const std::string& text, std::initializer_list<std::string> fragments) {
  const std::string path = config("bad", text);
  expect_error<ConfigError>([&] { load_train_config(path); }, fragments);
}

}  // namespace

TEST(TrainConfigImage, FashionMnistDataKeys) {
  const TrainConfig c = load_train_config(
      config("fmnist", kFmnist + "val_fraction = 0.25\nseed = 4\n[training]\nworkers = 3\n"));
  EXPECT_EQ(c.data.format, "fashion_mnist");
  EXPECT_EQ(c.data.path, (dir() / "imgs").string());
  EXPECT_EQ(c.data.val_fraction, 0.25);
  EXPECT_EQ(c.data.seed, 4);
  EXPECT_EQ(c.data.task, "classification");
  EXPECT_EQ(c.training.workers, 3);
  EXPECT_TRUE(train::is_image_format(c.data.format));
  EXPECT_TRUE(train::is_image_format("mnist"));
  EXPECT_FALSE(train::is_image_format("csv"));
  // Keys of CSV data, or of image folders, mean nothing here.
  expect_config_error(kFmnist + "target = \"label\"\n",
                      {"bad.toml:4", "unknown key 'data.target'", "val_fraction"});
  expect_config_error(kFmnist + "split = [0.8, 0.1, 0.1]\n", {"unknown key 'data.split'"});
  expect_config_error(kFmnist + "val_fraction = 1.0\n", {"data.val_fraction", "1"});
  expect_config_error("[data]\nformat = \"fashion_mnist\"\n", {"data.path", "missing"});
  expect_config_error("[data]\nformat = \"fashion_mnist\"\npath = \"nowhere\"\n",
                      {"data.path", "nowhere"});
  expect_config_error("[data]\nformat = \"png\"\npath = \"imgs\"\n",
                      {"data.format", "png", "image_folder"});
  expect_config_error(kFmnist + "[training]\nworkers = 0\n", {"training.workers", "0"});
}

TEST(TrainConfigImage, ImageFolderDataKeys) {
  const TrainConfig c =
      load_train_config(config("folder", kFolder + "split = [0.5, 0.25, 0.25]\nstratify = false\n"
                                                   "image_size = [32, 48]\nchannels = 3\n"));
  EXPECT_EQ(c.data.format, "image_folder");
  EXPECT_EQ(c.data.split, (std::vector<double>{0.5, 0.25, 0.25}));
  EXPECT_FALSE(c.data.stratify);
  EXPECT_EQ(c.data.image_size, (std::vector<int64_t>{32, 48}));
  EXPECT_EQ(c.data.channels, 3);
  expect_config_error(kFolder + "val_fraction = 0.1\n", {"unknown key 'data.val_fraction'"});
  expect_config_error(kFolder + "image_size = [32]\n", {"data.image_size", "[height, width]"});
  expect_config_error(kFolder + "image_size = [0, 4]\n", {"data.image_size"});
  expect_config_error(kFolder + "channels = 2\n", {"data.channels", "0", "1", "3"});
  expect_config_error(kFolder + "split = [0.5, 0.5, 0.5]\n", {"data.split", "sum to 1"});
}

TEST(TrainConfigImage, SequentialLayers) {
  const TrainConfig c = load_train_config(config("layers", kFmnist + kSequential + R"(
[[model.layers]]
type = "conv2d"
out_channels = 8
kernel_size = 5
stride = 2
padding = 2
bias = false

[[model.layers]]
type = "relu"

[[model.layers]]
type = "max_pool2d"

[[model.layers]]
type = "adaptive_avg_pool2d"
output_size = 3

[[model.layers]]
type = "dropout2d"
p = 0.2

[[model.layers]]
type = "flatten"

[[model.layers]]
type = "linear"
out_features = 10
)"));
  ASSERT_EQ(c.model.layers.size(), 7u);
  const train::LayerConfig& conv = c.model.layers[0];
  EXPECT_EQ(conv.type, "conv2d");
  EXPECT_EQ(conv.out_channels, 8);
  EXPECT_EQ(conv.kernel_size, 5);
  EXPECT_EQ(conv.stride, 2);
  EXPECT_EQ(conv.padding, 2);
  EXPECT_FALSE(conv.bias);
  EXPECT_EQ(c.model.layers[1].type, "relu");
  EXPECT_EQ(c.model.layers[2].kernel_size, 2);  // pools default to 2x2
  EXPECT_EQ(c.model.layers[2].stride, 0);       // = kernel_size
  EXPECT_EQ(c.model.layers[3].output_size, 3);
  EXPECT_EQ(c.model.layers[4].p, 0.2);
  EXPECT_EQ(c.model.layers[6].out_features, 10);
  EXPECT_TRUE(c.model.layers[6].bias);

  // A key of another layer type is unknown.
  expect_config_error(
      kFmnist + kSequential + "[[model.layers]]\ntype = \"relu\"\nout_channels = 4\n",
      {"unknown key", "model.layers[0]", "out_channels"});
  expect_config_error(kFmnist + kSequential +
                          "[[model.layers]]\ntype = \"relu\"\n[[model.layers]]\ntype = "
                          "\"linear\"\nkernel_size = 3\nout_features = 2\n",
                      {"unknown key", "model.layers[1]", "kernel_size"});
  expect_config_error(kFmnist + kSequential + "[[model.layers]]\ntype = \"conv2d\"\n",
                      {"model.layers[0]", "out_channels", "missing"});
  expect_config_error(kFmnist + kSequential + "[[model.layers]]\ntype = \"linear\"\n",
                      {"model.layers[0]", "out_features", "missing"});
  expect_config_error(kFmnist + kSequential + "[[model.layers]]\ntype = \"conv3d\"\n",
                      {"conv3d", "conv2d", "max_pool2d"});
  expect_config_error(kFmnist + kSequential + "[[model.layers]]\nout_features = 3\n",
                      {"model.layers[0]", "type"});
  expect_config_error(kFmnist + kSequential + "[[model.layers]]\ntype = \"dropout\"\np = 1.0\n",
                      {"model.layers[0]", "p"});
  expect_config_error(kFmnist + kSequential, {"model.layers", "missing"});
  // hidden belongs to mlp; layers to sequential.
  expect_config_error(kFmnist + kSequential + "hidden = [4]\n[[model.layers]]\ntype = \"relu\"\n",
                      {"unknown key", "model.hidden"});
  expect_config_error(kFmnist + "[model]\ntype = \"mlp\"\n[[model.layers]]\ntype = \"relu\"\n",
                      {"unknown key", "model.layers"});
}

TEST(TrainConfigImage, ResnetKeys) {
  const TrainConfig c = load_train_config(config(
      "resnet",
      kFmnist +
          "[model]\ntype = \"resnet\"\nchannels = [16, 32]\nblocks = [2, 1]\ndropout = 0.1\n"));
  EXPECT_EQ(c.model.type, "resnet");
  EXPECT_EQ(c.model.channels, (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(c.model.blocks, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(c.model.dropout, 0.1);
  expect_config_error(kFmnist + "[model]\ntype = \"resnet\"\nchannels = [16, 32]\n",
                      {"model.blocks", "one entry per stage"});
  expect_config_error(kFmnist + "[model]\ntype = \"resnet\"\nchannels = []\nblocks = []\n",
                      {"model.channels"});
  expect_config_error(kFmnist + "[model]\ntype = \"resnet\"\nblocks = [1, 0, 1]\n",
                      {"model.blocks", "0"});
  expect_config_error(kFmnist + "[model]\ntype = \"resnet\"\nactivation = \"tanh\"\n",
                      {"unknown key", "model.activation"});
}

TEST(TrainConfigImage, AugmentEntries) {
  const TrainConfig c = load_train_config(config("augment", kFmnist + R"(
[[augment]]
type = "rotation"
degrees = 15
fill = 0.5

[[augment]]
type = "translation"
translate = [0.1, 0.2]

[[augment]]
type = "resized_crop"
scale = [0.5, 1.0]
ratio = [0.8, 1.25]

[[augment]]
type = "crop"
padding = 2

[[augment]]
type = "horizontal_flip"
p = 0.3

[[augment]]
type = "erasing"
value = 1.0
)"));
  ASSERT_EQ(c.augment.size(), 6u);
  EXPECT_EQ(c.augment[0].type, "rotation");
  EXPECT_EQ(c.augment[0].degrees, 15);
  EXPECT_EQ(c.augment[0].fill, 0.5);
  EXPECT_EQ(c.augment[1].translate, (std::vector<double>{0.1, 0.2}));
  EXPECT_EQ(c.augment[2].scale, (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(c.augment[2].ratio, (std::vector<double>{0.8, 1.25}));
  EXPECT_EQ(c.augment[3].padding, 2);
  EXPECT_EQ(c.augment[4].p, 0.3);
  EXPECT_EQ(c.augment[5].type, "erasing");
  EXPECT_EQ(c.augment[5].scale, (std::vector<double>{0.02, 0.33}));  // torchvision's default
  EXPECT_EQ(c.augment[5].value, 1.0);

  expect_config_error(kFmnist + "[[augment]]\ntype = \"blur\"\n",
                      {"augment[0]", "blur", "rotation", "erasing"});
  expect_config_error(kFmnist + "[[augment]]\ntype = \"erasing\"\nscale = [0.5, 0.2]\n",
                      {"augment[0].scale", "low <= high"});
  expect_config_error(kFmnist + "[[augment]]\ntype = \"resized_crop\"\nscale = [0.5]\n",
                      {"augment[0].scale"});
  expect_config_error(kFmnist + "[[augment]]\ntype = \"resized_crop\"\nscale = [0.2, 1.5]\n",
                      {"augment[0].scale", "1.5"});
  expect_config_error(kFmnist + "[[augment]]\ntype = \"crop\"\ndegrees = 10\n",
                      {"unknown key", "augment[0].degrees"});
  expect_config_error(kFmnist +
                          "[[augment]]\ntype = \"rotation\"\n[[augment]]\ntype = "
                          "\"horizontal_flip\"\np = 2\n",
                      {"augment[1].p", "2"});
  expect_config_error(kFmnist + "[[augment]]\ntype = \"translation\"\ntranslate = [0.1]\n",
                      {"augment[0].translate"});
  expect_config_error(kFmnist + "[[augment]]\ndegrees = 3\n", {"augment[0]", "type"});
  // Augmentation is for images only.
  expect_config_error(
      "[data]\npath = \"rows.csv\"\ntarget = \"y\"\n[[augment]]\ntype = \"horizontal_flip\"\n",
      {"[[augment]] needs image data", "csv"});
}

TEST(TrainConfigImage, ExamplesRoundTripThroughToToml) {
  for (const char* name : {"fmnist_cnn", "fmnist_resnet", "fmnist_mlp_best", "fmnist_mlp"}) {
    // The example next to a data/fashion-mnist directory, so its relative path resolves.
    const std::string text =
        io::read_file(std::string(EMBER_SOURCE_DIR) + "/examples/" + name + ".toml");
    const TrainConfig c = load_train_config(config(name, text));
    EXPECT_TRUE(fs::path(c.data.path).is_absolute()) << c.data.path;
    EXPECT_TRUE(c.data.path.ends_with("data/fashion-mnist")) << c.data.path;
    const std::string toml = train::to_toml(c);
    const TrainConfig back = load_train_config(config(std::string(name) + "_resolved", toml));
    TrainConfig want = c;
    want.source = back.source;
    EXPECT_TRUE(back == want) << name << ":\n" << toml;
    EXPECT_EQ(train::to_toml(back), toml) << name;
    // The [model] alone, as stored in a run directory.
    EXPECT_TRUE(train::model_from_toml(train::model_to_toml(c.model), "model.toml") == c.model)
        << name << ":\n"
        << train::model_to_toml(c.model);
  }
  const TrainConfig cnn = load_train_config(config(
      "fmnist_cnn", io::read_file(std::string(EMBER_SOURCE_DIR) + "/examples/fmnist_cnn.toml")));
  EXPECT_EQ(cnn.model.layers.size(), 10u);
  const TrainConfig resnet =
      load_train_config(config("fmnist_resnet", io::read_file(std::string(EMBER_SOURCE_DIR) +
                                                              "/examples/fmnist_resnet.toml")));
  EXPECT_EQ(resnet.augment.size(), 3u);
  EXPECT_EQ(resnet.model.channels, (std::vector<int64_t>{32, 64, 128}));
}

TEST(TrainConfigImage, ModelToTomlRoundTrip) {
  train::ModelConfig seq;
  seq.type = "sequential";
  train::LayerConfig conv, pool, drop, fc;
  conv.type = "conv2d";
  conv.out_channels = 4;
  conv.kernel_size = 5;
  conv.stride = 2;
  conv.padding = 1;
  conv.bias = false;
  pool.type = "avg_pool2d";
  pool.kernel_size = 3;
  drop.type = "dropout";
  drop.p = 0.25;
  fc.type = "linear";
  fc.out_features = 7;
  train::LayerConfig flat;
  flat.type = "flatten";
  seq.layers = {conv, pool, drop, flat, fc};
  const std::string text = train::model_to_toml(seq);
  EXPECT_NE(text.find("[[model.layers]]"), std::string::npos) << text;
  EXPECT_TRUE(train::model_from_toml(text, "m.toml") == seq) << text;

  train::ModelConfig resnet;
  resnet.type = "resnet";
  resnet.channels = {8, 16};
  resnet.blocks = {1, 2};
  resnet.dropout = 0.5;
  EXPECT_TRUE(train::model_from_toml(train::model_to_toml(resnet), "m.toml") == resnet);

  train::ModelConfig mlp;
  mlp.hidden = {128, 64};
  mlp.activation = "gelu";
  mlp.norm = "layer";
  mlp.dropout = 0.1;
  EXPECT_TRUE(train::model_from_toml(train::model_to_toml(mlp), "m.toml") == mlp);

  expect_error<ConfigError>(
      [] {
        train::model_from_toml("[model]\ntype = \"resnet\"\nhidden = [3]\n", "run/model.toml");
      },
      {"run/model.toml", "model.hidden"});
  expect_error<ConfigError>(
      [] { train::model_from_toml("[model]\ntype = \"mlp\"\n[data]\npath = \"x\"\n", "m.toml"); },
      {"m.toml", "data"});
}
