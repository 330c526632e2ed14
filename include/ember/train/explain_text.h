// Explanations of a BERT text classifier: attention maps and integrated gradients per token.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::data {
class Tokenizer;
}
namespace ember::models {
class BertForSequenceClassification;
}

namespace ember::train {

/// What a BERT classifier did with one passage.
struct TextExplanation {
  std::vector<std::string> tokens;  ///< "[CLS]" and the passage's tokens (no padding), as text
  std::vector<double> probs;        ///< class probabilities
  int64_t predicted = 0, target = 0;
  std::vector<Tensor> attentions;    ///< per layer: (heads, n, n) attention probabilities
  std::vector<double> attributions;  ///< integrated gradients per token, summed over the hidden
                                     ///< size ([CLS] first; it is never replaced, so 0)
  double attribution_sum = 0;        ///< sum of attributions
  double logit_gap = 0;              ///< logit(passage) - logit(baseline): what the sum estimates
};

/// Explains the model's logit of class `target` (-1: the predicted class) for one passage ids
/// (T) int64 as prepare_text_classes_data makes it ([CLS], tokens, [PAD]s; [PAD] =
/// tok.vocab_size()). Integrated gradients integrate from a baseline that replaces every token
/// but [CLS] by the zero embedding (the [PAD] row) to the passage, in the word-embedding space,
/// with `steps` midpoints. Runs in eval mode; leaves the model's mode and gradients as they were.
TextExplanation explain_text(models::BertForSequenceClassification& model,
                             const data::Tokenizer& tok, const Tensor& ids, int64_t target = -1,
                             int64_t steps = 32);

/// Writes the explanation's figures into dir: attention_<name>_head<h>.png, a heat map per head of
/// layer `layer` (negative counts from the last) over the first max_tokens tokens, and
/// attribution_<name>.png, the passage coloured by attribution. Returns (caption, path) of each.
std::vector<std::pair<std::string, std::string>> write_text_explanation(
    const TextExplanation& e, const std::vector<std::string>& classes, int64_t truth,
    const std::string& dir, const std::string& name, int64_t layer = -1, int64_t max_tokens = 40);

}  // namespace ember::train
