// Augmentation transforms on raw float buffers (see Note [Transforms run on loader threads]).
#include "ember/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "ember/core/error.h"

namespace ember::data {

namespace {

// The checked geometry of a sample x (C, H, W) and its data.
struct Sample {
  int64_t c, h, w;
  const float* data;
};

Sample check_sample(const Tensor& x, const char* op) {
  EMBER_CHECK(x.defined(), op, ": the sample is an undefined tensor");
  EMBER_CHECK_SHAPE(x.dim() == 3, op, ": expected a (C, H, W) sample; got shape ", x.shape_str());
  EMBER_CHECK_DTYPE(x.dtype() == kFloat32, op, ": expected a float32 sample; got ", x.dtype());
  EMBER_CHECK_T(DeviceError, x.device().is_cpu(), op, ": expected a CPU sample; got ", x.device());
  EMBER_CHECK(x.is_contiguous(), op, ": expected a contiguous sample of shape ", x.shape_str());
  return {x.size(0), x.size(1), x.size(2), x.data_ptr<float>()};
}

Tensor new_sample(int64_t c, int64_t h, int64_t w) {
  return detail::make_tensor({c, h, w}, kFloat32);
}

double uniform(Generator& gen, double lo, double hi) {
  return lo + (hi - lo) * gen.next_double();
}

// Uniform integer in [lo, hi] (hi >= lo).
int64_t randint(Generator& gen, int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(hi - lo + 1)));
}

// torchvision's random box: a target area uniform in scale * area and an aspect ratio
// log-uniform in ratio; returns the rounded (sqrt(target * aspect), sqrt(target / aspect)).
// RandomResizedCrop reads them as (width, height), RandomErasing as (height, width).
std::pair<int64_t, int64_t> random_box(Generator& gen, int64_t area,
                                       std::pair<double, double> scale,
                                       std::pair<double, double> ratio) {
  const double target = static_cast<double>(area) * uniform(gen, scale.first, scale.second);
  const double aspect = std::exp(uniform(gen, std::log(ratio.first), std::log(ratio.second)));
  return {static_cast<int64_t>(std::round(std::sqrt(target * aspect))),
          static_cast<int64_t>(std::round(std::sqrt(target / aspect)))};
}

void check_range(std::pair<double, double> r, const char* op, const char* what, bool positive) {
  EMBER_CHECK(std::isfinite(r.first) && std::isfinite(r.second) && r.first <= r.second &&
                  (!positive || r.first > 0),
              op, ": ", what, " must be a finite range (min, max) with min <= max",
              positive ? " and min > 0" : "", "; got (", r.first, ", ", r.second, ")");
}

// Bilinear resize of rows [top, top + h) and columns [left, left + w) of s to (out_h, out_w),
// align_corners=False (PyTorch's source index (dst + 0.5) * scale - 0.5, clamped at 0).
Tensor resize_region(const Sample& s, int64_t top, int64_t left, int64_t h, int64_t w,
                     int64_t out_h, int64_t out_w) {
  Tensor out = new_sample(s.c, out_h, out_w);
  float* dst = out.data_ptr<float>();
  const float sy = static_cast<float>(h) / static_cast<float>(out_h);
  const float sx = static_cast<float>(w) / static_cast<float>(out_w);
  std::vector<int64_t> x0(out_w), x1(out_w);
  std::vector<float> lx(out_w);
  for (int64_t x = 0; x < out_w; ++x) {
    const float src = std::max((static_cast<float>(x) + 0.5f) * sx - 0.5f, 0.0f);
    x0[x] = std::min(static_cast<int64_t>(src), w - 1);
    x1[x] = std::min(x0[x] + 1, w - 1);
    lx[x] = src - static_cast<float>(x0[x]);
  }
  for (int64_t k = 0; k < s.c; ++k) {
    const float* plane = s.data + k * s.h * s.w + top * s.w + left;
    for (int64_t y = 0; y < out_h; ++y) {
      const float src = std::max((static_cast<float>(y) + 0.5f) * sy - 0.5f, 0.0f);
      const int64_t y0 = std::min(static_cast<int64_t>(src), h - 1);
      const int64_t y1 = std::min(y0 + 1, h - 1);
      const float ly = src - static_cast<float>(y0);
      const float* r0 = plane + y0 * s.w;
      const float* r1 = plane + y1 * s.w;
      float* row = dst + (k * out_h + y) * out_w;
      for (int64_t x = 0; x < out_w; ++x) {
        const float top_v = r0[x0[x]] + (r0[x1[x]] - r0[x0[x]]) * lx[x];
        const float bot_v = r1[x0[x]] + (r1[x1[x]] - r1[x0[x]]) * lx[x];
        row[x] = top_v + (bot_v - top_v) * ly;
      }
    }
  }
  return out;
}

// cos and sin of an angle in degrees, exact at multiples of 90.
std::pair<double, double> cos_sin_degrees(double degrees) {
  const double q = degrees / 90.0;
  if (q == std::round(q)) {
    const int64_t k = ((static_cast<int64_t>(std::round(q)) % 4) + 4) % 4;
    constexpr double kCos[] = {1, 0, -1, 0}, kSin[] = {0, 1, 0, -1};
    return {kCos[k], kSin[k]};
  }
  const double rad = degrees * std::numbers::pi / 180.0;
  return {std::cos(rad), std::sin(rad)};
}

// Output pixel (x, y) reads input point (a*(x-cx-tx) + b*(y-cy-ty) + cx, c*(...) + d*(...) + cy)
// bilinearly; taps outside the input read as fill. (cx, cy) is the image center.
Tensor warp_affine(const Sample& s, double clockwise_degrees, double tx, double ty, double scale,
                   float fill) {
  const auto [cs, sn] = cos_sin_degrees(clockwise_degrees);
  const double a = cs / scale, b = sn / scale, c = -sn / scale, d = cs / scale;
  const double cx = (static_cast<double>(s.w) - 1) * 0.5, cy = (static_cast<double>(s.h) - 1) * 0.5;
  Tensor out = new_sample(s.c, s.h, s.w);
  float* dst = out.data_ptr<float>();
  const int64_t plane = s.h * s.w;
  for (int64_t y = 0; y < s.h; ++y) {
    for (int64_t x = 0; x < s.w; ++x) {
      const double dx = static_cast<double>(x) - cx - tx, dy = static_cast<double>(y) - cy - ty;
      const double px = a * dx + b * dy + cx, py = c * dx + d * dy + cy;
      const double fx0 = std::floor(px), fy0 = std::floor(py);
      const float wx = static_cast<float>(px - fx0), wy = static_cast<float>(py - fy0);
      // Taps beyond the input (including huge coordinates) read fill; clamp before converting.
      const auto clampi = [](double v, int64_t n) {
        return static_cast<int64_t>(std::clamp(v, -2.0, static_cast<double>(n) + 1.0));
      };
      const int64_t x0 = clampi(fx0, s.w), y0 = clampi(fy0, s.h);
      const bool in_x0 = x0 >= 0 && x0 < s.w, in_x1 = x0 + 1 >= 0 && x0 + 1 < s.w;
      const bool in_y0 = y0 >= 0 && y0 < s.h, in_y1 = y0 + 1 >= 0 && y0 + 1 < s.h;
      for (int64_t k = 0; k < s.c; ++k) {
        const float* p = s.data + k * plane;
        const float v00 = in_y0 && in_x0 ? p[y0 * s.w + x0] : fill;
        const float v01 = in_y0 && in_x1 ? p[y0 * s.w + x0 + 1] : fill;
        const float v10 = in_y1 && in_x0 ? p[(y0 + 1) * s.w + x0] : fill;
        const float v11 = in_y1 && in_x1 ? p[(y0 + 1) * s.w + x0 + 1] : fill;
        float v = v00;
        if (wx != 0 || wy != 0) {
          const float top = v00 + (v01 - v00) * wx, bot = v10 + (v11 - v10) * wx;
          v = top + (bot - top) * wy;
        }
        dst[k * plane + y * s.w + x] = v;
      }
    }
  }
  return out;
}

// degrees, checked to be a finite value >= 0 (a symmetric range [-degrees, degrees]).
double checked_degrees(double degrees, const char* op) {
  EMBER_CHECK(std::isfinite(degrees) && degrees >= 0, op, ": degrees must be >= 0; got ", degrees);
  return degrees;
}

std::string pair_str(std::pair<double, double> p) {
  std::ostringstream os;
  os << "(" << p.first << ", " << p.second << ")";
  return os.str();
}

}  // namespace

Transform::~Transform() = default;

Tensor resize_bilinear(const Tensor& x, int64_t height, int64_t width) {
  const Sample s = check_sample(x, "resize_bilinear");
  EMBER_CHECK(height > 0 && width > 0, "resize_bilinear: height and width must be > 0; got ",
              height, "x", width);
  EMBER_CHECK_SHAPE(s.h > 0 && s.w > 0, "resize_bilinear: cannot resize an empty image of shape ",
                    x.shape_str());
  return resize_region(s, 0, 0, s.h, s.w, height, width);
}

// ---- Resize ----

Resize::Resize(int64_t height, int64_t width) : height_(height), width_(width) {
  EMBER_CHECK(height > 0 && width > 0, "Resize: height and width must be > 0; got ", height, "x",
              width);
}
Tensor Resize::apply(const Tensor& x, Generator&) const {
  return resize_bilinear(x, height_, width_);
}
std::string Resize::repr() const {
  return "Resize(size=(" + std::to_string(height_) + ", " + std::to_string(width_) + "))";
}

// ---- RandomAffine / RandomRotation ----

RandomAffine::RandomAffine(double degrees, std::pair<double, double> translate,
                           std::pair<double, double> scale, float fill)
    : RandomAffine(-checked_degrees(degrees, "RandomAffine"), degrees, translate, scale, fill) {}

RandomAffine::RandomAffine(double min_clockwise, double max_clockwise,
                           std::pair<double, double> translate, std::pair<double, double> scale,
                           float fill)
    : min_degrees_(min_clockwise),
      max_degrees_(max_clockwise),
      translate_(translate),
      scale_(scale),
      fill_(fill) {
  check_range({min_clockwise, max_clockwise}, "RandomAffine", "degrees", false);
  EMBER_CHECK(translate.first >= 0 && translate.first <= 1 && translate.second >= 0 &&
                  translate.second <= 1,
              "RandomAffine: translate fractions must be in [0, 1]; got ", pair_str(translate));
  check_range(scale, "RandomAffine", "scale", true);
}

Tensor RandomAffine::apply(const Tensor& x, Generator& gen) const {
  const Sample s = check_sample(x, "RandomAffine");
  const double angle = uniform(gen, min_degrees_, max_degrees_);
  const double max_dx = translate_.first * static_cast<double>(s.w);
  const double max_dy = translate_.second * static_cast<double>(s.h);
  const double tx = std::round(uniform(gen, -max_dx, max_dx));
  const double ty = std::round(uniform(gen, -max_dy, max_dy));
  const double scale = uniform(gen, scale_.first, scale_.second);
  return warp_affine(s, angle, tx, ty, scale, fill_);
}

std::string RandomAffine::repr() const {
  std::ostringstream os;
  os << "RandomAffine(degrees=" << pair_str({min_degrees_, max_degrees_})
     << ", translate=" << pair_str(translate_) << ", scale=" << pair_str(scale_)
     << ", fill=" << fill_ << ")";
  return os.str();
}

RandomRotation::RandomRotation(double degrees, float fill)
    : RandomAffine(-checked_degrees(degrees, "RandomRotation"), degrees, {0, 0}, {1, 1}, fill) {}

RandomRotation::RandomRotation(double min_degrees, double max_degrees, float fill)
    : RandomAffine(-max_degrees, -min_degrees, {0, 0}, {1, 1}, fill) {}

std::string RandomRotation::repr() const {
  std::ostringstream os;
  os << "RandomRotation(degrees=" << pair_str({-max_degrees_, -min_degrees_}) << ", fill=" << fill_
     << ")";
  return os.str();
}

// ---- RandomResizedCrop ----

RandomResizedCrop::RandomResizedCrop(int64_t height, int64_t width, std::pair<double, double> scale,
                                     std::pair<double, double> ratio)
    : height_(height), width_(width), scale_(scale), ratio_(ratio) {
  EMBER_CHECK(height > 0 && width > 0, "RandomResizedCrop: height and width must be > 0; got ",
              height, "x", width);
  check_range(scale, "RandomResizedCrop", "scale", true);
  EMBER_CHECK(scale.second <= 1, "RandomResizedCrop: scale must be within (0, 1]; got ",
              pair_str(scale));
  check_range(ratio, "RandomResizedCrop", "ratio", true);
}

Tensor RandomResizedCrop::apply(const Tensor& x, Generator& gen) const {
  const Sample s = check_sample(x, "RandomResizedCrop");
  EMBER_CHECK_SHAPE(s.h > 0 && s.w > 0, "RandomResizedCrop: cannot crop an empty image of shape ",
                    x.shape_str());
  for (int attempt = 0; attempt < 10; ++attempt) {
    const auto [w, h] = random_box(gen, s.h * s.w, scale_, ratio_);
    if (w > 0 && w <= s.w && h > 0 && h <= s.h) {
      const int64_t top = randint(gen, 0, s.h - h), left = randint(gen, 0, s.w - w);
      return resize_region(s, top, left, h, w, height_, width_);
    }
  }
  const double in_ratio = static_cast<double>(s.w) / static_cast<double>(s.h);
  int64_t w = s.w, h = s.h;
  if (in_ratio < ratio_.first)
    h = std::clamp<int64_t>(std::llround(static_cast<double>(w) / ratio_.first), 1, s.h);
  else if (in_ratio > ratio_.second)
    w = std::clamp<int64_t>(std::llround(static_cast<double>(h) * ratio_.second), 1, s.w);
  return resize_region(s, (s.h - h) / 2, (s.w - w) / 2, h, w, height_, width_);
}

std::string RandomResizedCrop::repr() const {
  return "RandomResizedCrop(size=(" + std::to_string(height_) + ", " + std::to_string(width_) +
         "), scale=" + pair_str(scale_) + ", ratio=" + pair_str(ratio_) + ")";
}

// ---- RandomCrop ----

RandomCrop::RandomCrop(int64_t height, int64_t width, int64_t padding, float fill)
    : height_(height), width_(width), padding_(padding), fill_(fill) {
  EMBER_CHECK(height > 0 && width > 0, "RandomCrop: height and width must be > 0; got ", height,
              "x", width);
  EMBER_CHECK(padding >= 0, "RandomCrop: padding must be >= 0; got ", padding);
}

Tensor RandomCrop::apply(const Tensor& x, Generator& gen) const {
  const Sample s = check_sample(x, "RandomCrop");
  const int64_t ph = s.h + 2 * padding_, pw = s.w + 2 * padding_;
  EMBER_CHECK_SHAPE(ph >= height_ && pw >= width_, "RandomCrop: crop size ", height_, "x", width_,
                    " is larger than the padded input ", ph, "x", pw, " (input shape ",
                    x.shape_str(), ", padding ", padding_, ")");
  const int64_t top = randint(gen, 0, ph - height_) - padding_;
  const int64_t left = randint(gen, 0, pw - width_) - padding_;
  Tensor out = new_sample(s.c, height_, width_);
  float* dst = out.data_ptr<float>();
  for (int64_t k = 0; k < s.c; ++k)
    for (int64_t y = 0; y < height_; ++y) {
      const int64_t sy = top + y;
      float* row = dst + (k * height_ + y) * width_;
      const float* src = s.data + (k * s.h + sy) * s.w;
      for (int64_t x = 0; x < width_; ++x) {
        const int64_t sx = left + x;
        row[x] = (sy >= 0 && sy < s.h && sx >= 0 && sx < s.w) ? src[sx] : fill_;
      }
    }
  return out;
}

std::string RandomCrop::repr() const {
  std::ostringstream os;
  os << "RandomCrop(size=(" << height_ << ", " << width_ << "), padding=" << padding_
     << ", fill=" << fill_ << ")";
  return os.str();
}

// ---- RandomHorizontalFlip ----

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  EMBER_CHECK(p >= 0 && p <= 1, "RandomHorizontalFlip: p must be in [0, 1]; got ", p);
}

Tensor RandomHorizontalFlip::apply(const Tensor& x, Generator& gen) const {
  const Sample s = check_sample(x, "RandomHorizontalFlip");
  const bool flip = gen.next_double() < p_;
  Tensor out = new_sample(s.c, s.h, s.w);
  float* dst = out.data_ptr<float>();
  for (int64_t r = 0; r < s.c * s.h; ++r) {
    const float* src = s.data + r * s.w;
    float* row = dst + r * s.w;
    if (flip)
      std::reverse_copy(src, src + s.w, row);
    else
      std::copy(src, src + s.w, row);
  }
  return out;
}

std::string RandomHorizontalFlip::repr() const {
  std::ostringstream os;
  os << "RandomHorizontalFlip(p=" << p_ << ")";
  return os.str();
}

// ---- RandomErasing ----

RandomErasing::RandomErasing(double p, std::pair<double, double> scale,
                             std::pair<double, double> ratio, float value)
    : p_(p), scale_(scale), ratio_(ratio), value_(value) {
  EMBER_CHECK(p >= 0 && p <= 1, "RandomErasing: p must be in [0, 1]; got ", p);
  check_range(scale, "RandomErasing", "scale", false);
  EMBER_CHECK(scale.first >= 0 && scale.second <= 1,
              "RandomErasing: scale must be within [0, 1]; got ", pair_str(scale));
  check_range(ratio, "RandomErasing", "ratio", true);
}

Tensor RandomErasing::apply(const Tensor& x, Generator& gen) const {
  const Sample s = check_sample(x, "RandomErasing");
  Tensor out = new_sample(s.c, s.h, s.w);
  float* dst = out.data_ptr<float>();
  std::copy(s.data, s.data + s.c * s.h * s.w, dst);
  if (gen.next_double() >= p_) return out;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const auto [h, w] = random_box(gen, s.h * s.w, scale_, ratio_);
    if (!(h < s.h && w < s.w)) continue;
    const int64_t top = randint(gen, 0, s.h - h), left = randint(gen, 0, s.w - w);
    for (int64_t k = 0; k < s.c; ++k)
      for (int64_t y = top; y < top + h; ++y) {
        float* row = dst + (k * s.h + y) * s.w;
        std::fill(row + left, row + left + w, value_);
      }
    break;
  }
  return out;
}

std::string RandomErasing::repr() const {
  std::ostringstream os;
  os << "RandomErasing(p=" << p_ << ", scale=" << pair_str(scale_) << ", ratio=" << pair_str(ratio_)
     << ", value=" << value_ << ")";
  return os.str();
}

// ---- Normalize ----

Normalize::Normalize(std::vector<double> mean, std::vector<double> std)
    : mean_(std::move(mean)), std_(std::move(std)) {
  EMBER_CHECK(!mean_.empty() && mean_.size() == std_.size(),
              "Normalize: mean and std must be non-empty with one value per channel; got ",
              mean_.size(), " means and ", std_.size(), " stds");
  for (double v : std_)
    EMBER_CHECK(std::isfinite(v) && v != 0,
                "Normalize: every std must be finite and non-zero; got ", v);
}

Tensor Normalize::apply(const Tensor& x, Generator&) const {
  const Sample s = check_sample(x, "Normalize");
  const auto n = static_cast<int64_t>(mean_.size());
  EMBER_CHECK_SHAPE(n == 1 || n == s.c, "Normalize: ", n, " means/stds for a sample with ", s.c,
                    " channels (shape ", x.shape_str(), ")");
  Tensor out = new_sample(s.c, s.h, s.w);
  float* dst = out.data_ptr<float>();
  const int64_t plane = s.h * s.w;
  for (int64_t k = 0; k < s.c; ++k) {
    const auto mean = static_cast<float>(mean_[n == 1 ? 0 : k]);
    const auto std = static_cast<float>(std_[n == 1 ? 0 : k]);
    for (int64_t p = 0; p < plane; ++p) dst[k * plane + p] = (s.data[k * plane + p] - mean) / std;
  }
  return out;
}

std::string Normalize::repr() const {
  std::ostringstream os;
  os << "Normalize(mean=[";
  for (size_t i = 0; i < mean_.size(); ++i) os << (i ? ", " : "") << mean_[i];
  os << "], std=[";
  for (size_t i = 0; i < std_.size(); ++i) os << (i ? ", " : "") << std_[i];
  os << "])";
  return os.str();
}

// ---- Compose ----

Compose::Compose(std::vector<TransformPtr> transforms) : transforms_(std::move(transforms)) {
  for (size_t i = 0; i < transforms_.size(); ++i)
    EMBER_CHECK(transforms_[i] != nullptr, "Compose: transform ", i, " is null");
}

Tensor Compose::apply(const Tensor& x, Generator& gen) const {
  Tensor out = x;
  for (const TransformPtr& t : transforms_) out = t->apply(out, gen);
  return out;
}

std::string Compose::repr() const {
  std::string out = "Compose(";
  for (size_t i = 0; i < transforms_.size(); ++i) out += (i ? ", " : "") + transforms_[i]->repr();
  return out + ")";
}

}  // namespace ember::data
