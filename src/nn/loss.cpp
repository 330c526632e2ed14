// Functional losses: regression losses, cross entropy / nll, binary cross entropy, KL divergence.
#include <optional>

#include "ember/autograd/grad_mode.h"
#include "ember/autograd/node.h"
#include "ember/nn/functional.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"

namespace ember::nn::functional {

using autograd::SavedTensor;

namespace {

constexpr std::optional<double> kNone = std::nullopt;

void check_reduction(const std::string& reduction, const char* op, bool allow_batchmean = false) {
  const bool ok = reduction == "mean" || reduction == "sum" || reduction == "none" ||
                  (allow_batchmean && reduction == "batchmean");
  EMBER_CHECK(ok, op, ": unknown reduction '", reduction, "' (expected 'mean', 'sum'",
              allow_batchmean ? ", 'batchmean'" : "", " or 'none')");
}

Tensor apply_reduction(const Tensor& loss, const std::string& reduction) {
  if (reduction == "mean") return mean(loss);
  if (reduction == "sum") return sum(loss);
  return loss;
}

// input and target: defined, floating point, the same shape.
void check_pair(const Tensor& input, const Tensor& target, const char* op) {
  EMBER_CHECK(input.defined() && target.defined(), op, ": input and target must be defined");
  EMBER_CHECK_DTYPE(input.is_floating_point(), op, ": input must be floating point, got ",
                    input.dtype());
  EMBER_CHECK_DTYPE(target.is_floating_point(), op, ": target must be floating point, got ",
                    target.dtype(), " (input ", input.dtype(), ")");
  EMBER_CHECK_SHAPE(input.shape() == target.shape(), op, ": target shape ", target.shape_str(),
                    " must match input shape ", input.shape_str());
}

// An optional weight that broadcasts to input's shape, cast to input's dtype.
Tensor broadcast_weight(const Tensor& weight, const Tensor& input, const char* op,
                        const char* what) {
  if (!weight.defined()) return weight;
  EMBER_CHECK_DTYPE(weight.is_floating_point(), op, ": ", what, " must be floating point, got ",
                    weight.dtype());
  bool ok = weight.dim() <= input.dim();
  for (int64_t i = 1; ok && i <= weight.dim(); ++i)
    ok = weight.size(-i) == 1 || weight.size(-i) == input.size(-i);
  EMBER_CHECK_SHAPE(ok, op, ": ", what, " of shape ", weight.shape_str(),
                    " does not broadcast to input shape ", input.shape_str());
  return weight.to(input.dtype());
}

// Class-index targets for nll/cross entropy: checks shapes and ranges.
// input: (N, C, d1...) / (C); target: (N, d1...) / (); weight: (C) or undefined.
void check_class_target(const Tensor& input, const Tensor& target, const Tensor& weight,
                        int64_t ignore_index, const char* op) {
  EMBER_CHECK_DTYPE(target.dtype() == kInt64, op,
                    ": expected int64 class indices (or floating class probabilities for "
                    "cross_entropy) as target, got ",
                    target.dtype(), " with shape ", target.shape_str());
  Shape expect = input.shape();
  if (input.dim() >= 2)
    expect.erase(expect.begin() + 1);
  else
    expect.clear();
  EMBER_CHECK_SHAPE(target.shape() == expect, op, ": target shape ", target.shape_str(),
                    " does not match input shape ", input.shape_str(), " (expected target ",
                    ember::detail::shape_to_string(expect), ")");
  const int64_t C = input.size(input.dim() >= 2 ? 1 : 0);
  if (weight.defined())
    EMBER_CHECK_SHAPE(weight.dim() == 1 && weight.size(0) == C, op, ": weight of shape ",
                      weight.shape_str(), " must be (", C, ",) for ", C, " classes");
  if (target.numel() == 0) return;
  NoGradGuard no_grad;
  const Tensor kept = where(target != static_cast<double>(ignore_index), target, 0.0);
  const auto lo = min(kept).item<int64_t>(), hi = max(kept).item<int64_t>();
  EMBER_CHECK_INDEX(lo >= 0 && hi < C, op, ": target class ", lo < 0 ? lo : hi,
                    " is out of range [0, ", C, ") for input shape ", input.shape_str(),
                    " (ignore_index ", ignore_index, ")");
}

// Per-element nll terms of log-probabilities logp (N, C, ...) at class-index targets, and the
// per-element weights weight[t] (0 at ignored entries; undefined when all are 1).
struct NllTerms {
  Tensor loss;      ///< -weight[t] * logp[t], target's shape
  Tensor weight_t;  ///< weight[t] masked, target's shape, or undefined (all ones)
};

NllTerms nll_terms(const Tensor& logp, const Tensor& target, const Tensor& weight,
                   int64_t ignore_index) {
  const bool batched = logp.dim() >= 2;
  const Tensor lp = batched ? logp : unsqueeze(logp, 0);
  const Tensor t = batched ? target : unsqueeze(target, 0);
  Tensor keep, safe = t;
  bool any_ignored = false;
  {
    NoGradGuard no_grad;
    keep = t != static_cast<double>(ignore_index);
    any_ignored = t.numel() > 0 && !all(keep).item<bool>();
    if (any_ignored) safe = where(keep, t, 0.0);
  }
  Tensor picked = squeeze(gather(lp, 1, unsqueeze(safe, 1)), 1);
  NllTerms out;
  if (weight.defined()) {
    out.weight_t = reshape(index_select(weight, 0, reshape(safe, {-1})), t.shape());
    if (any_ignored) out.weight_t = where(keep, out.weight_t, 0.0);
  } else if (any_ignored) {
    out.weight_t = keep.to(lp.dtype());
  }
  out.loss = out.weight_t.defined() ? -(picked * out.weight_t) : -picked;
  if (!batched) {
    out.loss = squeeze(out.loss, 0);
    if (out.weight_t.defined()) out.weight_t = squeeze(out.weight_t, 0);
  }
  return out;
}

// Reduces per-element class losses: "mean" divides by the summed weights (or the count).
Tensor reduce_weighted(const Tensor& loss, const Tensor& weight_t, const std::string& reduction) {
  if (reduction == "mean") return weight_t.defined() ? sum(loss) / sum(weight_t) : mean(loss);
  return apply_reduction(loss, reduction);
}

}  // namespace

// ---- regression losses ----

Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction) {
  check_reduction(reduction, "mse_loss");
  check_pair(input, target, "mse_loss");
  const Tensor d = input - target;
  return apply_reduction(d * d, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction) {
  check_reduction(reduction, "l1_loss");
  check_pair(input, target, "l1_loss");
  return apply_reduction(abs(input - target), reduction);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction,
                      double beta) {
  check_reduction(reduction, "smooth_l1_loss");
  check_pair(input, target, "smooth_l1_loss");
  EMBER_CHECK(beta >= 0, "smooth_l1_loss: beta must be non-negative, got ", beta);
  if (beta == 0) return l1_loss(input, target, reduction);
  const Tensor d = input - target;
  const Tensor ad = abs(d);
  return apply_reduction(where(ad < beta, d * d * (0.5 / beta), ad - 0.5 * beta), reduction);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction,
                  double delta) {
  check_reduction(reduction, "huber_loss");
  check_pair(input, target, "huber_loss");
  EMBER_CHECK(delta > 0, "huber_loss: delta must be positive, got ", delta);
  const Tensor d = input - target;
  const Tensor ad = abs(d);
  return apply_reduction(where(ad < delta, d * d * 0.5, (ad - 0.5 * delta) * delta), reduction);
}

// ---- classification losses ----

namespace {
// Checks shared by nll_loss and cross_entropy: reduction, defined operands, float input with a
// class dim.
void check_class_input(const Tensor& input, const Tensor& target, const std::string& reduction,
                       const char* op) {
  check_reduction(reduction, op);
  EMBER_CHECK(input.defined() && target.defined(), op, ": input and target must be defined");
  EMBER_CHECK_DTYPE(input.is_floating_point(), op, ": input must be floating point, got ",
                    input.dtype());
  EMBER_CHECK_SHAPE(input.dim() >= 1, op, ": input must have a class dim, got shape ",
                    input.shape_str());
}
}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight,
                int64_t ignore_index, const std::string& reduction) {
  const char* op = "nll_loss";
  check_class_input(input, target, reduction, op);
  check_class_target(input, target, weight, ignore_index, op);
  const Tensor w = weight.defined() ? weight.to(input.dtype()) : weight;
  const NllTerms terms = nll_terms(input, target, w, ignore_index);
  return reduce_weighted(terms.loss, terms.weight_t, reduction);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                     int64_t ignore_index, const std::string& reduction, double label_smoothing) {
  const char* op = "cross_entropy";
  check_class_input(input, target, reduction, op);
  EMBER_CHECK(label_smoothing >= 0 && label_smoothing <= 1, op,
              ": label_smoothing must be in [0, 1], got ", label_smoothing);
  const int64_t class_dim = input.dim() >= 2 ? 1 : 0;
  const int64_t C = input.size(class_dim);
  const Tensor logp = log_softmax(input, class_dim);
  // w_view: weight shaped to broadcast along the class dim of input.
  Tensor w, w_view;
  if (weight.defined()) {
    EMBER_CHECK_SHAPE(weight.dim() == 1 && weight.size(0) == C, op, ": weight of shape ",
                      weight.shape_str(), " must be (", C, ",) for ", C, " classes");
    w = weight.to(input.dtype());
    Shape ws(static_cast<size_t>(input.dim()), 1);
    ws[class_dim] = C;
    w_view = reshape(w, ws);
  }

  if (target.is_floating_point()) {  // class probabilities
    EMBER_CHECK_SHAPE(target.shape() == input.shape(), op, ": probability target shape ",
                      target.shape_str(), " must match input shape ", input.shape_str(),
                      " (class-index targets must be int64)");
    Tensor p = target;
    if (label_smoothing > 0) p = p * (1.0 - label_smoothing) + label_smoothing / C;
    Tensor terms = logp * p;
    if (w_view.defined()) terms = terms * w_view;
    const Tensor loss = -sum(terms, {class_dim});
    if (reduction == "none") return loss;
    if (reduction == "sum") return sum(loss);
    return sum(loss) / static_cast<double>(C > 0 ? input.numel() / C : 0);
  }

  check_class_target(input, target, w, ignore_index, op);
  const NllTerms terms = nll_terms(logp, target, w, ignore_index);
  Tensor loss = terms.loss;
  if (label_smoothing > 0) {
    // The uniform part: -sum_c weight[c] logp[c], zero at ignored entries.
    Tensor smooth = -sum(w_view.defined() ? logp * w_view : logp, {class_dim});
    if (terms.weight_t.defined())
      smooth = where(target != static_cast<double>(ignore_index), smooth, 0.0);
    loss = loss * (1.0 - label_smoothing) + smooth * (label_smoothing / C);
  }
  return reduce_weighted(loss, terms.weight_t, reduction);
}

// ---- binary cross entropy ----

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight_in,
                            const std::string& reduction) {
  const char* op = "binary_cross_entropy";
  check_reduction(reduction, op);
  check_pair(input, target, op);
  const Tensor weight = broadcast_weight(weight_in, input, op, "weight");
  Tensor loss;
  {
    NoGradGuard no_grad;
    const Tensor x = input.detach(), t = target.detach();
    EMBER_CHECK(x.numel() == 0 || all(logical_and(x >= 0.0, x <= 1.0)).item<bool>(), op,
                ": all elements of input must be in [0, 1] (input shape ", x.shape_str(), ")");
    loss = (t - 1.0) * clamp(log(1.0 - x), -100.0, kNone) - t * clamp(log(x), -100.0, kNone);
    if (weight.defined()) loss = loss * weight;
  }
  // Backward as PyTorch: d/dx = (x - t) / max(x (1 - x), 1e-12), d/dt = log(1 - x) - log(x).
  autograd::record("BinaryCrossEntropyBackward", loss, {input, target},
                   [sx = SavedTensor(input), st = SavedTensor(target),
                    w = weight.defined() ? weight.detach() : Tensor(),
                    need_t = target.requires_grad()](const Tensor& g) {
                     const Tensor x = sx.get("BinaryCrossEntropyBackward");
                     const Tensor t = st.get("BinaryCrossEntropyBackward");
                     const Tensor gw = w.defined() ? g * w : g;
                     Tensor gx = gw * (x - t) / clamp((1.0 - x) * x, 1e-12, kNone);
                     Tensor gt = need_t ? gw * (log(1.0 - x) - log(x)) : Tensor();
                     return std::vector<Tensor>{gx, gt};
                   });
  return apply_reduction(loss, reduction);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight_in, const std::string& reduction,
                                        const Tensor& pos_weight_in) {
  const char* op = "binary_cross_entropy_with_logits";
  check_reduction(reduction, op);
  check_pair(input, target, op);
  const Tensor weight = broadcast_weight(weight_in, input, op, "weight");
  const Tensor pos_weight = broadcast_weight(pos_weight_in, input, op, "pos_weight");
  Tensor loss;
  {
    // (1 - t) x + lw (max(-x, 0) + log(exp(-max(-x, 0)) + exp(-x - max(-x, 0)))), as PyTorch,
    // with lw = 1 + (pos_weight - 1) t.
    NoGradGuard no_grad;
    const Tensor x = input.detach(), t = target.detach();
    const Tensor m = clamp(-x, 0.0, kNone);
    const Tensor log_term = log(exp(-m) + exp(-x - m)) + m;
    const Tensor lw = pos_weight.defined() ? (pos_weight - 1.0) * t + 1.0 : Tensor();
    loss = (1.0 - t) * x + (lw.defined() ? lw * log_term : log_term);
    if (weight.defined()) loss = loss * weight;
  }
  // d/dx = sigmoid(x) - t, or ((pw t + 1 - t) sigmoid(x) - pw t) with pos_weight;
  // d/dt = -x, or (pw softplus(-x) - softplus(x)) with pos_weight.
  autograd::record("BinaryCrossEntropyWithLogitsBackward", loss, {input, target},
                   [sx = SavedTensor(input), st = SavedTensor(target),
                    w = weight.defined() ? weight.detach() : Tensor(),
                    pw = pos_weight.defined() ? pos_weight.detach() : Tensor(),
                    need_t = target.requires_grad()](const Tensor& g) {
                     const Tensor x = sx.get("BinaryCrossEntropyWithLogitsBackward");
                     const Tensor t = st.get("BinaryCrossEntropyWithLogitsBackward");
                     const Tensor gw = w.defined() ? g * w : g;
                     const Tensor s = sigmoid(x);
                     Tensor gx, gt;
                     if (pw.defined()) {
                       const Tensor pt = pw * t;
                       gx = gw * ((pt + 1.0 - t) * s - pt);
                       if (need_t) gt = gw * (pw * softplus(-x) - softplus(x));
                     } else {
                       gx = gw * (s - t);
                       if (need_t) gt = -(gw * x);
                     }
                     return std::vector<Tensor>{gx, gt};
                   });
  return apply_reduction(loss, reduction);
}

// ---- KL divergence ----

Tensor kl_div(const Tensor& input, const Tensor& target, const std::string& reduction,
              bool log_target) {
  check_reduction(reduction, "kl_div", true);
  check_pair(input, target, "kl_div");
  Tensor loss;
  if (log_target) {
    loss = exp(target) * (target - input);
  } else {
    // xlogy(t, t) - t * input, with 0 log 0 = 0.
    Tensor is_zero;
    {
      NoGradGuard no_grad;
      is_zero = target == 0.0;
    }
    const Tensor t_log_t = target * log(where(is_zero, ones_like(target), target));
    loss = t_log_t - target * input;
  }
  if (reduction == "batchmean")
    return input.dim() == 0 ? sum(loss) : sum(loss) / static_cast<double>(input.size(0));
  return apply_reduction(loss, reduction);
}

}  // namespace ember::nn::functional
