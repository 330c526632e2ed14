// BagOfWords: logistic regression on token counts, the baseline of text classification.
#pragma once

#include <cstdint>
#include <string>

#include "ember/nn/module.h"

namespace ember::models {

/// Multinomial logistic regression on bag-of-words counts: logits = counts(ids) · weight + bias,
/// where counts(ids) is the (V) vector of how often each token occurs in a passage. It is computed
/// as the sum of the weight rows of the passage's tokens, without building the count vectors.
/// Tokens equal to pad_id are not counted. Weights start at zero, as logistic regression does.
class BagOfWords : public nn::Module {
 public:
  BagOfWords(int64_t vocab_size, int64_t num_classes, int64_t pad_id);
  /// ids: (B, T) int64 in [0, vocab_size) -> logits (B, num_classes)
  Tensor forward(const Tensor& ids) override;
  std::string extra_repr() const override;

  int64_t vocab_size, num_classes, pad_id;
  Tensor weight;  ///< (vocab_size, num_classes)
  Tensor bias;    ///< (num_classes)
};

}  // namespace ember::models
