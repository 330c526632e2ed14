// Image augmentation transforms (torchvision names and semantics) on one (C, H, W) float sample.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ember/core/generator.h"
#include "ember/core/tensor.h"

namespace ember::data {

// Note [Transforms run on loader threads]
// Transforms work on raw float buffers and never call tensor ops: they run on DataLoader worker
// threads, where an op could start OpenMP work that competes with the training step. A sample is
// a contiguous float32 CPU tensor (C, H, W); apply() returns a new tensor and leaves x unchanged.
// All randomness comes from the Generator passed in, so a seeded generator gives the same output.

/// One augmentation step: x (C, H, W) float32 contiguous -> a new (C, H', W') tensor.
struct Transform {
  virtual ~Transform();
  /// The transformed sample; draws its random parameters from gen.
  virtual Tensor apply(const Tensor& x, Generator& gen) const = 0;
  /// torchvision-style description, e.g. "RandomHorizontalFlip(p=0.5)".
  virtual std::string repr() const = 0;
};

using TransformPtr = std::shared_ptr<const Transform>;

/// Bilinear resize of x (C, H, W) to (C, height, width), as F.interpolate(mode="bilinear",
/// align_corners=False) without antialiasing.
Tensor resize_bilinear(const Tensor& x, int64_t height, int64_t width);

/// Resize(height, width): bilinear resize to a fixed size.
class Resize : public Transform {
 public:
  Resize(int64_t height, int64_t width);
  Tensor apply(const Tensor& x, Generator& gen) const override;
  std::string repr() const override;

 private:
  int64_t height_, width_;
};

/// RandomAffine: rotation by an angle uniform in [-degrees, degrees] (clockwise, about the image
/// center, as torchvision's affine), translation by whole pixels uniform in [-tx * W, tx * W] and
/// [-ty * H, ty * H] (rounded), and scaling by a factor uniform in [scale.first, scale.second],
/// sampled bilinearly. Points that fall outside the input read as fill (as if the input were padded
/// with fill). Each part can be used alone: RandomAffine(0, {0.1, 0.1}) only translates.
class RandomAffine : public Transform {
 public:
  RandomAffine(double degrees, std::pair<double, double> translate = {0, 0},
               std::pair<double, double> scale = {1, 1}, float fill = 0);
  Tensor apply(const Tensor& x, Generator& gen) const override;
  std::string repr() const override;

 protected:
  /// Clockwise angles uniform in [min_clockwise, max_clockwise].
  RandomAffine(double min_clockwise, double max_clockwise, std::pair<double, double> translate,
               std::pair<double, double> scale, float fill);
  double min_degrees_, max_degrees_;
  std::pair<double, double> translate_, scale_;
  float fill_;
};

/// RandomRotation(degrees): counter-clockwise rotation (as torchvision's rotate) by an angle
/// uniform in [-degrees, degrees], or in [min_degrees, max_degrees], about the image center;
/// bilinear, outside points read as fill. Multiples of 90 degrees use exact sines and cosines.
class RandomRotation : public RandomAffine {
 public:
  explicit RandomRotation(double degrees, float fill = 0);
  RandomRotation(double min_degrees, double max_degrees, float fill);
  std::string repr() const override;
};

/// RandomResizedCrop: a crop of random area (fraction of the input in scale) and aspect ratio
/// (log-uniform in ratio), resized bilinearly to (height, width); after 10 failed draws, a center
/// crop clamped to the ratio range (torchvision's algorithm).
class RandomResizedCrop : public Transform {
 public:
  RandomResizedCrop(int64_t height, int64_t width, std::pair<double, double> scale = {0.08, 1.0},
                    std::pair<double, double> ratio = {3.0 / 4.0, 4.0 / 3.0});
  Tensor apply(const Tensor& x, Generator& gen) const override;
  std::string repr() const override;

 private:
  int64_t height_, width_;
  std::pair<double, double> scale_, ratio_;
};

/// RandomCrop: pads each side with `padding` pixels of fill, then takes a (height, width) crop at a
/// uniform random position. The padded input must be at least (height, width).
class RandomCrop : public Transform {
 public:
  RandomCrop(int64_t height, int64_t width, int64_t padding = 0, float fill = 0);
  Tensor apply(const Tensor& x, Generator& gen) const override;
  std::string repr() const override;

 private:
  int64_t height_, width_, padding_;
  float fill_;
};

/// RandomHorizontalFlip: mirrors left-right with probability p.
class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  Tensor apply(const Tensor& x, Generator& gen) const override;
  std::string repr() const override;

 private:
  double p_;
};

/// RandomErasing: with probability p, sets a rectangle of random area (fraction of the image in
/// scale) and aspect ratio (log-uniform in ratio) to value in every channel; after 10 draws that
/// do not fit, leaves the image unchanged (torchvision's algorithm). Usually after Normalize.
class RandomErasing : public Transform {
 public:
  explicit RandomErasing(double p = 0.5, std::pair<double, double> scale = {0.02, 0.33},
                         std::pair<double, double> ratio = {0.3, 3.3}, float value = 0);
  Tensor apply(const Tensor& x, Generator& gen) const override;
  std::string repr() const override;

 private:
  double p_;
  std::pair<double, double> scale_, ratio_;
  float value_;
};

/// Normalize: out[c] = (x[c] - mean[c]) / std[c]; mean and std have one value per channel, or a
/// single value for every channel.
class Normalize : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  Tensor apply(const Tensor& x, Generator& gen) const override;
  std::string repr() const override;

 private:
  std::vector<double> mean_, std_;
};

/// Compose: applies the transforms in order.
class Compose : public Transform {
 public:
  explicit Compose(std::vector<TransformPtr> transforms);
  Tensor apply(const Tensor& x, Generator& gen) const override;
  std::string repr() const override;
  const std::vector<TransformPtr>& transforms() const { return transforms_; }

 private:
  std::vector<TransformPtr> transforms_;
};

}  // namespace ember::data
