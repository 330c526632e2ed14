// Every loss and option against libtorch: forward values and gradients w.r.t. input (and target
// where PyTorch differentiates it), float32, relative error <= 1e-5.
#include <functional>

#include "support/torch_bridge.h"

using namespace ember;
using ember::testing::to_torch;
namespace F = ember::nn::functional;
namespace TF = torch::nn::functional;

namespace {

using ember::testing::expect_parity;

constexpr double kTol = 1e-5;

const std::vector<std::string> kReductions = {"mean", "sum", "none"};

int64_t torch_reduction(const std::string& r) {
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  return at::Reduction::None;
}

using EmberLoss = std::function<Tensor(const Tensor&, const Tensor&)>;
using TorchLoss = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;

// Runs both losses on copies of input/target, compares the values, then backpropagates the same
// random upstream gradient and compares the input gradients (and target gradients if asked).
void compare_loss(const std::string& what, const EmberLoss& ef, const TorchLoss& tf,
                  const Tensor& input, const Tensor& target, bool target_grad = false) {
  SCOPED_TRACE(what);
  Tensor x = input.detach().clone().requires_grad_();
  Tensor y = target.detach().clone();
  if (target_grad) y.requires_grad_();
  torch::Tensor tx = to_torch(x).requires_grad_();
  torch::Tensor ty = to_torch(y);
  if (target_grad) ty.requires_grad_();
  Tensor out = ef(x, y);
  torch::Tensor tout = tf(tx, ty);
  expect_parity(out, tout, kTol, what + " forward");
  Tensor g = randn(out.shape());
  out.backward(g);
  tout.backward(to_torch(g));
  expect_parity(x.grad(), tx.grad(), kTol, what + " input grad");
  if (target_grad) expect_parity(y.grad(), ty.grad(), kTol, what + " target grad");
}

}  // namespace

TEST(NnLossParity, Regression) {
  manual_seed(11);
  for (const Shape& shape : {Shape{7, 5}, Shape{2, 3, 4}, Shape{}}) {
    Tensor x = randn(shape) * 2.0, y = randn(shape);
    const std::string s = ember::detail::shape_to_string(shape);
    for (const std::string& r : kReductions) {
      const int64_t tr = torch_reduction(r);
      compare_loss(
          "mse " + r + s, [&](auto& a, auto& b) { return F::mse_loss(a, b, r); },
          [&](auto& a, auto& b) { return torch::mse_loss(a, b, tr); }, x, y, true);
      compare_loss(
          "l1 " + r + s, [&](auto& a, auto& b) { return F::l1_loss(a, b, r); },
          [&](auto& a, auto& b) { return torch::l1_loss(a, b, tr); }, x, y, true);
      for (double beta : {1.0, 0.3, 0.0}) {
        compare_loss(
            "smooth_l1 beta=" + std::to_string(beta) + " " + r + s,
            [&](auto& a, auto& b) { return F::smooth_l1_loss(a, b, r, beta); },
            [&](auto& a, auto& b) { return torch::smooth_l1_loss(a, b, tr, beta); }, x, y, true);
      }
      for (double delta : {1.0, 0.4, 2.5}) {
        compare_loss(
            "huber delta=" + std::to_string(delta) + " " + r + s,
            [&](auto& a, auto& b) { return F::huber_loss(a, b, r, delta); },
            [&](auto& a, auto& b) { return torch::huber_loss(a, b, tr, delta); }, x, y, true);
      }
    }
  }
}

TEST(NnLossParity, CrossEntropyClassIndices) {
  manual_seed(12);
  struct Input {
    Tensor logits, target;
  };
  // (N, C) with an ignored entry, (N, C, d1, d2), and an unbatched (C) input.
  const std::vector<Input> inputs = {
      {randn({8, 5}) * 3.0, tensor({0, 4, -100, 2, 1, 4, 3, 0}, kInt64)},
      {randn({3, 5, 2, 4}) * 2.0, randint(0, 5, {3, 2, 4})},
      {randn({5}), scalar_tensor(3, kInt64)},
  };
  Tensor w = rand({5}) + 0.2;
  for (const Input& in : inputs)
    for (const std::string& r : kReductions)
      for (double ls : {0.0, 0.1, 0.7})
        for (bool weighted : {false, true})
          for (int64_t ignore : {int64_t{-100}, int64_t{2}}) {
            const Tensor wt = weighted ? w : Tensor();
            const torch::Tensor twt = weighted ? to_torch(w) : torch::Tensor();
            // The entry marked -100 carries this round's ignore_index.
            const Tensor target =
                where(in.target == -100.0, scalar_tensor(ignore, kInt64), in.target);
            const std::string what =
                "cross_entropy " + in.logits.shape_str() + " " + r + " ls=" + std::to_string(ls) +
                " weighted=" + std::to_string(weighted) + " ignore=" + std::to_string(ignore);
            compare_loss(
                what, [&](auto& a, auto& b) { return F::cross_entropy(a, b, wt, ignore, r, ls); },
                [&](auto& a, auto& b) {
                  return torch::cross_entropy_loss(a, b, twt, torch_reduction(r), ignore, ls);
                },
                in.logits, target);
            if (ls == 0.0) {
              Tensor logp = log_softmax(in.logits, in.logits.dim() >= 2 ? 1 : 0).detach();
              compare_loss(
                  "nll " + what, [&](auto& a, auto& b) { return F::nll_loss(a, b, wt, ignore, r); },
                  [&](auto& a, auto& b) {
                    return torch::nll_loss_nd(a, b, twt, torch_reduction(r), ignore);
                  },
                  logp, target);
            }
          }
}

TEST(NnLossParity, CrossEntropyClassProbabilities) {
  manual_seed(13);
  Tensor w = rand({4}) + 0.2;
  for (const Shape& shape : {Shape{6, 4}, Shape{2, 4, 3}}) {
    Tensor logits = randn(shape) * 2.0;
    Tensor probs = softmax(randn(shape), 1);
    for (const std::string& r : kReductions)
      for (double ls : {0.0, 0.25})
        for (bool weighted : {false, true}) {
          const Tensor wt = weighted ? w : Tensor();
          const torch::Tensor twt = weighted ? to_torch(w) : torch::Tensor();
          compare_loss(
              "cross_entropy probs " + logits.shape_str() + " " + r + " ls=" + std::to_string(ls) +
                  " weighted=" + std::to_string(weighted),
              [&](auto& a, auto& b) { return F::cross_entropy(a, b, wt, -100, r, ls); },
              [&](auto& a, auto& b) {
                return torch::cross_entropy_loss(a, b, twt, torch_reduction(r), -100, ls);
              },
              logits, probs, true);
        }
  }
}

TEST(NnLossParity, BinaryCrossEntropy) {
  manual_seed(14);
  Tensor p = sigmoid(randn({6, 4}) * 2.0);
  Tensor t = rand({6, 4});
  Tensor hard = (rand({6, 4}) > 0.5).to(kFloat32);
  Tensor w_full = rand({6, 4}) + 0.5, w_row = rand({4}) + 0.5;
  for (const std::string& r : kReductions)
    for (const Tensor& target : {t, hard})
      for (const Tensor& w : {Tensor(), w_row, w_full}) {
        const torch::Tensor tw = w.defined() ? to_torch(w) : torch::Tensor();
        compare_loss(
            "bce " + r + " weight " + (w.defined() ? w.shape_str() : "none"),
            [&](auto& a, auto& b) { return F::binary_cross_entropy(a, b, w, r); },
            [&](auto& a, auto& b) {
              return torch::binary_cross_entropy(a, b, tw, torch_reduction(r));
            },
            p, target, true);
      }
  // The log clamp at -100: probabilities of exactly 0 and 1.
  Tensor edge = tensor({0, 1, 0.5, 1e-30});
  Tensor edge_t = tensor({1, 0, 1, 1});
  compare_loss(
      "bce clamp",
      [&](auto& a, auto& b) { return F::binary_cross_entropy(a, b, Tensor(), "none"); },
      [&](auto& a, auto& b) { return torch::binary_cross_entropy(a, b, {}, at::Reduction::None); },
      edge, edge_t);
}

TEST(NnLossParity, BinaryCrossEntropyWithLogits) {
  manual_seed(15);
  Tensor x = randn({6, 4}) * 4.0;
  Tensor t = rand({6, 4});
  Tensor w = rand({6, 4}) + 0.5, pw = rand({4}) * 3.0;
  for (const std::string& r : kReductions)
    for (bool weighted : {false, true})
      for (bool with_pw : {false, true}) {
        const Tensor wt = weighted ? w : Tensor(), pwt = with_pw ? pw : Tensor();
        const torch::Tensor twt = weighted ? to_torch(w) : torch::Tensor();
        const torch::Tensor tpw = with_pw ? to_torch(pw) : torch::Tensor();
        compare_loss(
            "bce_logits " + r + " weighted=" + std::to_string(weighted) +
                " pos_weight=" + std::to_string(with_pw),
            [&](auto& a, auto& b) { return F::binary_cross_entropy_with_logits(a, b, wt, r, pwt); },
            [&](auto& a, auto& b) {
              return torch::binary_cross_entropy_with_logits(a, b, twt, tpw, torch_reduction(r));
            },
            x, t, true);
      }
  // Large logits stay finite.
  Tensor big = tensor({-120, -30, 30, 120});
  compare_loss(
      "bce_logits large",
      [&](auto& a, auto& b) { return F::binary_cross_entropy_with_logits(a, b, {}, "none"); },
      [&](auto& a, auto& b) {
        return torch::binary_cross_entropy_with_logits(a, b, {}, {}, at::Reduction::None);
      },
      big, tensor({1, 0, 1, 0}));
}

TEST(NnLossParity, KlDiv) {
  manual_seed(16);
  Tensor input = log_softmax(randn({5, 6}), 1);
  Tensor p = softmax(randn({5, 6}), 1);
  Tensor p_zero = p.clone();
  {
    NoGradGuard no_grad;
    p_zero.select(0, 0).select(0, 2).fill_(0);  // 0 log 0 = 0
  }
  Tensor logp = log_softmax(randn({5, 6}), 1);
  for (const std::string r : {"mean", "sum", "none", "batchmean"}) {
    TF::KLDivFuncOptions::reduction_t tr = torch::kMean;
    if (r == "sum") tr = torch::kSum;
    if (r == "none") tr = torch::kNone;
    if (r == "batchmean") tr = torch::kBatchMean;
    for (bool log_target : {false, true}) {
      compare_loss(
          "kl_div " + r + " log_target=" + std::to_string(log_target),
          [&](auto& a, auto& b) { return F::kl_div(a, b, r, log_target); },
          [&](auto& a, auto& b) {
            return TF::kl_div(a, b, TF::KLDivFuncOptions().reduction(tr).log_target(log_target));
          },
          input, log_target ? logp : p, true);
    }
    // A zero target: torch's target gradient there is 0/0 = nan (from xlogy(t, t)), ours is
    // the limit -input, so only the value and the input gradient are compared.
    compare_loss(
        "kl_div zero target " + r, [&](auto& a, auto& b) { return F::kl_div(a, b, r); },
        [&](auto& a, auto& b) { return TF::kl_div(a, b, TF::KLDivFuncOptions().reduction(tr)); },
        input, p_zero);
  }
}

TEST(NnLossParity, LossModulesMatchTorchModules) {
  manual_seed(17);
  Tensor x = randn({8, 3}), t = randint(0, 3, {8}), w = rand({3}) + 0.5;
  nn::CrossEntropyLoss ce(w, 1, "mean", 0.1);
  torch::nn::CrossEntropyLoss tce(torch::nn::CrossEntropyLossOptions()
                                      .weight(to_torch(w))
                                      .ignore_index(1)
                                      .label_smoothing(0.1));
  expect_parity(ce(x, t), tce(to_torch(x), to_torch(t)), kTol, "CrossEntropyLoss");
  Tensor y = randn({8, 3});
  expect_parity(
      nn::HuberLoss("sum", 0.5)(x, y),
      torch::nn::HuberLoss(torch::nn::HuberLossOptions().reduction(torch::kSum).delta(0.5))(
          to_torch(x), to_torch(y)),
      kTol, "HuberLoss");
  expect_parity(nn::BCEWithLogitsLoss(Tensor(), "mean", w)(x, sigmoid(y)),
               torch::nn::BCEWithLogitsLoss(torch::nn::BCEWithLogitsLossOptions().pos_weight(
                   to_torch(w)))(to_torch(x), to_torch(sigmoid(y))),
               kTol, "BCEWithLogitsLoss");
}
