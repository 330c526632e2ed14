// Preprocessor, image mode (per-channel pixel statistics fitted on the training images) and text
// mode (token windows).
#include <cmath>

#include "ember/core/error.h"
#include "ember/data/fields.h"
#include "ember/data/preprocess.h"

namespace ember::data {

Preprocessor Preprocessor::for_images(PreprocessOptions opts, std::vector<std::string> classes) {
  EMBER_CHECK_T(ConfigError,
                opts.normalize == "none" || opts.normalize == "minmax" ||
                    opts.normalize == "minmax_sym" || opts.normalize == "standard",
                "preprocess: normalize = '", opts.normalize,
                "' is not allowed for images; allowed: none, minmax, minmax_sym, standard");
  EMBER_CHECK(!classes.empty(), "Preprocessor::for_images: no class names");
  Preprocessor p(std::move(opts), {}, "label", Task::Classification);
  p.image_mode_ = true;
  p.classes_ = std::move(classes);
  return p;
}

void Preprocessor::check_image(const char* what, bool want) const {
  EMBER_CHECK(image_mode_ == want, "Preprocessor::", what, ": this preprocessor is for ",
              image_mode_ ? "images (use transform_images)" : "tables (use transform)");
}

void Preprocessor::fit_images(const Tensor& images, double scale) {
  check_image("fit_images", true);
  EMBER_CHECK_SHAPE(images.dim() == 4 && images.size(0) > 0,
                    "Preprocessor::fit_images: expected raw images (N, C, H, W) with N > 0, got ",
                    images.shape_str());
  EMBER_CHECK(scale > 0, "Preprocessor::fit_images: scale must be > 0, got ", scale);
  const Tensor x = images.to(kFloat32).contiguous();
  const int64_t n = x.size(0), c = x.size(1), hw = x.size(2) * x.size(3);
  image_ = {
      c, x.size(2), x.size(3), scale, std::vector<double>(c, 0.0), std::vector<double>(c, 1.0)};
  const std::string& norm = opts_.normalize;
  if (norm == "minmax_sym") image_.mean.assign(c, 0.5), image_.std.assign(c, 0.5);
  if (norm == "standard") {
    const float* p = x.data_ptr<float>();
    for (int64_t ch = 0; ch < c; ++ch) {
      double sum = 0, sq = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float* plane = p + (i * c + ch) * hw;
        for (int64_t j = 0; j < hw; ++j) {
          const double v = plane[j] * scale;
          sum += v;
          sq += v * v;
        }
      }
      const double count = static_cast<double>(n * hw);
      const double mean = sum / count;
      const double var = std::max(sq / count - mean * mean, 0.0);
      image_.mean[ch] = mean;
      image_.std[ch] = var > 0 ? std::sqrt(var) : 1.0;
    }
  }
  fitted_ = true;
}

Preprocessor Preprocessor::for_text(int64_t vocab_size, int64_t block_size) {
  EMBER_CHECK(vocab_size >= 1 && block_size >= 1,
              "Preprocessor::for_text: vocab_size = ", vocab_size, " and block_size = ", block_size,
              " must be >= 1");
  Preprocessor p(PreprocessOptions{}, {}, "next_token", Task::LanguageModel);
  p.vocab_size_ = vocab_size;
  p.block_size_ = block_size;
  p.fitted_ = true;
  return p;
}

Preprocessor Preprocessor::for_text_classes(int64_t vocab_size, int64_t block_size,
                                            std::vector<std::string> class_names) {
  EMBER_CHECK(vocab_size >= 1 && block_size >= 1 && !class_names.empty(),
              "Preprocessor::for_text_classes: vocab_size = ", vocab_size,
              " and block_size = ", block_size, " must be >= 1, with at least one class (got ",
              class_names.size(), ")");
  Preprocessor p(PreprocessOptions{}, {}, "class", Task::Classification);
  p.vocab_size_ = vocab_size;
  p.block_size_ = block_size;
  p.classes_ = std::move(class_names);
  p.fitted_ = true;
  return p;
}

std::vector<int64_t> Preprocessor::input_shape() const {
  if (image_mode_) return {image_.channels, image_.height, image_.width};
  if (is_text() || is_text_classes()) return {block_size_};
  if (is_fields()) return {2, fields_->num_slots()};
  return {num_features()};
}

namespace {

// out[n, c] = x[n, c] * a[c] + b[c] for x (N, C, H, W), in float32.
Tensor per_channel_affine(const Tensor& x, const std::vector<float>& a,
                          const std::vector<float>& b) {
  Tensor out = x.to(kFloat32).contiguous().clone();
  const int64_t n = out.size(0), c = out.size(1), hw = out.size(2) * out.size(3);
  float* p = out.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t ch = 0; ch < c; ++ch) {
      float* plane = p + (i * c + ch) * hw;
      const float ac = a[static_cast<size_t>(ch)], bc = b[static_cast<size_t>(ch)];
      for (int64_t j = 0; j < hw; ++j) plane[j] = plane[j] * ac + bc;
    }
  return out;
}

}  // namespace

void Preprocessor::check_image_shape(const Tensor& images) const {
  EMBER_CHECK_SHAPE(images.dim() == 4 && images.size(1) == image_.channels &&
                        images.size(2) == image_.height && images.size(3) == image_.width,
                    "the model expects images (N, ", image_.channels, ", ", image_.height, ", ",
                    image_.width, "), got ", images.shape_str());
}

// x' = (raw * scale - mean) / std = raw * (scale / std) - mean / std, per channel.
Tensor Preprocessor::normalize_scaled(const Tensor& images, double scale) const {
  check_image_shape(images);
  std::vector<float> a, b;
  for (int64_t c = 0; c < image_.channels; ++c) {
    a.push_back(static_cast<float>(scale / image_.std[static_cast<size_t>(c)]));
    b.push_back(-static_cast<float>(image_.mean[static_cast<size_t>(c)] /
                                    image_.std[static_cast<size_t>(c)]));
  }
  return per_channel_affine(images, a, b);
}

Tensor Preprocessor::transform_images(const Tensor& images) const {
  check_image("transform_images", true);
  check_fitted("transform_images");
  return normalize_scaled(images, image_.scale);
}

Tensor Preprocessor::normalize_pixels(const Tensor& pixels) const {
  check_image("normalize_pixels", true);
  check_fitted("normalize_pixels");
  return normalize_scaled(pixels, 1.0);
}

Tensor Preprocessor::denormalize_pixels(const Tensor& x) const {
  check_image("denormalize_pixels", true);
  EMBER_CHECK_SHAPE(x.dim() == 4 && x.size(1) == image_.channels,
                    "denormalize_pixels: expected (N, ", image_.channels, ", H, W), got ",
                    x.shape_str());
  std::vector<float> a(image_.std.begin(), image_.std.end());
  std::vector<float> b(image_.mean.begin(), image_.mean.end());
  return per_channel_affine(x, a, b);
}

json::Value Preprocessor::image_to_json() const {
  json::Value o = json::Value::object();
  o["format"] = "ember.preprocessor";
  o["version"] = 1;
  o["task"] = "classification";
  o["normalize"] = opts_.normalize;
  json::Value im = json::Value::object();
  im["channels"] = image_.channels;
  im["height"] = image_.height;
  im["width"] = image_.width;
  im["scale"] = image_.scale;
  im["mean"] = json::Array(image_.mean.begin(), image_.mean.end());
  im["std"] = json::Array(image_.std.begin(), image_.std.end());
  o["image"] = std::move(im);
  o["classes"] = json::Array(classes_.begin(), classes_.end());
  return o;
}

Preprocessor Preprocessor::image_from_json(const json::Value& v) {
  EMBER_CHECK(v["format"].as_string() == "ember.preprocessor" && v["version"].as_int() == 1,
              "Preprocessor::from_json: not an ember.preprocessor version 1 object");
  PreprocessOptions opts;
  opts.normalize = v["normalize"].as_string();
  std::vector<std::string> classes;
  for (const json::Value& c : v["classes"].as_array()) classes.push_back(c.as_string());
  Preprocessor p = for_images(opts, classes);
  const json::Value& im = v["image"];
  ImageSpec s;
  s.channels = im["channels"].as_int();
  s.height = im["height"].as_int();
  s.width = im["width"].as_int();
  s.scale = im["scale"].as_double();
  for (const json::Value& m : im["mean"].as_array()) s.mean.push_back(m.as_double());
  for (const json::Value& d : im["std"].as_array()) s.std.push_back(d.as_double());
  EMBER_CHECK(s.channels >= 1 && s.height >= 1 && s.width >= 1 && s.scale > 0 &&
                  s.mean.size() == size_t(s.channels) && s.std.size() == size_t(s.channels),
              "Preprocessor::from_json: image needs channels, height, width >= 1, scale > 0 and "
              "one mean and std per channel");
  for (double d : s.std) EMBER_CHECK(d > 0, "Preprocessor::from_json: image std must be > 0");
  p.image_ = std::move(s);
  p.fitted_ = true;
  return p;
}

}  // namespace ember::data
