// The model zoo's entry point: the model a [model] config describes, whatever its family.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ember/data/preprocess.h"
#include "ember/models/bert.h"
#include "ember/models/gpt.h"
#include "ember/models/vision.h"
#include "ember/nn/module.h"
#include "ember/train/config.h"

namespace ember::models {

/// The GPTConfig of a model.type = "gpt" config over a vocabulary of vocab_size tokens.
GPTConfig gpt_config(const train::ModelConfig& cfg, int64_t vocab_size);

/// The BertConfig of a model.type = "bert" config: a vocabulary of vocab_size tokens whose last
/// three are [PAD], [CLS] and [MASK], intermediate size 4 n_embd, block_size positions,
/// num_labels classes.
BertConfig bert_config(const train::ModelConfig& cfg, int64_t vocab_size, int64_t num_labels);

/// The model of cfg for inputs of per-sample shape input_shape and out_features outputs:
/// gpt (input_shape (block_size), out_features = vocab size), bert and bow (text classes:
/// out_features = classes, vocab_size = tokens + [PAD] + [CLS] + [MASK]), bert_mlm
/// (out_features = vocab_size) or models::build_model.
std::shared_ptr<nn::Module> create_model(const train::ModelConfig& cfg,
                                         const std::vector<int64_t>& input_shape,
                                         int64_t out_features, int64_t vocab_size = 0);
/// The model of cfg for data prepared by pre (its input shape, vocabulary or fields):
/// the above, or a models::CTRModel (logistic, fm, deepfm, wide_deep) for CTR fields.
std::shared_ptr<nn::Module> create_model(const train::ModelConfig& cfg,
                                         const data::Preprocessor& pre, int64_t out_features);

}  // namespace ember::models
