// nn::Module: dotted names, traversal, state_dict round trips and errors, modes, zero_grad.
#include <gtest/gtest.h>

#include "ember/ember.h"

using namespace ember;

namespace {

// A module with its own parameter and buffer plus a child, like a typical user module.
struct Block : nn::Module {
  Block() : Module("Block") {
    scale = register_parameter("scale", ones({3}));
    running = register_buffer("running", zeros({3}));
    fc = register_module("fc", std::make_shared<nn::Linear>(4, 3));
  }
  Tensor forward(const Tensor& x) override { return (*fc)(x)*scale; }
  Tensor scale, running;
  std::shared_ptr<nn::Linear> fc;
};

std::vector<std::string> keys_of(const nn::OrderedDict<Tensor>& d) {
  return d.keys();
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST(NnModule, DottedNamesLikePyTorch) {
  auto inner = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(3, 2),
                                                std::make_shared<nn::LayerNorm>(Shape{2}));
  nn::Sequential model{std::make_shared<nn::Linear>(4, 3), std::make_shared<nn::ReLU>(), inner};
  EXPECT_EQ(keys_of(model.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.0.weight", "2.0.bias", "2.1.weight",
                                      "2.1.bias"}));
  std::vector<std::string> names;
  for (auto& [name, m] : model.named_modules()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"", "0", "1", "2", "2.0", "2.1"}));
  EXPECT_EQ(model.children().size(), 3u);
  EXPECT_EQ(model.parameters().size(), 6u);
  EXPECT_EQ(model.parameters(false).size(), 0u);
  EXPECT_EQ(model.num_parameters(), 4 * 3 + 3 + 3 * 2 + 2 + 2 + 2);
  EXPECT_EQ(model.at<nn::Linear>(0)->out_features, 3);
  EXPECT_THROW(model.at<nn::Linear>(1), ValueError);
  EXPECT_THROW(model[5], IndexError);
  EXPECT_EQ(model[-1].get(), inner.get());
}

TEST(NnModule, StateDictOrderOwnThenChildren) {
  Block b;
  EXPECT_EQ(keys_of(b.state_dict()),
            (std::vector<std::string>{"scale", "running", "fc.weight", "fc.bias"}));
  EXPECT_EQ(keys_of(b.named_buffers()), (std::vector<std::string>{"running"}));
  EXPECT_EQ(keys_of(b.named_parameters()),
            (std::vector<std::string>{"scale", "fc.weight", "fc.bias"}));
  nn::ModuleList list{std::make_shared<Block>(), std::make_shared<Block>()};
  EXPECT_EQ(keys_of(list.state_dict())[4], "1.scale");
  nn::ModuleDict dict{{"enc", std::make_shared<nn::Linear>(2, 2)},
                      {"act", std::make_shared<nn::Tanh>()}};
  EXPECT_EQ(dict.keys(), (std::vector<std::string>{"enc", "act"}));
  EXPECT_EQ(keys_of(dict.state_dict()), (std::vector<std::string>{"enc.weight", "enc.bias"}));
  EXPECT_NE(dict.at<nn::Tanh>("act"), nullptr);
  EXPECT_THROW(dict["nope"], IndexError);
}

TEST(NnModule, NonPersistentBufferLeftOutOfStateDict) {
  nn::Module m;
  m.register_buffer("mask", ones({2}), false);
  m.register_buffer("stat", ones({2}));
  EXPECT_EQ(keys_of(m.state_dict()), (std::vector<std::string>{"stat"}));
  EXPECT_EQ(m.buffers().size(), 2u);
}

TEST(NnModule, RegistrationErrors) {
  nn::Module m("Custom");
  m.register_parameter("w", ones({2}));
  EXPECT_TRUE(m.named_parameters()["w"].requires_grad());
  EXPECT_THROW(m.register_parameter("w", ones({2})), ValueError);
  EXPECT_THROW(m.register_buffer("w", ones({2})), ValueError);
  EXPECT_THROW(m.register_parameter("a.b", ones({2})), ValueError);
  EXPECT_THROW(m.register_parameter("", ones({2})), ValueError);
  EXPECT_THROW(m.register_module("m", std::shared_ptr<nn::Module>()), ValueError);
  EXPECT_THROW(m.forward(ones({2})), NotImplementedError);
  // A tensor with history becomes a leaf parameter.
  Tensor a = ones({2}).requires_grad_();
  Tensor p = m.register_parameter("v", a * 2.0);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  Tensor frozen = m.register_parameter("frozen", ones({2}), false);
  EXPECT_FALSE(frozen.requires_grad());
  EXPECT_EQ(m.num_parameters(true), 4);
}

TEST(NnModule, SharedParameterCountedOnceButSavedUnderEachName) {
  auto emb = std::make_shared<nn::Embedding>(5, 3);
  auto head = std::make_shared<nn::Linear>(3, 5, false);
  head->register_parameter("tied", emb->weight);  // weight tying
  nn::Sequential model{emb, head};
  EXPECT_EQ(model.parameters().size(), 2u);  // emb weight (== tied) and head weight
  EXPECT_EQ(model.state_dict().size(), 3u);
}

TEST(NnModule, StateDictSharesStorageAndIsDetached) {
  nn::Linear lin(3, 2);
  nn::StateDict sd = lin.state_dict();
  EXPECT_FALSE(sd["weight"].requires_grad());
  EXPECT_EQ(sd["weight"].raw_data(), lin.weight.raw_data());
  sd["weight"].fill_(7);
  EXPECT_EQ(lin.weight.at<float>({1, 2}), 7.0f);
}

TEST(NnModule, StateDictRoundTrip) {
  manual_seed(1);
  Block a, b;
  {
    NoGradGuard no_grad;
    a.scale.uniform_(-1, 1);
    a.running.fill_(3);
  }
  ASSERT_FALSE(allclose(a.fc->weight, b.fc->weight));
  auto result = b.load_state_dict(a.state_dict());
  EXPECT_TRUE(result.missing_keys.empty());
  EXPECT_TRUE(result.unexpected_keys.empty());
  for (auto& [key, t] : a.state_dict()) EXPECT_TRUE(allclose(t, b.state_dict()[key])) << key;
  // Members see the loaded values (in-place copy), and parameters stay trainable leaves.
  EXPECT_TRUE(allclose(a.fc->weight, b.fc->weight));
  EXPECT_TRUE(b.fc->weight.requires_grad());
  EXPECT_TRUE(b.fc->weight.is_leaf());
  Tensor x = randn({2, 4});
  EXPECT_TRUE(allclose(a(x), b(x)));
}

TEST(NnModule, LoadStateDictReportsEveryProblem) {
  Block b;
  nn::StateDict sd = b.state_dict();
  sd.erase("scale");
  sd.erase("fc.bias");
  sd.insert("extra.weight", ones({1}));
  sd.insert("other", ones({1}));
  sd.insert_or_assign("fc.weight", zeros({4, 3}));  // expected (3, 4)
  sd.insert_or_assign("running", zeros({5}));
  const Tensor before = b.fc->weight.clone();
  try {
    b.load_state_dict(sd);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(contains(msg, "Block")) << msg;
    EXPECT_TRUE(contains(msg, "missing keys: scale, fc.bias")) << msg;
    EXPECT_TRUE(contains(msg, "unexpected keys: extra.weight, other")) << msg;
    EXPECT_TRUE(contains(msg, "fc.weight: expected (3, 4), got (4, 3)")) << msg;
    EXPECT_TRUE(contains(msg, "running: expected (3,), got (5,)")) << msg;
  }
  EXPECT_TRUE(allclose(before, b.fc->weight));  // nothing was copied
}

TEST(NnModule, LoadStateDictNonStrict) {
  Block a, b;
  nn::StateDict sd = a.state_dict();
  sd.erase("fc.bias");
  sd.insert("unused", ones({2}));
  auto result = b.load_state_dict(sd, false);
  EXPECT_EQ(result.missing_keys, (std::vector<std::string>{"fc.bias"}));
  EXPECT_EQ(result.unexpected_keys, (std::vector<std::string>{"unused"}));
  EXPECT_TRUE(allclose(a.fc->weight, b.fc->weight));
  // Shape mismatches are errors even when not strict.
  sd.insert_or_assign("fc.weight", zeros({4, 3}));
  EXPECT_THROW(b.load_state_dict(sd, false), ShapeError);
}

TEST(NnModule, TrainEvalSwitchesDropout) {
  manual_seed(0);
  nn::Sequential model{std::make_shared<nn::Linear>(8, 8), std::make_shared<nn::Dropout>(0.5)};
  EXPECT_TRUE(model.is_training());
  EXPECT_TRUE(model[1]->is_training());
  Tensor x = ones({64, 8});
  auto drop = model[1];
  Tensor y = (*drop)(x);
  const double zeros_frac = (y == 0.0).to(kFloat32).mean().item();
  EXPECT_GT(zeros_frac, 0.3);
  EXPECT_LT(zeros_frac, 0.7);
  EXPECT_TRUE(allclose(mean(y), scalar_tensor(1.0), 0.2));
  model.eval();
  EXPECT_FALSE(model.is_training());
  EXPECT_FALSE(drop->is_training());
  EXPECT_TRUE((*drop)(x).is_same(x));
  model.train();
  EXPECT_TRUE(drop->is_training());
}

TEST(NnModule, ZeroGrad) {
  nn::Linear lin(3, 2);
  lin(randn({4, 3})).sum().backward();
  ASSERT_TRUE(lin.weight.grad().defined());
  lin.zero_grad(false);
  ASSERT_TRUE(lin.weight.grad().defined());
  EXPECT_EQ(abs(lin.weight.grad()).sum().item(), 0.0);
  lin.zero_grad();
  EXPECT_FALSE(lin.weight.grad().defined());
  EXPECT_FALSE(lin.bias.grad().defined());
}

TEST(NnModule, ToDtypeKeepsHandles) {
  nn::Linear lin(3, 2);
  const Tensor w = lin.weight;
  lin.to(kFloat64);
  EXPECT_EQ(w.dtype(), kFloat64);
  EXPECT_EQ(lin.state_dict()["bias"].dtype(), kFloat64);
  EXPECT_EQ(lin(randn({1, 3}, kFloat64)).dtype(), kFloat64);
  EXPECT_TRUE(lin.weight.requires_grad());
}

TEST(NnModule, ApplyAndNamedModulesOnStack) {
  Block b;  // not owned by a shared_ptr
  int count = 0;
  b.apply([&](nn::Module& m) {
    ++count;
    if (auto* lin = dynamic_cast<nn::Linear*>(&m)) nn::init::zeros_(lin->weight);
  });
  EXPECT_EQ(count, 2);
  EXPECT_EQ(abs(b.fc->weight).sum().item(), 0.0);
  auto mods = b.named_modules();
  ASSERT_EQ(mods.size(), 2u);
  EXPECT_EQ(mods[0].second.get(), &b);
  EXPECT_EQ(mods[1].first, "fc");
}

TEST(NnModule, ReprLikePyTorch) {
  nn::Sequential model{std::make_shared<nn::Linear>(4, 3), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::LayerNorm>(Shape{3})};
  EXPECT_EQ(model.repr(),
            "Sequential(\n"
            "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
            "  (1): ReLU()\n"
            "  (2): LayerNorm((3,), eps=1e-05, elementwise_affine=True)\n"
            ")");
}

TEST(NnModule, SequentialNamedAndPushBack) {
  nn::Sequential seq;
  seq.push_back("proj", std::make_shared<nn::Linear>(2, 2));
  seq.push_back(std::make_shared<nn::GELU>("tanh"));
  EXPECT_EQ(keys_of(seq.state_dict()), (std::vector<std::string>{"proj.weight", "proj.bias"}));
  EXPECT_EQ(seq.named_children().keys(), (std::vector<std::string>{"proj", "1"}));
  EXPECT_EQ(seq(ones({5, 2})).shape(), (Shape{5, 2}));
}
