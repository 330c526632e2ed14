// Gradient clipping by total norm and by value.
#include "ember/optim/clip_grad.h"

#include <cmath>
#include <limits>

#include "ember/autograd/grad_mode.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"

namespace ember::optim {

namespace {

// One gradient's contribution to the total norm, in float64: max |g| (p = inf), min |g|
// (p = -inf), 1 if any element is nonzero (p = 0, which PyTorch applies to the per-gradient
// counts), or sum |g|^p.
double grad_term(const Tensor& g, double p) {
  if (g.numel() == 0) return p < 0 ? std::numeric_limits<double>::infinity() : 0;
  const Tensor a = abs(g.to(kFloat64));
  if (std::isinf(p)) return p > 0 ? max(a).item() : min(a).item();
  if (p == 0) return any(a != 0.0).item() ? 1 : 0;
  if (p == 1) return sum(a).item();
  if (p == 2) return sum(a * a).item();
  return sum(pow(a, p)).item();
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  NoGradGuard no_grad;
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return 0;
  double total = 0;
  if (std::isinf(norm_type)) {
    total = norm_type > 0 ? 0 : std::numeric_limits<double>::infinity();
    for (const Tensor& g : grads) {
      const double t = grad_term(g, norm_type);
      if (std::isnan(t) || (norm_type > 0 ? t > total : t < total)) total = t;
    }
  } else {
    for (const Tensor& g : grads) total += grad_term(g, norm_type);
    if (norm_type != 0) total = std::pow(total, 1 / norm_type);
  }
  EMBER_CHECK(!error_if_nonfinite || std::isfinite(total),
              "clip_grad_norm_: the total norm of "
              "order ",
              norm_type, " for gradients from `parameters` is non-finite (", total,
              "), so it cannot be clipped. To disable this error and scale the gradients by the "
              "non-finite norm anyway, set error_if_nonfinite=false");
  const double coef = max_norm / (total + 1e-6);
  if (!(coef >= 1.0)) {  // clamp(coef, max=1); a NaN coefficient propagates as in PyTorch
    for (Tensor& g : grads) g.mul_(coef);
  }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  NoGradGuard no_grad;
  for (const Tensor& p : params) {
    if (!p.defined() || !p.grad().defined()) continue;
    Tensor g = p.grad();
    g.clamp_(-clip_value, clip_value);
  }
}

}  // namespace ember::optim
