// create_model: one entry point from a [model] config to any model of the zoo.
#include "ember/models/models.h"

namespace ember::models {

GPTConfig gpt_config(const train::ModelConfig& cfg, int64_t vocab_size) {
  GPTConfig g;
  g.vocab_size = vocab_size;
  g.block_size = cfg.block_size;
  g.n_layer = cfg.n_layer;
  g.n_head = cfg.n_head;
  g.n_embd = cfg.n_embd;
  g.dropout = cfg.dropout;
  g.bias = cfg.bias;
  return g;
}

std::shared_ptr<nn::Module> create_model(const train::ModelConfig& cfg,
                                         const std::vector<int64_t>& input_shape,
                                         int64_t out_features) {
  if (cfg.type == "gpt") return std::make_shared<GPT>(gpt_config(cfg, out_features));
  return build_model(cfg, input_shape, out_features);
}

}  // namespace ember::models
