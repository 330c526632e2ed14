// Layers against libtorch modules with the same parameters: forward, input and parameter gradients,
// and state_dict names.
#include <functional>

#include "support/torch_bridge.h"

using namespace ember;
using ember::testing::to_torch;

namespace {

using ember::testing::expect_parity;

constexpr double kTol = 1e-5;


// Copies every ember parameter and buffer into the torch parameter/buffer of the same dotted name;
// also checks that both modules have exactly the same names, in the same order.
void copy_into_torch(const nn::Module& ours, torch::nn::Module& theirs) {
  std::vector<std::string> torch_names;
  torch::NoGradGuard no_grad;
  auto params = theirs.named_parameters();
  auto buffers = theirs.named_buffers();
  for (const auto& item : params) torch_names.push_back(item.key());
  EXPECT_EQ(ours.named_parameters().keys(), torch_names);
  for (const auto& [name, t] : ours.state_dict()) {
    torch::Tensor* target = params.find(name);
    if (target == nullptr) target = buffers.find(name);
    ASSERT_NE(target, nullptr) << "torch module has no " << name;
    target->copy_(to_torch(t));
  }
}

// Forward with a random input, backward with a random upstream gradient; compares the output,
// the input gradient and every parameter gradient (by name).
void compare_module(const std::string& what, nn::Module& ours, torch::nn::Module& theirs,
                    const std::function<torch::Tensor(const torch::Tensor&)>& torch_forward,
                    const Tensor& input) {
  SCOPED_TRACE(what);
  copy_into_torch(ours, theirs);
  const bool float_input = input.is_floating_point();
  Tensor x = input.detach().clone();
  if (float_input) x.requires_grad_();
  torch::Tensor tx = to_torch(x);
  if (float_input) tx.requires_grad_();
  Tensor y = ours(x);
  torch::Tensor ty = torch_forward(tx);
  expect_parity(y, ty, kTol, what + " forward");
  Tensor g = randn(y.shape());
  y.backward(g);
  ty.backward(to_torch(g));
  if (float_input) expect_parity(x.grad(), tx.grad(), kTol, what + " input grad");
  auto tparams = theirs.named_parameters();
  for (const auto& [name, p] : ours.named_parameters()) {
    const torch::Tensor* tp = tparams.find(name);
    ASSERT_NE(tp, nullptr) << name;
    expect_parity(p.grad(), tp->grad(), kTol, what + " grad " + name);
  }
}

}  // namespace

TEST(NnLayersParity, Linear) {
  manual_seed(21);
  for (bool bias : {true, false}) {
    nn::Linear lin(6, 4, bias);
    torch::nn::Linear tlin(torch::nn::LinearOptions(6, 4).bias(bias));
    compare_module(
        "Linear bias=" + std::to_string(bias), lin, *tlin,
        [&](const torch::Tensor& x) { return tlin(x); }, randn({3, 5, 6}));
  }
}

TEST(NnLayersParity, Embedding) {
  manual_seed(22);
  for (std::optional<int64_t> pad : {std::optional<int64_t>(), std::optional<int64_t>(3)}) {
    nn::Embedding emb(7, 4, pad);
    auto opts = torch::nn::EmbeddingOptions(7, 4);
    if (pad) opts.padding_idx(*pad);
    torch::nn::Embedding temb(opts);
    compare_module(
        "Embedding padding=" + std::to_string(pad.value_or(-1)), emb, *temb,
        [&](const torch::Tensor& x) { return temb(x); }, tensor({{1, 3, 6}, {3, 3, 0}}, kInt64));
  }
}

TEST(NnLayersParity, LayerNorm) {
  manual_seed(23);
  struct Case {
    Shape normalized;
    Shape input;
    bool affine;
  };
  for (const Case& c : {Case{{16}, {4, 7, 16}, true}, Case{{3, 8}, {5, 3, 8}, true},
                        Case{{10}, {6, 10}, false}, Case{{64}, {2, 64}, true}}) {
    nn::LayerNorm ln(c.normalized, 1e-5, c.affine);
    {
      NoGradGuard no_grad;  // non-trivial affine parameters
      for (Tensor p : ln.parameters()) p.normal_(0.5, 1.0);
    }
    torch::nn::LayerNorm tln(
        torch::nn::LayerNormOptions(std::vector<int64_t>(c.normalized.begin(), c.normalized.end()))
            .elementwise_affine(c.affine));
    Tensor x = randn(c.input) * 3.0 + 1.0;
    compare_module(
        "LayerNorm " + ember::detail::shape_to_string(c.normalized), ln, *tln,
        [&](const torch::Tensor& t) { return tln(t); }, x);
  }
}

TEST(NnLayersParity, Activations) {
  manual_seed(24);
  Tensor x = randn({4, 9}) * 3.0;
  struct Case {
    std::string name;
    std::shared_ptr<nn::Module> ours;
    std::function<torch::Tensor(const torch::Tensor&)> theirs;
  };
  namespace TF = torch::nn::functional;
  const std::vector<Case> cases = {
      {"ReLU", std::make_shared<nn::ReLU>(), [](auto& t) { return torch::relu(t); }},
      {"LeakyReLU", std::make_shared<nn::LeakyReLU>(0.1),
       [](auto& t) { return TF::leaky_relu(t, TF::LeakyReLUFuncOptions().negative_slope(0.1)); }},
      {"ELU", std::make_shared<nn::ELU>(0.7),
       [](auto& t) { return TF::elu(t, TF::ELUFuncOptions().alpha(0.7)); }},
      {"GELU", std::make_shared<nn::GELU>(), [](auto& t) { return torch::gelu(t); }},
      {"GELU tanh", std::make_shared<nn::GELU>("tanh"),
       [](auto& t) { return torch::gelu(t, "tanh"); }},
      {"SiLU", std::make_shared<nn::SiLU>(), [](auto& t) { return torch::silu(t); }},
      {"Sigmoid", std::make_shared<nn::Sigmoid>(), [](auto& t) { return torch::sigmoid(t); }},
      {"Tanh", std::make_shared<nn::Tanh>(), [](auto& t) { return torch::tanh(t); }},
      {"Softplus", std::make_shared<nn::Softplus>(2.0, 5.0),
       [](auto& t) { return torch::softplus(t, 2.0, 5.0); }},
      {"Softmax", std::make_shared<nn::Softmax>(0), [](auto& t) { return torch::softmax(t, 0); }},
      {"LogSoftmax", std::make_shared<nn::LogSoftmax>(1),
       [](auto& t) { return torch::log_softmax(t, 1); }},
      {"Flatten", std::make_shared<nn::Flatten>(0), [](auto& t) { return t.flatten(0); }},
      {"Identity", std::make_shared<nn::Identity>(), [](auto& t) { return t * 1; }},
  };
  for (const Case& c : cases) {
    torch::nn::Sequential empty;
    compare_module(c.name, *c.ours, *empty, c.theirs, x);
  }
}

TEST(NnLayersParity, DropoutEvalIsIdentityAndTrainKeepsExpectation) {
  manual_seed(25);
  nn::Dropout drop(0.3);
  Tensor x = randn({200, 50});
  drop.eval();
  expect_parity(drop(x), to_torch(x), 0, "Dropout eval");
  drop.train();
  Tensor y = drop(x);
  Tensor kept = y != 0.0;
  const double frac = kept.to(kFloat32).mean().item();
  EXPECT_NEAR(frac, 0.7, 0.02);
  // Kept elements are scaled by 1 / (1 - p), as torch.nn.Dropout.
  Tensor ratio = masked_select(y, kept) / masked_select(x, kept);
  EXPECT_NEAR(min(ratio).item(), 1.0 / 0.7, 1e-5);
  EXPECT_NEAR(max(ratio).item(), 1.0 / 0.7, 1e-5);
}

TEST(NnLayersParity, SequentialMlpNamesAndTraining) {
  manual_seed(26);
  auto mlp = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(8, 16), std::make_shared<nn::GELU>(),
      std::make_shared<nn::LayerNorm>(Shape{16}), std::make_shared<nn::Linear>(16, 3));
  torch::nn::Sequential tmlp(torch::nn::Linear(8, 16), torch::nn::GELU(),
                             torch::nn::LayerNorm(torch::nn::LayerNormOptions({16})),
                             torch::nn::Linear(16, 3));
  std::vector<std::string> torch_keys;
  for (const auto& item : tmlp->named_parameters()) torch_keys.push_back(item.key());
  EXPECT_EQ(mlp->state_dict().keys(), torch_keys);
  compare_module(
      "MLP", *mlp, *tmlp, [&](const torch::Tensor& x) { return tmlp->forward(x); }, randn({5, 8}));
  // A cross-entropy step through the whole model.
  mlp->zero_grad();
  tmlp->zero_grad();
  Tensor x = randn({5, 8});
  Tensor t = randint(0, 3, {5});
  Tensor loss = nn::functional::cross_entropy((*mlp)(x), t, Tensor(), -100, "mean", 0.1);
  torch::Tensor tloss = torch::cross_entropy_loss(tmlp->forward(to_torch(x)), to_torch(t), {},
                                                  at::Reduction::Mean, -100, 0.1);
  expect_parity(loss, tloss, kTol, "MLP loss");
  loss.backward();
  tloss.backward();
  auto tparams = tmlp->named_parameters();
  for (const auto& [name, p] : mlp->named_parameters())
    expect_parity(p.grad(), tparams[name].grad(), kTol, "MLP loss grad " + name);
}
