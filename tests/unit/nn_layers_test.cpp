// Layers: shapes, padding rows, flatten/identity, activations and argument checks.
#include <gtest/gtest.h>

#include "ember/ember.h"

using namespace ember;

TEST(NnLayers, LinearShapesAndNoBias) {
  nn::Linear lin(4, 3, false);
  EXPECT_FALSE(lin.bias.defined());
  EXPECT_EQ(lin.state_dict().keys(), (std::vector<std::string>{"weight"}));
  EXPECT_EQ(lin(randn({2, 5, 4})).shape(), (Shape{2, 5, 3}));
  EXPECT_EQ(lin(randn({4})).shape(), (Shape{3}));
  EXPECT_THROW(lin(randn({2, 5})), ShapeError);
  EXPECT_EQ(lin.repr(), "Linear(in_features=4, out_features=3, bias=False)");
}

TEST(NnLayers, EmbeddingPaddingRowGetsNoGradient) {
  nn::Embedding emb(6, 3, 2);
  Tensor idx = tensor({{0, 2}, {2, 5}}, kInt64);
  Tensor y = emb(idx);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(abs(y[0][1]).sum().item(), 0.0);
  y.sum().backward();
  Tensor g = emb.weight.grad();
  EXPECT_EQ(abs(g[2]).sum().item(), 0.0);
  EXPECT_TRUE(allclose(g[0], ones({3})));
  EXPECT_EQ(emb.repr(), "Embedding(6, 3, padding_idx=2)");
  EXPECT_THROW(nn::Embedding(6, 3, 6), IndexError);
  EXPECT_THROW(emb(tensor({7}, kInt64)), IndexError);
}

TEST(NnLayers, LayerNormNormalisesTrailingDims) {
  nn::LayerNorm ln({2, 3});
  Tensor x = randn({4, 2, 3}) * 5.0 + 2.0;
  Tensor y = ln(x);
  EXPECT_TRUE(allclose(mean(y, {1, 2}), zeros({4}), 0, 1e-5));
  EXPECT_TRUE(allclose(var(y, {1, 2}, 0), ones({4}), 1e-3, 1e-3));
  EXPECT_THROW(ln(randn({4, 3, 2})), ShapeError);
  nn::LayerNorm plain({3}, 1e-6, false);
  EXPECT_EQ(plain.parameters().size(), 0u);
  nn::LayerNorm no_bias({3}, 1e-5, true, false);
  EXPECT_EQ(no_bias.state_dict().keys(), (std::vector<std::string>{"weight"}));
}

TEST(NnLayers, DropoutFlattenIdentity) {
  EXPECT_THROW(nn::Dropout(1.5), ValueError);
  nn::Dropout none(0.0);
  Tensor x = randn({2, 3, 4, 5});
  EXPECT_TRUE(allclose(none(x), x));
  EXPECT_EQ(nn::Flatten()(x).shape(), (Shape{2, 60}));
  EXPECT_EQ(nn::Flatten(0, 2)(x).shape(), (Shape{24, 5}));
  EXPECT_TRUE(nn::Identity()(x).is_same(x));
}

TEST(NnLayers, Activations) {
  Tensor x = tensor({-2, -0.5, 0.5, 2});
  EXPECT_TRUE(allclose(nn::ReLU()(x), relu(x)));
  EXPECT_TRUE(allclose(nn::LeakyReLU(0.2)(x), tensor({-0.4, -0.1, 0.5, 2})));
  EXPECT_TRUE(allclose(nn::ELU(0.5)(x), elu(x, 0.5)));
  EXPECT_TRUE(allclose(nn::GELU("tanh")(x), gelu(x, "tanh")));
  EXPECT_THROW(nn::GELU("fast"), ValueError);
  EXPECT_TRUE(allclose(nn::SiLU()(x), silu(x)));
  EXPECT_TRUE(allclose(nn::Sigmoid()(x), sigmoid(x)));
  EXPECT_TRUE(allclose(nn::Tanh()(x), tanh(x)));
  EXPECT_TRUE(allclose(nn::Softplus(2, 1)(x), softplus(x, 2, 1)));
  Tensor m = randn({3, 4});
  EXPECT_TRUE(allclose(nn::Softmax(0)(m), softmax(m, 0)));
  EXPECT_TRUE(allclose(nn::LogSoftmax(-1)(m), log_softmax(m, -1)));
  EXPECT_EQ(nn::LeakyReLU(0.2).repr(), "LeakyReLU(negative_slope=0.2)");
  EXPECT_EQ(nn::Softmax(1).repr(), "Softmax(dim=1)");
}

TEST(NnLayers, MlpTrainsOnATinyProblem) {
  manual_seed(0);
  auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(2, 16),
                                                std::make_shared<nn::Tanh>(),
                                                std::make_shared<nn::Linear>(16, 2));
  Tensor x = randn({64, 2});
  Tensor y = (x.select(1, 0) * x.select(1, 1) > 0.0).to(kInt64);  // XOR of signs
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    model->zero_grad();
    Tensor loss = nn::functional::cross_entropy((*model)(x), y);
    loss.backward();
    NoGradGuard no_grad;
    for (Tensor p : model->parameters()) p.sub_(p.grad(), 0.5);
    (step == 0 ? first : last) = loss.item();
  }
  EXPECT_LT(last, 0.3 * first);
}
