// Image datasets for the pipeline: Fashion-MNIST/MNIST and image folders, split, normalized, and
// the [[augment]] transforms of the training loader.
#include <filesystem>

#include "ember/core/error.h"
#include "ember/data/idx.h"
#include "ember/data/image_folder.h"
#include "ember/data/split.h"
#include "ember/ops/creation.h"
#include "ember/ops/index.h"
#include "ember/train/pipeline.h"

namespace ember::train {

namespace {

// The labels as int64 row strata, so a split keeps class proportions.
std::vector<int64_t> label_strata(const Tensor& labels) {
  const Tensor l = labels.to(kInt64).contiguous();
  const int64_t* p = l.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + l.numel());
}

SplitData image_split(const data::Preprocessor& pre, const Tensor& images, const Tensor& labels,
                      std::vector<int64_t> rows) {
  SplitData s;
  if (rows.empty()) return s;
  const Tensor idx = from_vector(rows, {static_cast<int64_t>(rows.size())});
  s.x = pre.transform_images(index_select(images, 0, idx));
  s.y = index_select(labels, 0, idx).to(kInt64);
  s.rows = std::move(rows);
  return s;
}

std::vector<int64_t> all_rows(int64_t n) {
  std::vector<int64_t> rows(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) rows[static_cast<size_t>(i)] = i;
  return rows;
}

data::PreprocessOptions image_options(const PreprocessConfig& p) {
  data::PreprocessOptions o;
  o.normalize = p.normalize;
  return o;
}

}  // namespace

PreparedData prepare_image_data(const TrainConfig& cfg) {
  const DataConfig& dc = cfg.data;
  const uint64_t seed = static_cast<uint64_t>(dc.seed);
  data::Table table;
  table.source = dc.path;
  Tensor train_images, train_labels, test_images, test_labels;
  std::vector<std::string> classes;
  data::SplitIndices split;
  double scale = 1;
  if (dc.format == "fashion_mnist" || dc.format == "mnist") {
    data::FashionMnist f = data::load_fashion_mnist(dc.path);
    classes = f.classes;
    if (dc.format == "mnist")
      for (size_t i = 0; i < classes.size(); ++i) classes[i] = std::to_string(i);
    train_images = f.train_images;
    train_labels = f.train_labels;
    test_images = f.test_images;
    test_labels = f.test_labels;
    const std::vector<int64_t> strata = label_strata(train_labels);
    const data::SplitIndices s = data::split_rows(train_images.size(0), 1 - dc.val_fraction,
                                                  dc.val_fraction, 0, seed, &strata);
    split.train = s.train;
    split.val = s.val;
    split.test = all_rows(test_images.size(0));
    scale = 1.0 / 255.0;
  } else {
    data::ImageFolderOptions opts;
    opts.channels = dc.channels;
    if (!dc.image_size.empty()) opts.height = dc.image_size[0], opts.width = dc.image_size[1];
    data::ImageFolder f = data::load_image_folder(dc.path, opts);
    classes = f.classes;
    train_images = test_images = f.images;
    train_labels = test_labels = f.labels;
    const std::vector<int64_t> strata = label_strata(f.labels);
    split = data::split_rows(f.images.size(0), dc.split[0], dc.split[1], dc.split[2], seed,
                             dc.stratify ? &strata : nullptr);
  }
  EMBER_CHECK_T(ConfigError, !split.train.empty(), dc.path, ": the training split is empty");
  data::Preprocessor pre =
      data::Preprocessor::for_images(image_options(cfg.preprocessing), classes);
  {
    const std::vector<int64_t>& rows = split.train;
    pre.fit_images(
        index_select(train_images, 0, from_vector(rows, {static_cast<int64_t>(rows.size())})),
        scale);
  }
  PreparedData d{std::move(table), split, std::move(pre), {}, {}, {}, nullptr, nullptr};
  d.train = image_split(d.pre, train_images, train_labels, split.train);
  d.val = image_split(d.pre, train_images, train_labels, split.val);
  d.test = image_split(d.pre, test_images, test_labels, split.test);
  d.augment = make_augment(cfg.augment, d.pre);
  return d;
}

std::shared_ptr<const data::Transform> make_augment(const std::vector<AugmentConfig>& augment,
                                                    const data::Preprocessor& pre) {
  if (augment.empty()) return nullptr;
  const data::ImageSpec& im = pre.image();
  std::vector<double> to_mean, to_std;  // x * std + mean as a Normalize
  for (int64_t c = 0; c < im.channels; ++c) {
    to_mean.push_back(-im.mean[c] / im.std[c]);
    to_std.push_back(1 / im.std[c]);
  }
  std::vector<data::TransformPtr> steps;
  steps.push_back(std::make_shared<data::Normalize>(to_mean, to_std));
  for (const AugmentConfig& a : augment) {
    const auto fill = static_cast<float>(a.fill);
    if (a.type == "rotation") {
      steps.push_back(std::make_shared<data::RandomRotation>(a.degrees, fill));
    } else if (a.type == "translation") {
      steps.push_back(std::make_shared<data::RandomAffine>(
          0, std::pair{a.translate[0], a.translate[1]}, std::pair{1.0, 1.0}, fill));
    } else if (a.type == "resized_crop") {
      const std::pair<double, double> ratio =
          a.ratio.empty() ? std::pair{3.0 / 4.0, 4.0 / 3.0} : std::pair{a.ratio[0], a.ratio[1]};
      steps.push_back(std::make_shared<data::RandomResizedCrop>(
          im.height, im.width, std::pair{a.scale[0], a.scale[1]}, ratio));
    } else if (a.type == "crop") {
      steps.push_back(std::make_shared<data::RandomCrop>(im.height, im.width, a.padding, fill));
    } else if (a.type == "horizontal_flip") {
      steps.push_back(std::make_shared<data::RandomHorizontalFlip>(a.p));
    } else if (a.type == "erasing") {
      const std::pair<double, double> ratio =
          a.ratio.empty() ? std::pair{0.3, 3.3} : std::pair{a.ratio[0], a.ratio[1]};
      steps.push_back(std::make_shared<data::RandomErasing>(a.p, std::pair{a.scale[0], a.scale[1]},
                                                            ratio, static_cast<float>(a.value)));
    } else {
      EMBER_THROW(ConfigError, "augment.type = \"", a.type, "\" is not a known transform");
    }
  }
  steps.push_back(std::make_shared<data::Normalize>(im.mean, im.std));
  return std::make_shared<data::Compose>(steps);
}

}  // namespace ember::train
