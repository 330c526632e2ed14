// Numbers and their English words ("4071" <-> "four thousand seventy-one"): the conversions and a
// translation task (vocabulary, sampler, held-out test sets, padded batches) for seq2seq models.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ember/core/generator.h"
#include "ember/core/tensor.h"

namespace ember::data {

/// The largest number the conversions accept.
inline constexpr int64_t kMaxNumberWords = 999'999'999;

/// American English words of n in [0, 999,999,999], without "and", tens and ones hyphenated:
/// 0 -> "zero", 4071 -> "four thousand seventy-one", 100000000 -> "one hundred million".
/// Throws ValueError outside the range.
std::string number_to_words(int64_t n);

/// The strict inverse of number_to_words: words_to_number(number_to_words(n)) == n, and every
/// other string (extra spaces, capitals, "and", "one thousand thousand", "twenty one", ...) throws
/// ValueError naming the offending word and its 1-based position.
int64_t words_to_number(const std::string& words);

/// Splits words into tokens: words at spaces, and "-" as a token of its own
/// ("seventy-one" -> "seventy", "-", "one"). Does not validate.
std::vector<std::string> split_number_words(const std::string& words);

/// Which way a sequence is translated.
enum class TranslationDirection { ToWords, ToNumber };

/// "to_words" or "to_number".
const char* direction_name(TranslationDirection d);

/// One padded batch of a seq2seq task.
struct Seq2SeqBatch {
  Tensor src;      ///< (B, S) int64 source tokens, right-padded with pad
  Tensor tgt_in;   ///< (B, T) int64: bos, then the target tokens (teacher forcing input)
  Tensor tgt_out;  ///< (B, T) int64: the target tokens, then eos; pad after (ignore it in the loss)
};

/// Number <-> words translation with one shared vocabulary:
///   0 <pad>, 1 <bos>, 2 <eos>, 3 <to_words>, 4 <to_number>, the digits "0".."9", the 31 number
///   words and "-" (the hyphen of "seventy-one" is a token).
/// A source is [direction token, tokens..., <eos>]; a target is [tokens..., <eos>] (a number is
/// written digit by digit, words as split_number_words tokens). The held-out test sets (1,000
/// numbers per direction by default, disjoint, drawn once from the seed) have a digit count
/// uniform in 3..9: 0..99 are the vocabulary's atoms and cannot be held out. The training sampler
/// draws a digit count uniform in 1..9, then a number of that many digits, redrawn (same digit
/// count) while it is a held-out number of either set.
class NumberWordsTask {
 public:
  static constexpr int64_t kPad = 0, kBos = 1, kEos = 2, kToWords = 3, kToNumber = 4;

  explicit NumberWordsTask(uint64_t seed = 2024, int64_t test_size = 1000);

  int64_t vocab_size() const { return static_cast<int64_t>(tokens_.size()); }
  /// The text of token id ("<pad>", "7", "seventy", "-"); IndexError when out of range.
  const std::string& token_text(int64_t id) const;
  /// The id of a token's text; ValueError for an unknown token.
  int64_t token_id(const std::string& text) const;

  /// Digit tokens of n: 4071 -> ids of "4", "0", "7", "1".
  std::vector<int64_t> number_tokens(int64_t n) const;
  /// Word tokens of n's words: 71 -> ids of "seventy", "-", "one".
  std::vector<int64_t> word_tokens(int64_t n) const;
  /// Joins tokens back into text (stops at <eos>): digits without spaces, words with spaces and
  /// hyphens between tens and ones. Special tokens other than <eos> are written as their text.
  std::string detokenize(const std::vector<int64_t>& ids) const;

  /// [direction token, tokens of n in the source language, <eos>].
  std::vector<int64_t> source(int64_t n, TranslationDirection d) const;
  /// [tokens of n in the target language, <eos>].
  std::vector<int64_t> target(int64_t n, TranslationDirection d) const;
  /// The expected output text for n: its words (ToWords) or its decimal digits (ToNumber).
  std::string target_text(int64_t n, TranslationDirection d) const;

  /// A training number: digit count uniform in 1..9, never a held-out number.
  int64_t sample_train_number(Generator& gen) const;
  /// The held-out numbers of a direction (fixed by the seed).
  const std::vector<int64_t>& test_numbers(TranslationDirection d) const;
  bool is_held_out(int64_t n) const { return held_out_.contains(n); }

  /// Padded sources and targets of numbers[i] translated in dirs[i] (equal lengths).
  Seq2SeqBatch make_batch(const std::vector<int64_t>& numbers,
                          const std::vector<TranslationDirection>& dirs) const;
  /// Right-pads sequences with <pad> into a (B, max length) int64 tensor.
  static Tensor pad_batch(const std::vector<std::vector<int64_t>>& seqs);

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<int64_t> test_words_, test_number_;
  std::unordered_set<int64_t> held_out_;
};

/// A number with digit count uniform in [min_digits, max_digits] (1 <= min <= max <= 9), then
/// uniform among the numbers with that many digits (1 digit includes 0).
int64_t sample_number_by_digits(Generator& gen, int min_digits = 1, int max_digits = 9);

}  // namespace ember::data
