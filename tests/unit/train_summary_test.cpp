// train/summary: shapes, parameters, FLOPs and training memory counted by hand; table and JSON.
#include <gtest/gtest.h>

#include "ember/ember.h"
#include "ember/models/ctr.h"
#include "ember/models/gpt.h"
#include "ember/models/tabular.h"
#include "ember/nn/batch_norm.h"
#include "ember/train/summary.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;

namespace {

std::shared_ptr<nn::Sequential> mlp(const std::string& norm = "none", double dropout = 0) {
  train::ModelConfig cfg;
  cfg.hidden = {8};
  cfg.norm = norm;
  cfg.dropout = dropout;
  return models::build_tabular_model(cfg, 4, 3);
}

}  // namespace

TEST(TrainSummary, SmallMlpByHand) {
  auto m = mlp();
  const train::ModelSummary s = train::summarize(*m, {4}, 32, "adam");
  ASSERT_EQ(s.layers.size(), 3u);
  // Linear(4, 8): 4*8 + 8 = 40 params, 2*4*8 + 8 = 72 FLOPs.
  EXPECT_EQ(s.layers[0].name, "0");
  EXPECT_EQ(s.layers[0].type, "Linear");
  EXPECT_EQ(s.layers[0].output_shape, (std::vector<int64_t>{8}));
  EXPECT_EQ(s.layers[0].params, 40);
  EXPECT_EQ(s.layers[0].trainable, 40);
  EXPECT_EQ(s.layers[0].flops, 72);
  // ReLU: 8 elements.
  EXPECT_EQ(s.layers[1].type, "ReLU");
  EXPECT_EQ(s.layers[1].params, 0);
  EXPECT_EQ(s.layers[1].flops, 8);
  // Linear(8, 3): 27 params, 2*8*3 + 3 = 51 FLOPs.
  EXPECT_EQ(s.layers[2].output_shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(s.layers[2].params, 27);
  EXPECT_EQ(s.layers[2].flops, 51);
  EXPECT_EQ(s.total_params, 67);
  EXPECT_EQ(s.trainable_params, 67);
  EXPECT_EQ(s.flops_per_sample, 131);
  EXPECT_EQ(s.batch_size, 32);
  // float32: 67 * 4 bytes each for parameters and gradients, twice that for Adam's moments;
  // activations (8 + 8 + 3) elements * 32 samples * 4 bytes.
  EXPECT_EQ(s.param_bytes, 268);
  EXPECT_EQ(s.grad_bytes, 268);
  EXPECT_EQ(s.optimizer_bytes, 536);
  EXPECT_EQ(s.activation_bytes, 19 * 32 * 4);
  EXPECT_EQ(s.total_train_bytes, 268 + 268 + 536 + 2432);
  EXPECT_EQ(s.gpu_bytes, s.total_train_bytes + (544 << 20));  // + CUDA context, cuBLAS workspace
}

TEST(TrainSummary, NormsDropoutFrozenParametersAndOptimizers) {
  auto m = mlp("batch", 0.5);
  m->at<nn::Linear>(0)->weight.requires_grad_(false);  // 32 frozen
  const train::ModelSummary s = train::summarize(*m, {4}, 10, "sgd", 0.9);
  ASSERT_EQ(s.layers.size(), 5u);
  EXPECT_EQ(s.layers[1].type, "BatchNorm1d");
  EXPECT_EQ(s.layers[1].params, 16);  // weight and bias; buffers are not parameters
  EXPECT_EQ(s.layers[1].flops, 40);   // 5 per element
  EXPECT_EQ(s.layers[3].type, "Dropout");
  EXPECT_EQ(s.layers[3].flops, 0);
  EXPECT_EQ(s.layers[0].trainable, 8);
  EXPECT_EQ(s.total_params, 83);
  EXPECT_EQ(s.trainable_params, 51);
  EXPECT_EQ(s.flops_per_sample, 72 + 40 + 8 + 0 + 51);
  EXPECT_EQ(s.param_bytes, 83 * 4);
  EXPECT_EQ(s.grad_bytes, 51 * 4);
  EXPECT_EQ(s.optimizer_bytes, 51 * 4);  // one momentum buffer
  EXPECT_EQ(s.activation_bytes, (8 + 8 + 8 + 8 + 3) * 10 * 4);
  EXPECT_EQ(train::summarize(*m, {4}, 10, "sgd").optimizer_bytes, 0);
  EXPECT_EQ(train::summarize(*m, {4}, 10, "adagrad").optimizer_bytes, 51 * 4);
  EXPECT_EQ(train::summarize(*m, {4}, 10, "rmsprop").optimizer_bytes, 51 * 4);
  EXPECT_EQ(train::summarize(*m, {4}, 10, "rmsprop", 0.9).optimizer_bytes, 2 * 51 * 4);
  EXPECT_EQ(train::summarize(*m, {4}, 10, "adamw").optimizer_bytes, 2 * 51 * 4);
  EXPECT_EQ(train::summarize(*m, {4}, 10, "none").optimizer_bytes, 0);
  expect_error<ValueError>([&] { train::summarize(*m, {4}, 10, "lion"); },
                           {"summarize: unknown optimizer 'lion'"});
  expect_error<ValueError>([&] { train::summarize(*m, {4}, 0, "sgd"); }, {"batch_size"});
}

TEST(TrainSummary, ModelStateAndModesAreRestored) {
  auto m = mlp("batch");
  auto bn = m->at<nn::BatchNorm1d>(1);
  bn->eval();  // a child in eval while the parent trains
  train::summarize(*m, {4}, 8, "adam");
  EXPECT_TRUE(m->is_training());
  EXPECT_FALSE(bn->is_training());
  EXPECT_TRUE(m->at<nn::Linear>(0)->is_training());
  EXPECT_EQ(bn->num_batches_tracked.item<int64_t>(), 0);
  EXPECT_TRUE(allclose(bn->running_var, ones({8})));
  EXPECT_TRUE(GradMode::is_enabled());
}

TEST(TrainSummary, NestedSequentialsSequenceInputsAndPlainModules) {
  auto inner = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8),
                                                std::make_shared<nn::Tanh>());
  nn::Sequential outer(inner, std::make_shared<nn::Linear>(8, 2, false));
  // Per sample (5, 4): the Linear layers apply to 5 rows each.
  const train::ModelSummary s = train::summarize(outer, {5, 4}, 2, "none");
  ASSERT_EQ(s.layers.size(), 3u);
  EXPECT_EQ(s.layers[0].name, "0.0");
  EXPECT_EQ(s.layers[1].name, "0.1");
  EXPECT_EQ(s.layers[2].name, "1");
  EXPECT_EQ(s.layers[0].output_shape, (std::vector<int64_t>{5, 8}));
  EXPECT_EQ(s.layers[0].flops, 5 * (2 * 4 * 8 + 8));
  EXPECT_EQ(s.layers[1].flops, 40);
  EXPECT_EQ(s.layers[2].flops, 5 * (2 * 8 * 2));  // no bias
  EXPECT_EQ(s.layers[2].output_shape, (std::vector<int64_t>{5, 2}));

  nn::Linear lin(3, 2);  // not in a shared_ptr, not a Sequential: one row
  const train::ModelSummary one = train::summarize(lin, {3}, 1, "sgd");
  ASSERT_EQ(one.layers.size(), 1u);
  EXPECT_EQ(one.layers[0].name, "Linear");
  EXPECT_EQ(one.total_params, 8);
}

TEST(TrainSummary, NumberFormatting) {
  EXPECT_EQ(train::with_thousands(0), "0");
  EXPECT_EQ(train::with_thousands(999), "999");
  EXPECT_EQ(train::with_thousands(1000), "1,000");
  EXPECT_EQ(train::with_thousands(1234567), "1,234,567");
  EXPECT_EQ(train::with_thousands(-1234567), "-1,234,567");
  EXPECT_EQ(train::human_bytes(0), "0 B");
  EXPECT_EQ(train::human_bytes(1023), "1023 B");
  EXPECT_EQ(train::human_bytes(2048), "2.00 KiB");
  EXPECT_EQ(train::human_bytes(1536 * 1024), "1.50 MiB");
  EXPECT_EQ(train::human_bytes(int64_t{3} << 30), "3.00 GiB");
}

TEST(TrainSummary, TableAndJson) {
  nn::Sequential big(std::make_shared<nn::Linear>(1000, 1000), std::make_shared<nn::ReLU>());
  const train::ModelSummary s = train::summarize(big, {1000}, 64, "adam");
  const std::string table = train::format_summary(s);
  for (const std::string frag : {"Layer (type)",
                                 "Output Shape",
                                 "Param #",
                                 "FLOPs",
                                 "0 (Linear)",
                                 "1 (ReLU)",
                                 "(None, 1000)",
                                 "1,001,000",
                                 "2,001,000",
                                 "Total params: 1,001,000 (3.82 MiB)",
                                 "Trainable params: 1,001,000",
                                 "Non-trainable params: 0 (0 B)",
                                 "Forward FLOPs per sample: 2,002,000",
                                 "batch size 64",
                                 "optimizer adam",
                                 "parameters",
                                 "gradients",
                                 "optimizer state",
                                 "activations",
                                 "total"})
    EXPECT_NE(table.find(frag), std::string::npos) << "'" << frag << "' not in:\n" << table;

  const json::Value j = train::summary_to_json(s);
  EXPECT_EQ(j["total_params"].as_int(), 1001000);
  EXPECT_EQ(j["flops_per_sample"].as_int(), 2002000);
  EXPECT_EQ(j["batch_size"].as_int(), 64);
  EXPECT_EQ(j["optimizer"].as_string(), "adam");
  EXPECT_EQ(j["param_bytes"].as_int(), 1001000 * 4);
  EXPECT_EQ(j["optimizer_bytes"].as_int(), 2 * 1001000 * 4);
  EXPECT_EQ(j["activation_bytes"].as_int(), 2 * 1000 * 64 * 4);
  EXPECT_EQ(j["total_train_bytes"].as_int(), 4 * 1001000 * 4 + 2 * 1000 * 64 * 4);
  ASSERT_EQ(j["layers"].size(), 2u);
  EXPECT_EQ(j["layers"][0]["type"].as_string(), "Linear");
  EXPECT_EQ(j["layers"][0]["output_shape"][0].as_int(), 1000);
  EXPECT_EQ(j["layers"][1]["flops"].as_int(), 1000);
}

// A token model (here a GPT) is one row fed int64 ids; its FLOPs count every Linear layer at each
// position (2 per weight) and its activations their outputs.
TEST(TrainSummary, TokenModelCountsLinearLayersPerPosition) {
  models::GPTConfig c;
  c.vocab_size = 10;
  c.block_size = 8;
  c.n_layer = 1;
  c.n_head = 2;
  c.n_embd = 4;
  models::GPT gpt(c);
  const train::ModelSummary s = train::summarize(gpt, {8}, 3, "adamw", 0, kInt64);
  ASSERT_EQ(s.layers.size(), 1u);
  EXPECT_EQ(s.layers[0].output_shape, (std::vector<int64_t>{8, 10}));
  // c_attn 4->12, c_proj 4->4, c_fc 4->16, mlp c_proj 16->4, lm_head 4->10, at 8 positions.
  const int64_t weights = 4 * 12 + 4 * 4 + 4 * 16 + 16 * 4 + 4 * 10;
  EXPECT_EQ(s.flops_per_sample, 8 * 2 * weights);
  EXPECT_EQ(s.activation_bytes, 8 * (12 + 4 + 16 + 4 + 10) * 3 * 4);
  expect_error<DTypeError>([&] { train::summarize(gpt, {8}, 3, "adamw"); }, {"int64"});
}

// A CTR model: its DNN's Linear layers, the lookups (2 FLOPs per slot and weight) and FM's
// 3 F k, with only model.embed_fields embedded; the pooled embeddings are the activations.
TEST(TrainSummary, CtrModelCountsLookupsAndFm) {
  models::CTRConfig c;
  c.type = "deepfm";
  // user (1 slot), tags (3 slots, mean-pooled), item (1 slot): S = 5
  c.slots = {
      {"user", 0, 1, 1, 5, "sum"}, {"tags", 1, 3, 10, 15, "mean"}, {"item", 4, 1, 5, 10, "sum"}};
  c.num_ids = 15;
  c.embed_dim = 4;
  c.hidden = {6};
  c.embed_fields = {"user", "tags"};
  models::CTRModel m(c);
  const train::ModelSummary s = train::summarize(m, {2, 5}, 8, "adam");
  ASSERT_EQ(s.layers.size(), 1u);
  EXPECT_EQ(s.layers[0].output_shape, (std::vector<int64_t>{1}));
  const int64_t dnn = 2 * (2 * 4) * 6 + 2 * 6 * 1;  // 8 -> 6 -> 1
  const int64_t lookups = 2 * 5 + 2 * 4 * (1 + 3);  // first order, then user and tags
  EXPECT_EQ(s.flops_per_sample, dnn + lookups + 3 * 2 * 4);
  EXPECT_EQ(s.activation_bytes, (6 + 1 + 2 * 4) * 8 * 4);
  EXPECT_EQ(s.total_params, 15 + 1 + 15 * 4 + (8 * 6 + 6) + (6 + 1));
}
