// train/explain: integrated-gradients completeness, saliency against autograd, no side effects.
#include <gtest/gtest.h>

#include <cmath>

#include "ember/ember.h"
#include "ember/models/vision.h"
#include "ember/train/explain.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;

namespace {

// conv - batch_norm - relu - max_pool - flatten - linear on (1, 8, 8) images, 4 classes.
std::shared_ptr<nn::Sequential> small_cnn() {
  train::ModelConfig cfg;
  cfg.type = "sequential";
  auto l = [](const std::string& type) {
    train::LayerConfig c;
    c.type = type;
    return c;
  };
  train::LayerConfig conv = l("conv2d"), pool = l("max_pool2d"), fc = l("linear");
  conv.out_channels = 3;
  conv.padding = 1;
  pool.kernel_size = 2;
  fc.out_features = 4;
  cfg.layers = {conv, l("batch_norm"), l("relu"), pool, l("flatten"), fc};
  return models::build_model(cfg, {1, 8, 8}, 4);
}

std::shared_ptr<nn::Sequential> small_mlp() {
  train::ModelConfig cfg;
  cfg.hidden = {16, 8};
  cfg.activation = "tanh";
  return models::build_model(cfg, {6}, 3);
}

// d logit_target / dx through plain autograd (model in eval mode).
Tensor autograd_gradient(nn::Module& model, const Tensor& x, int64_t target) {
  model.eval();
  Tensor leaf = x.detach().clone();
  leaf.requires_grad_(true);
  model(leaf.unsqueeze(0)).select(1, target).sum().backward();
  Tensor g = leaf.grad().detach().clone();
  model.zero_grad();
  return g;
}

// |sum(IG) - (f(x) - f(baseline))| within 1% of the gap.
void expect_complete(nn::Module& model, const Tensor& x, const Tensor& baseline, int64_t target,
                     int64_t steps) {
  const Tensor ig = train::integrated_gradients(model, x, baseline, target, steps, 256);
  ASSERT_EQ(ig.shape(), x.shape());
  const double gap =
      train::target_logit(model, x, target) - train::target_logit(model, baseline, target);
  ASSERT_GT(std::abs(gap), 1e-3) << "pick inputs with a visible logit gap";
  EXPECT_NEAR(ig.sum().item(), gap, 0.01 * std::abs(gap)) << "target " << target;
}

// Bit-for-bit equality of two float tensors.
bool same(const Tensor& a, const Tensor& b) {
  return a.defined() && b.defined() && a.shape() == b.shape() &&
         a.contiguous().to_vector<float>() == b.contiguous().to_vector<float>();
}

}  // namespace

TEST(TrainExplain, IntegratedGradientsAreCompleteForACnn) {
  manual_seed(3);
  auto model = small_cnn();
  {  // give batch norm running statistics that are not the identity
    NoGradGuard no_grad;
    for (int i = 0; i < 3; ++i) (*model)(randn({16, 1, 8, 8}) * 2.0 + 0.5);
  }
  const Tensor x = randn({1, 8, 8}), baseline = zeros({1, 8, 8}) - 1.0;
  // The midpoint rule's error comes from the ReLU and max-pool kinks along the path and shrinks
  // like 1 / steps (about 5e-4 at 256 steps here, 5e-5 at 4096): 256 steps explain the class with
  // the largest logit change to 1%; classes whose logit barely moves need more steps.
  int64_t strongest = 0;
  double best = 0;
  for (int64_t target = 0; target < 4; ++target) {
    const double gap = std::abs(train::target_logit(*model, x, target) -
                                train::target_logit(*model, baseline, target));
    if (gap > best) best = gap, strongest = target;
  }
  expect_complete(*model, x, baseline, strongest, 256);
  for (int64_t target = 0; target < 4; ++target) expect_complete(*model, x, baseline, target, 4096);
  // Fewer steps than one batch, and a batch that does not divide the steps, give the same shape.
  EXPECT_EQ(train::integrated_gradients(*model, x, baseline, 1, 7, 3).shape(), x.shape());
}

TEST(TrainExplain, IntegratedGradientsAreCompleteForAnMlp) {
  manual_seed(4);
  auto model = small_mlp();
  const Tensor x = randn({6}) * 2.0, baseline = zeros({6});
  for (int64_t target = 0; target < 3; ++target) expect_complete(*model, x, baseline, target, 128);
  // A linear model's integrated gradients are exact: w * (x - baseline).
  train::ModelConfig lin;
  lin.type = "logistic";
  auto logistic = models::build_model(lin, {6}, 2);
  const Tensor ig = train::integrated_gradients(*logistic, x, baseline, 1, 4);
  const Tensor w = std::dynamic_pointer_cast<nn::Linear>((*logistic)[0])->weight.select(0, 1);
  EXPECT_TRUE(allclose(ig, w * x, 1e-5, 1e-6));
}

TEST(TrainExplain, SaliencyIsInputTimesGradient) {
  manual_seed(5);
  auto model = small_cnn();
  const Tensor x = randn({1, 8, 8}), baseline = randn({1, 8, 8}) * 0.1;
  for (int64_t target : {0, 3}) {
    const Tensor grad = autograd_gradient(*model, x, target);
    EXPECT_TRUE(
        allclose(train::saliency(*model, x, target, baseline), (x - baseline) * grad, 1e-5, 1e-7));
    // No baseline: zeros, i.e. gradient x input.
    EXPECT_TRUE(allclose(train::saliency(*model, x, target), x * grad, 1e-5, 1e-7));
  }
}

TEST(TrainExplain, ModelModeAndGradientsAreLeftAlone) {
  manual_seed(6);
  auto model = small_cnn();
  model->train();
  // Parameter gradients from a training step, which an explanation must not touch.
  (*model)(randn({4, 1, 8, 8})).sum().backward();
  std::vector<Tensor> before;
  for (const Tensor& p : model->parameters()) before.push_back(p.grad().clone());
  const nn::StateDict state = model->state_dict();
  std::vector<Tensor> buffers;
  for (const Tensor& b : model->buffers()) buffers.push_back(b.clone());

  const Tensor x = randn({1, 8, 8});
  train::saliency(*model, x, 1);
  train::integrated_gradients(*model, x, zeros({1, 8, 8}), 2, 16, 8);
  train::target_logit(*model, x, 0);

  EXPECT_TRUE(model->is_training());
  for (const auto& m : model->modules()) EXPECT_TRUE(m->is_training()) << m->type_name();
  const std::vector<Tensor> params = model->parameters();
  ASSERT_EQ(params.size(), before.size());
  for (size_t i = 0; i < params.size(); ++i)
    EXPECT_TRUE(same(params[i].grad(), before[i])) << "parameter " << i;
  // Explanations run in eval mode, so batch norm's running statistics do not move.
  const std::vector<Tensor> after = model->buffers();
  for (size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(same(after[i], buffers[i])) << i;

  // Undefined gradients stay undefined; an eval-mode model stays in eval mode.
  model->zero_grad();
  model->eval();
  train::saliency(*model, x, 1);
  train::integrated_gradients(*model, x, zeros({1, 8, 8}), 1, 8);
  EXPECT_FALSE(model->is_training());
  for (const Tensor& p : model->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(TrainExplain, BadBaselinesAndTargetsAreErrors) {
  manual_seed(7);
  auto model = small_cnn();
  const Tensor x = randn({1, 8, 8});
  expect_error<ShapeError>(
      [&] {
        train::integrated_gradients(*model, x, zeros({1, 4, 4}), 0);
      },
      {"integrated_gradients", "baseline", "(1, 4, 4)", "(1, 8, 8)"});
  expect_error<ShapeError>(
      [&] {
        train::saliency(*model, x, 0, zeros({1, 1, 8, 8}));
      },
      {"saliency", "baseline", "(1, 1, 8, 8)", "(1, 8, 8)"});
  for (int64_t target : {4, -1}) {
    const std::string t = std::to_string(target);
    expect_error<Error>([&] { train::saliency(*model, x, target); },
                        {"target class " + t, "out of range", "(1, 4)"});
    expect_error<Error>(
        [&] {
          train::integrated_gradients(*model, x, zeros({1, 8, 8}), target);
        },
        {"target class " + t, "out of range"});
    expect_error<Error>([&] { train::target_logit(*model, x, target); },
                        {"target class " + t, "out of range"});
  }
  expect_error<Error>(
      [&] {
        train::integrated_gradients(*model, x, zeros({1, 8, 8}), 0, 0);
      },
      {"steps"});
  // A failed explanation leaves the mode as it was.
  model->train();
  try {
    train::saliency(*model, x, 9);
  } catch (const Error&) {
  }
  EXPECT_TRUE(model->is_training());
}
