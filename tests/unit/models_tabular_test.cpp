// models/tabular: layer structure and names (as PyTorch's nn.Sequential), shapes, seeding, errors.
#include <gtest/gtest.h>

#include "ember/ember.h"
#include "ember/models/tabular.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;
using train::ModelConfig;

namespace {

std::vector<std::string> child_types(const nn::Sequential& m) {
  std::vector<std::string> out;
  for (const auto& c : m) out.push_back(c->type_name());
  return out;
}

}  // namespace

TEST(ModelsTabular, LinearAndLogisticAreOneLinear) {
  for (const std::string type : {"linear", "logistic"}) {
    ModelConfig cfg;
    cfg.type = type;
    auto m = models::build_tabular_model(cfg, 4, 3);
    EXPECT_EQ(child_types(*m), (std::vector<std::string>{"Linear"}));
    EXPECT_EQ(m->state_dict().keys(), (std::vector<std::string>{"0.weight", "0.bias"}));
    EXPECT_EQ(m->num_parameters(), 4 * 3 + 3);
    EXPECT_EQ((*m)(randn({5, 4})).shape(), (Shape{5, 3}));
  }
}

TEST(ModelsTabular, MlpMatchesPyTorchSequential) {
  ModelConfig cfg;
  cfg.hidden = {8};
  cfg.activation = "gelu";
  cfg.dropout = 0.25;
  cfg.norm = "batch";
  auto m = models::build_tabular_model(cfg, 4, 3);
  // repr, state_dict keys and parameter count printed by PyTorch 1.13 for
  // nn.Sequential(nn.Linear(4,8), nn.BatchNorm1d(8), nn.GELU(), nn.Dropout(0.25), nn.Linear(8,3))
  EXPECT_EQ(
      m->repr(),
      "Sequential(\n"
      "  (0): Linear(in_features=4, out_features=8, bias=True)\n"
      "  (1): BatchNorm1d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
      "  (2): GELU(approximate='none')\n"
      "  (3): Dropout(p=0.25, inplace=False)\n"
      "  (4): Linear(in_features=8, out_features=3, bias=True)\n"
      ")");
  EXPECT_EQ(
      m->state_dict().keys(),
      (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                                "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias"}));
  EXPECT_EQ(m->num_parameters(), 83);
  EXPECT_EQ((*m)(randn({6, 4})).shape(), (Shape{6, 3}));
}

TEST(ModelsTabular, LayerNormActivationsAndNoDropout) {
  ModelConfig cfg;
  cfg.hidden = {16, 8};
  cfg.norm = "layer";
  cfg.activation = "tanh";
  auto m = models::build_tabular_model(cfg, 5, 2);
  EXPECT_EQ(child_types(*m), (std::vector<std::string>{"Linear", "LayerNorm", "Tanh", "Linear",
                                                       "LayerNorm", "Tanh", "Linear"}));
  EXPECT_EQ(m->at<nn::Linear>(3)->in_features, 16);
  EXPECT_EQ(m->at<nn::Linear>(3)->out_features, 8);
  EXPECT_EQ(m->at<nn::Linear>(6)->in_features, 8);
  const std::vector<std::pair<std::string, std::string>> acts = {{"relu", "ReLU"},
                                                                 {"tanh", "Tanh"},
                                                                 {"sigmoid", "Sigmoid"},
                                                                 {"gelu", "GELU"},
                                                                 {"leaky_relu", "LeakyReLU"},
                                                                 {"silu", "SiLU"},
                                                                 {"elu", "ELU"}};
  for (const auto& [name, type] : acts) EXPECT_EQ(models::make_activation(name)->type_name(), type);
  // No hidden layers: a single Linear.
  cfg.hidden = {};
  EXPECT_EQ(child_types(*models::build_tabular_model(cfg, 5, 2)),
            (std::vector<std::string>{"Linear"}));
}

TEST(ModelsTabular, InitialisationFollowsTheDefaultGenerator) {
  ModelConfig cfg;
  cfg.hidden = {8, 8};
  manual_seed(42);
  auto a = models::build_tabular_model(cfg, 3, 2);
  manual_seed(42);
  auto b = models::build_tabular_model(cfg, 3, 2);
  manual_seed(43);
  auto c = models::build_tabular_model(cfg, 3, 2);
  const auto pa = a->parameters(), pb = b->parameters(), pc = c->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(allclose(pa[i], pb[i], 0, 0)) << i;
  EXPECT_FALSE(allclose(pa[0], pc[0], 0, 0));
}

TEST(ModelsTabular, Errors) {
  ModelConfig cfg;
  expect_error<ValueError>([&] { models::build_tabular_model(cfg, 0, 2); },
                           {"in_features and out_features must be >= 1, got 0 and 2"});
  expect_error<ValueError>([&] { models::build_tabular_model(cfg, 3, 0); }, {"got 3 and 0"});
  ModelConfig bad = cfg;
  bad.type = "cnn";
  expect_error<ConfigError>([&] { models::build_tabular_model(bad, 3, 2); },
                            {"model.type = \"cnn\": must be one of linear, logistic, mlp"});
  bad = cfg;
  bad.activation = "swish";
  expect_error<ConfigError>([&] { models::build_tabular_model(bad, 3, 2); },
                            {"model.activation = \"swish\""});
  bad = cfg;
  bad.hidden = {4, 0};
  expect_error<ConfigError>([&] { models::build_tabular_model(bad, 3, 2); },
                            {"model.hidden[1] = 0: must be >= 1"});
  bad = cfg;
  bad.norm = "group";
  expect_error<ConfigError>([&] { models::build_tabular_model(bad, 3, 2); }, {"model.norm"});
  bad = cfg;
  bad.dropout = 1.0;
  expect_error<ConfigError>([&] { models::build_tabular_model(bad, 3, 2); }, {"model.dropout"});
}
