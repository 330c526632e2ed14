// Attribution maps: input gradients of one logit, saliency and integrated gradients.
#include "ember/train/explain.h"

#include "ember/autograd/functional.h"
#include "ember/autograd/grad_mode.h"
#include "ember/core/error.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"

namespace ember::train {

namespace {

// Puts the model in eval mode for the scope and restores its mode after.
class EvalScope {
 public:
  explicit EvalScope(nn::Module& m) : m_(m), was_training_(m.is_training()) { m.eval(); }
  ~EvalScope() {
    if (was_training_) m_.train();
  }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  nn::Module& m_;
  bool was_training_;
};

void check_target(const Tensor& out, int64_t target) {
  EMBER_CHECK(out.dim() == 2 && target >= 0 && target < out.size(1), "explain: target class ",
              target, " is out of range for model outputs ", out.shape_str());
}

// d logit_target / d xs for a batch of samples xs (B, ...) -> (B, ...), without touching the
// parameters' gradients.
Tensor input_gradients(nn::Module& model, const Tensor& xs, int64_t target) {
  GradModeGuard grad_on(true);
  Tensor leaf = xs.detach().clone();
  leaf.requires_grad_(true);
  Tensor out = model(leaf);
  check_target(out, target);
  Tensor logit = sum(out.select(1, target));
  return autograd::grad({logit}, {leaf})[0];
}

}  // namespace

double target_logit(nn::Module& model, const Tensor& x, int64_t target) {
  EvalScope eval(model);
  NoGradGuard no_grad;
  Tensor out = model(x.unsqueeze(0));
  check_target(out, target);
  return out.select(1, target).item();
}

Tensor saliency(nn::Module& model, const Tensor& x, int64_t target, const Tensor& baseline) {
  EMBER_CHECK_SHAPE(!baseline.defined() || x.shape() == baseline.shape(), "saliency: baseline ",
                    baseline.shape_str(), " must have the input's shape ", x.shape_str());
  EvalScope eval(model);
  const Tensor from = baseline.defined() ? x - baseline : x;
  return (input_gradients(model, x.unsqueeze(0), target).squeeze(0) * from).detach();
}

Tensor integrated_gradients(nn::Module& model, const Tensor& x, const Tensor& baseline,
                            int64_t target, int64_t steps, int64_t batch) {
  EMBER_CHECK_SHAPE(x.shape() == baseline.shape(), "integrated_gradients: baseline ",
                    baseline.shape_str(), " must have the input's shape ", x.shape_str());
  EMBER_CHECK(steps >= 1 && batch >= 1, "integrated_gradients: steps and batch must be >= 1, got ",
              steps, " and ", batch);
  EvalScope eval(model);
  const Tensor diff = (x - baseline).detach();
  Tensor total = zeros_like(x);
  for (int64_t s0 = 0; s0 < steps; s0 += batch) {
    const int64_t n = std::min(batch, steps - s0);
    // alphas at the midpoints (k + 0.5) / steps
    Tensor alphas =
        (arange(static_cast<double>(s0), static_cast<double>(s0 + n), 1.0, kFloat32) + 0.5) /
        static_cast<double>(steps);
    Shape ashape(static_cast<size_t>(x.dim() + 1), 1);
    ashape[0] = n;
    Tensor points = baseline.unsqueeze(0) + alphas.reshape(ashape) * diff.unsqueeze(0);
    total = total + sum(input_gradients(model, points, target), {0});
  }
  return (diff * total / static_cast<double>(steps)).detach();
}

}  // namespace ember::train
