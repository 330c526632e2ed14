// nn::BatchNorm1d / BatchNorm2d (the fused functional batch_norm, running statistics) and
// nn::GroupNorm.
#include "ember/nn/batch_norm.h"

#include <sstream>

#include "ember/autograd/grad_mode.h"
#include "ember/nn/init.h"
#include "ember/ops/creation.h"
#include "ember/ops/vision.h"

namespace ember::nn {

BatchNorm::BatchNorm(const char* type_name, int64_t c, double epsilon, double mom, bool aff,
                     bool track)
    : Module(type_name),
      num_features(c),
      eps(epsilon),
      momentum(mom),
      affine(aff),
      track_running_stats(track) {
  EMBER_CHECK(c >= 1, type_name, ": num_features must be >= 1, got ", c);
  EMBER_CHECK(epsilon > 0, type_name, ": eps must be > 0, got ", epsilon);
  EMBER_CHECK(mom >= 0 && mom <= 1, type_name, ": momentum must be in [0, 1], got ", mom);
  if (affine) {
    weight = register_parameter("weight", empty({c}));
    bias = register_parameter("bias", empty({c}));
  }
  if (track_running_stats) {
    running_mean = register_buffer("running_mean", empty({c}));
    running_var = register_buffer("running_var", empty({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
  reset_parameters();
}

void BatchNorm::reset_running_stats() {
  if (!track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1);
  num_batches_tracked.zero_();
}

void BatchNorm::reset_parameters() {
  reset_running_stats();
  if (weight.defined()) init::ones_(weight);
  if (bias.defined()) init::zeros_(bias);
}

Tensor BatchNorm::forward(const Tensor& x) {
  check_input(x);
  EMBER_CHECK_DTYPE(x.is_floating_point(), type_name(), ": input must be floating point, got ",
                    x.dtype());
  const bool batch_stats = is_training() || !track_running_stats;
  if (batch_stats) {
    EMBER_CHECK(x.numel() / num_features > 1, type_name(),
                ": expected more than 1 value per channel when training, got input ",
                x.shape_str());
  }
  const bool update = is_training() && track_running_stats;
  if (update) {
    NoGradGuard no_grad;
    num_batches_tracked.add_(1);
  }
  return batch_norm(x, update || !batch_stats ? running_mean : Tensor(),
                    update || !batch_stats ? running_var : Tensor(), weight, bias, batch_stats,
                    momentum, eps);
}

std::string BatchNorm::extra_repr() const {
  std::ostringstream os;
  os << num_features << ", eps=" << eps << ", momentum=" << momentum
     << ", affine=" << (affine ? "True" : "False")
     << ", track_running_stats=" << (track_running_stats ? "True" : "False");
  return os.str();
}

BatchNorm1d::BatchNorm1d(int64_t c, double epsilon, double mom, bool aff, bool track)
    : BatchNorm("BatchNorm1d", c, epsilon, mom, aff, track) {}

void BatchNorm1d::check_input(const Tensor& x) const {
  EMBER_CHECK_SHAPE((x.dim() == 2 || x.dim() == 3) && x.size(1) == num_features,
                    "BatchNorm1d: expected input (N, ", num_features, ") or (N, ", num_features,
                    ", L), got ", x.shape_str());
}

BatchNorm2d::BatchNorm2d(int64_t c, double epsilon, double mom, bool aff, bool track)
    : BatchNorm("BatchNorm2d", c, epsilon, mom, aff, track) {}

void BatchNorm2d::check_input(const Tensor& x) const {
  EMBER_CHECK_SHAPE(x.dim() == 4 && x.size(1) == num_features, "BatchNorm2d: expected input (N, ",
                    num_features, ", H, W), got ", x.shape_str());
}

GroupNorm::GroupNorm(int64_t groups, int64_t channels, double epsilon, bool aff)
    : Module("GroupNorm"), num_groups(groups), num_channels(channels), eps(epsilon), affine(aff) {
  EMBER_CHECK(groups >= 1 && channels >= 1 && channels % groups == 0,
              "GroupNorm: num_channels must be divisible by num_groups (both >= 1), got ", channels,
              " channels and ", groups, " groups");
  EMBER_CHECK(epsilon > 0, "GroupNorm: eps must be > 0, got ", epsilon);
  if (affine) {
    weight = register_parameter("weight", ones({channels}));
    bias = register_parameter("bias", zeros({channels}));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  EMBER_CHECK_SHAPE(x.dim() >= 2 && x.size(1) == num_channels, "GroupNorm: expected input (N, ",
                    num_channels, ", *), got ", x.shape_str());
  return group_norm(x, num_groups, weight, bias, eps);
}

std::string GroupNorm::extra_repr() const {
  std::ostringstream os;
  os << num_groups << ", " << num_channels << ", eps=" << eps
     << ", affine=" << (affine ? "True" : "False");
  return os.str();
}

}  // namespace ember::nn
