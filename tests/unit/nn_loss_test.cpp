// Losses: error messages on bad input, module forms, and float64 gradient checks of every loss.
#include <gtest/gtest.h>

#include <functional>

#include "ember/ember.h"

using namespace ember;
namespace F = ember::nn::functional;

namespace {

// Runs f and returns the ember::Error message it throws ("" when it doesn't throw).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

Tensor leaf64(IntList shape, uint64_t seed) {
  Generator g(seed);
  return randn(shape, kFloat64, &g).requires_grad_();
}

void expect_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                      const std::vector<Tensor>& inputs, const std::string& what) {
  const autograd::GradcheckResult r = autograd::gradcheck(f, inputs);
  EXPECT_TRUE(r.ok) << what << ": " << r.detail << " (max abs error " << r.max_abs_error << ")";
}

const std::vector<std::string> kReductions = {"mean", "sum", "none"};

}  // namespace

TEST(NnLoss, BadInputErrorsNameTheLoss) {
  Tensor logits = randn({4, 5});
  std::string msg = error_of([&] { F::cross_entropy(logits, tensor({0, 1, 2, 3}, kInt32)); });
  EXPECT_TRUE(contains(msg, "cross_entropy") && contains(msg, "int32")) << msg;
  msg = error_of([&] { F::cross_entropy(logits, zeros({3}, kInt64)); });
  EXPECT_TRUE(contains(msg, "cross_entropy") && contains(msg, "(3,)") && contains(msg, "(4, 5)"))
      << msg;
  msg = error_of([&] { F::cross_entropy(logits, tensor({0, 7, 2, 3}, kInt64)); });
  EXPECT_TRUE(contains(msg, "cross_entropy") && contains(msg, "class 7") && contains(msg, "[0, 5)"))
      << msg;
  msg = error_of([&] { F::nll_loss(logits, tensor({0, -1, 2, 3}, kInt64)); });
  EXPECT_TRUE(contains(msg, "nll_loss") && contains(msg, "class -1")) << msg;
  msg = error_of([&] { F::cross_entropy(logits, randn({4, 4})); });
  EXPECT_TRUE(contains(msg, "cross_entropy") && contains(msg, "(4, 4)")) << msg;
  msg = error_of([&] { F::cross_entropy(logits, zeros({4}, kInt64), ones({3})); });
  EXPECT_TRUE(contains(msg, "weight") && contains(msg, "(3,)")) << msg;
  msg = error_of([&] { F::mse_loss(logits, randn({4, 6})); });
  EXPECT_TRUE(contains(msg, "mse_loss") && contains(msg, "(4, 6)") && contains(msg, "(4, 5)"))
      << msg;
  msg = error_of([&] { F::l1_loss(logits, randn({4, 5}), "avg"); });
  EXPECT_TRUE(contains(msg, "l1_loss") && contains(msg, "'avg'")) << msg;
  msg = error_of([&] { F::kl_div(logits, randn({4, 5}), "batchsum"); });
  EXPECT_TRUE(contains(msg, "kl_div") && contains(msg, "batchmean")) << msg;
  msg = error_of([&] { F::binary_cross_entropy(logits, rand({4, 5})); });
  EXPECT_TRUE(contains(msg, "binary_cross_entropy") && contains(msg, "[0, 1]")) << msg;
  msg = error_of([&] {
    F::binary_cross_entropy_with_logits(logits, rand({4, 5}), {}, "mean", ones({4}));
  });
  EXPECT_TRUE(contains(msg, "pos_weight") && contains(msg, "(4,)")) << msg;
  msg = error_of([&] { F::mse_loss(logits, zeros({4, 5}, kInt64)); });
  EXPECT_TRUE(contains(msg, "mse_loss") && contains(msg, "int64")) << msg;
  EXPECT_THROW(nn::MSELoss("avg"), ValueError);
  EXPECT_THROW(nn::CrossEntropyLoss(Tensor(), -100, "mean", 1.5), ValueError);
}

TEST(NnLoss, IgnoreIndexAndWeightedMean) {
  Tensor logits = tensor({{2, 0, 0}, {0, 1, 0}, {0, 0, 3}});
  Tensor target = tensor({0, 1, -100}, kInt64);
  Tensor w = tensor({1, 3, 10});
  Tensor logp = log_softmax(logits, 1);
  const double l0 = -logp.at<float>({0, 0}), l1 = -logp.at<float>({1, 1});
  EXPECT_NEAR(F::cross_entropy(logits, target).item(), (l0 + l1) / 2, 1e-6);
  EXPECT_NEAR(F::cross_entropy(logits, target, w).item(), (l0 + 3 * l1) / 4, 1e-6);
  EXPECT_NEAR(F::cross_entropy(logits, target, w, -100, "sum").item(), l0 + 3 * l1, 1e-5);
  Tensor none = F::nll_loss(logp, target, w, -100, "none");
  EXPECT_EQ(none.shape(), (Shape{3}));
  EXPECT_EQ(none.at<float>({2}), 0.0f);
  // Ignored entries get no gradient.
  Tensor x = logits.detach().requires_grad_();
  F::cross_entropy(x, target, w, -100, "mean", 0.1).backward();
  EXPECT_EQ(abs(x.grad()[2]).sum().item(), 0.0);
}

TEST(NnLoss, ModuleForms) {
  Tensor x = randn({4, 3}), y = randn({4, 3});
  EXPECT_TRUE(allclose(nn::MSELoss()(x, y), F::mse_loss(x, y)));
  EXPECT_TRUE(allclose(nn::L1Loss("sum")(x, y), F::l1_loss(x, y, "sum")));
  EXPECT_TRUE(allclose(nn::SmoothL1Loss("mean", 0.5)(x, y), F::smooth_l1_loss(x, y, "mean", 0.5)));
  EXPECT_TRUE(allclose(nn::HuberLoss("none", 2)(x, y), F::huber_loss(x, y, "none", 2)));
  Tensor t = tensor({0, 2, 1, 2}, kInt64), w = tensor({1, 2, 3});
  nn::CrossEntropyLoss ce(w, 1, "mean", 0.2);
  EXPECT_EQ(ce.state_dict().keys(), (std::vector<std::string>{"weight"}));
  EXPECT_TRUE(allclose(ce(x, t), F::cross_entropy(x, t, w, 1, "mean", 0.2)));
  EXPECT_TRUE(allclose(nn::NLLLoss(w)(x, t), F::nll_loss(x, t, w)));
  Tensor p = sigmoid(x), q = rand({4, 3});
  EXPECT_TRUE(allclose(nn::BCELoss(w)(p, q), F::binary_cross_entropy(p, q, w)));
  nn::BCEWithLogitsLoss bce(Tensor(), "sum", w);
  EXPECT_EQ(bce.state_dict().keys(), (std::vector<std::string>{"pos_weight"}));
  EXPECT_TRUE(allclose(bce(x, q), F::binary_cross_entropy_with_logits(x, q, {}, "sum", w)));
  EXPECT_TRUE(allclose(nn::KLDivLoss("batchmean", true)(x, y), F::kl_div(x, y, "batchmean", true)));
}

TEST(NnLoss, GradcheckRegression) {
  Tensor x = leaf64({3, 4}, 1), y = leaf64({3, 4}, 2);
  for (const std::string& r : kReductions) {
    expect_gradcheck([&](auto& in) { return F::mse_loss(in[0], in[1], r); }, {x, y}, "mse " + r);
    expect_gradcheck([&](auto& in) { return F::l1_loss(in[0], in[1], r); }, {x, y}, "l1 " + r);
    expect_gradcheck([&](auto& in) { return F::smooth_l1_loss(in[0], in[1], r, 0.7); }, {x, y},
                     "smooth_l1 " + r);
    expect_gradcheck([&](auto& in) { return F::huber_loss(in[0], in[1], r, 0.6); }, {x, y},
                     "huber " + r);
  }
}

TEST(NnLoss, GradcheckCrossEntropyAndNll) {
  Tensor x = leaf64({5, 4}, 3), x3 = leaf64({2, 4, 3}, 4);
  Tensor t = tensor({0, 3, -100, 1, 2}, kInt64);
  Tensor t3 = tensor({{0, 3, 1}, {2, 1, 1}}, kInt64);
  Tensor w = tensor({0.5, 2, 1, 3}, kFloat64);
  Generator g(5);
  Tensor probs = softmax(randn({5, 4}, kFloat64, &g), 1);
  for (const std::string& r : kReductions)
    for (double ls : {0.0, 0.2})
      for (bool weighted : {false, true}) {
        const Tensor wt = weighted ? w : Tensor();
        const std::string what = r + " ls=" + std::to_string(ls) + (weighted ? " weighted" : "");
        expect_gradcheck([&](auto& in) { return F::cross_entropy(in[0], t, wt, -100, r, ls); }, {x},
                         "cross_entropy " + what);
        expect_gradcheck([&](auto& in) { return F::cross_entropy(in[0], t3, wt, 1, r, ls); }, {x3},
                         "cross_entropy 3-d " + what);
        expect_gradcheck([&](auto& in) { return F::cross_entropy(in[0], probs, wt, -100, r, ls); },
                         {x}, "cross_entropy probs " + what);
        expect_gradcheck([&](auto& in) { return F::nll_loss(in[0], t, wt, -100, r); }, {x},
                         "nll " + what);
      }
}

TEST(NnLoss, GradcheckBinaryAndKl) {
  Generator g(6);
  Tensor p = (rand({3, 4}, kFloat64, &g) * 0.8 + 0.1).requires_grad_();
  Tensor q = rand({3, 4}, kFloat64, &g).requires_grad_();
  Tensor logits = leaf64({3, 4}, 7);
  Tensor w = rand({4}, kFloat64, &g) + 0.5, pw = rand({4}, kFloat64, &g) * 3;
  Tensor logq = log_softmax(randn({3, 4}, kFloat64, &g), 1).detach().requires_grad_();
  Tensor target_p = softmax(randn({3, 4}, kFloat64, &g), 1).detach().requires_grad_();
  for (const std::string& r : kReductions) {
    for (bool weighted : {false, true}) {
      const Tensor wt = weighted ? w : Tensor();
      expect_gradcheck([&](auto& in) { return F::binary_cross_entropy(in[0], in[1], wt, r); },
                       {p, q}, "bce " + r);
      expect_gradcheck(
          [&](auto& in) { return F::binary_cross_entropy_with_logits(in[0], in[1], wt, r); },
          {logits, q}, "bce_logits " + r);
      expect_gradcheck(
          [&](auto& in) { return F::binary_cross_entropy_with_logits(in[0], in[1], wt, r, pw); },
          {logits, q}, "bce_logits pos_weight " + r);
    }
  }
  for (const std::string r : {"mean", "sum", "none", "batchmean"}) {
    expect_gradcheck([&](auto& in) { return F::kl_div(in[0], in[1], r); }, {logq, target_p},
                     std::string("kl_div ") + r);
    expect_gradcheck([&](auto& in) { return F::kl_div(in[0], in[1], r, true); }, {logq, logits},
                     std::string("kl_div log_target ") + r);
  }
}

TEST(NnLoss, GradcheckLayerNorm) {
  Tensor x = leaf64({3, 2, 5}, 8), w = leaf64({2, 5}, 9), b = leaf64({2, 5}, 10);
  expect_gradcheck(
      [](auto& in) {
        return F::layer_norm(in[0], {2, 5}, in[1], in[2], 1e-5);
      },
      {x, w, b}, "layer_norm affine");
  expect_gradcheck([](auto& in) { return F::layer_norm(in[0], {5}); }, {x}, "layer_norm plain");
  nn::LayerNorm ln({5});
  ln.to(kFloat64);
  {
    NoGradGuard no_grad;
    ln.weight.normal_();
    ln.bias.normal_();
  }
  expect_gradcheck([&](auto& in) { return ln(in[0]); }, {x}, "LayerNorm module");
}

TEST(NnLoss, GradcheckLayerNormSecondOrder) {
  // The gradient itself, taken with create_graph, is differentiable and checked the same way.
  Tensor x = leaf64({4, 6}, 11), w = leaf64({6}, 12), b = leaf64({6}, 13);
  Generator g(14);
  const Tensor up = randn({4, 6}, kFloat64, &g);
  expect_gradcheck(
      [&](auto& in) {
        GradModeGuard grad_on(true);  // gradcheck evaluates f under no_grad for the numerics
        Tensor y = F::layer_norm(in[0], {6}, in[1], in[2], 1e-5);
        auto grads = autograd::grad({sum(y * y * up)}, {in[0], in[1]}, {}, true, true);
        return cat({grads[0].reshape({-1}), grads[1]});
      },
      {x, w, b}, "layer_norm double backward");
}
