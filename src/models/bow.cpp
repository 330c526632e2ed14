// BagOfWords: a token-count logistic regression as a sum of embedding rows.
#include "ember/models/bow.h"

#include "ember/core/error.h"
#include "ember/ops/creation.h"
#include "ember/ops/index.h"
#include "ember/ops/reduce.h"

namespace ember::models {

BagOfWords::BagOfWords(int64_t vocab, int64_t classes, int64_t pad)
    : Module("BagOfWords"), vocab_size(vocab), num_classes(classes), pad_id(pad) {
  EMBER_CHECK(vocab >= 1 && classes >= 1 && pad >= 0 && pad < vocab,
              "BagOfWords: vocab_size = ", vocab, " and num_classes = ", classes,
              " must be >= 1 and pad_id = ", pad, " within the vocabulary");
  weight = register_parameter("weight", zeros({vocab, classes}));
  bias = register_parameter("bias", zeros({classes}));
}

Tensor BagOfWords::forward(const Tensor& ids) {
  EMBER_CHECK_SHAPE(ids.dim() == 2, "BagOfWords: expected token ids (B, T), got ", ids.shape_str());
  // embedding() checks the ids' range; padding_idx keeps the [PAD] row at zero (no gradient).
  return sum(embedding(weight, ids, pad_id), {1}) + bias;  // (B, T, C) -> (B, C)
}

std::string BagOfWords::extra_repr() const {
  return "vocab_size=" + std::to_string(vocab_size) +
         ", num_classes=" + std::to_string(num_classes) + ", pad_id=" + std::to_string(pad_id);
}

}  // namespace ember::models
