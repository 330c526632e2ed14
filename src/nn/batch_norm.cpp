// nn::BatchNorm1d: batch statistics in training, running statistics in eval, from ember ops.
#include "ember/nn/batch_norm.h"

#include <sstream>

#include "ember/autograd/grad_mode.h"
#include "ember/nn/init.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"

namespace ember::nn {

BatchNorm1d::BatchNorm1d(int64_t c, double epsilon, double mom, bool aff, bool track)
    : Module("BatchNorm1d"),
      num_features(c),
      eps(epsilon),
      momentum(mom),
      affine(aff),
      track_running_stats(track) {
  EMBER_CHECK(c >= 1, "BatchNorm1d: num_features must be >= 1, got ", c);
  EMBER_CHECK(epsilon > 0, "BatchNorm1d: eps must be > 0, got ", epsilon);
  EMBER_CHECK(mom >= 0 && mom <= 1, "BatchNorm1d: momentum must be in [0, 1], got ", mom);
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

void BatchNorm1d::reset_running_stats() {
  if (!track_running_stats) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1);
  num_batches_tracked.zero_();
}

void BatchNorm1d::reset_parameters() {
  reset_running_stats();
  if (weight.defined()) init::ones_(weight);
  if (bias.defined()) init::zeros_(bias);
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  EMBER_CHECK_SHAPE((x.dim() == 2 || x.dim() == 3) && x.size(1) == num_features,
                    "BatchNorm1d: expected input (N, ", num_features, ") or (N, ", num_features,
                    ", L), got ", x.shape_str());
  EMBER_CHECK_DTYPE(x.is_floating_point(), "BatchNorm1d: input must be floating point, got ",
                    x.dtype());
  const Shape dims = x.dim() == 3 ? Shape{0, 2} : Shape{0};
  const Shape channel = x.dim() == 3 ? Shape{num_features, 1} : Shape{num_features};
  Tensor y;
  if (is_training() || !track_running_stats) {
    const int64_t n = x.numel() / num_features;  // values per channel
    EMBER_CHECK(n > 1 || !is_training(),
                "BatchNorm1d: expected more than 1 value per channel when training, got input ",
                x.shape_str());
    const Tensor mu = mean(x, dims, true);
    const Tensor d = x - mu;
    const Tensor var = mean(d * d, dims, true);  // biased
    if (is_training() && track_running_stats) {
      NoGradGuard no_grad;
      const double unbias = static_cast<double>(n) / static_cast<double>(n - 1);
      running_mean.mul_(1 - momentum).add_(mu.detach().reshape({num_features}) * momentum);
      running_var.mul_(1 - momentum)
          .add_(var.detach().reshape({num_features}) * (momentum * unbias));
      num_batches_tracked.add_(1);
    }
    y = d * rsqrt(var + eps);
  } else {
    y = (x - running_mean.view(channel)) * rsqrt(running_var.view(channel) + eps);
  }
  if (affine) y = y * weight.view(channel) + bias.view(channel);
  return y;
}

std::string BatchNorm1d::extra_repr() const {
  std::ostringstream os;
  os << num_features << ", eps=" << eps << ", momentum=" << momentum
     << ", affine=" << (affine ? "True" : "False")
     << ", track_running_stats=" << (track_running_stats ? "True" : "False");
  return os.str();
}

}  // namespace ember::nn
