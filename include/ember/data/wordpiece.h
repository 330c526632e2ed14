// WordPiece: BERT's tokenizer (Hugging Face's BertTokenizer over a vocab.txt): basic tokenization
// (cleaning, lower-casing, accent stripping, punctuation and CJK splitting), then greedy
// longest-match-first "##" pieces.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ember/data/tokenizer.h"

namespace ember::data {

/// BertTokenizer. Lower-casing and accent stripping (NFD, marks dropped) cover Latin-1, Latin
/// Extended-A, Greek and Cyrillic; other scripts pass through unchanged. Punctuation is ASCII's
/// plus the common Unicode punctuation blocks. The special tokens ([CLS], [SEP], [PAD], [UNK],
/// [MASK]) are never split or lower-cased.
class WordPieceTokenizer : public Tokenizer {
 public:
  /// vocab: the tokens in id order (vocab.txt's lines); must hold [UNK].
  explicit WordPieceTokenizer(std::vector<std::string> vocab, bool do_lower_case = true);
  /// Reads vocab.txt (one token per line; errors name the file and the line).
  static WordPieceTokenizer from_file(const std::string& vocab_txt, bool do_lower_case = true);

  /// The pieces of text, e.g. "UNwant\u00E9d,running" -> un ##want ##ed , runn ##ing.
  std::vector<std::string> tokenize(std::string_view text) const;
  /// The ids of tokenize(text), without [CLS] / [SEP].
  std::vector<int64_t> encode(std::string_view text) const override;
  /// As BertTokenizer(a, b): [CLS] a [SEP] (b [SEP]); token types 0 for a's part, 1 for b's.
  /// max_length > 0 truncates the longer text first ("longest_first") to fit.
  struct Encoding {
    std::vector<int64_t> input_ids, token_type_ids;
  };
  Encoding encode_for_model(std::string_view a, std::string_view b = {},
                            int64_t max_length = 0) const;
  /// The tokens joined by spaces with "##" continuations glued (HF's convert_tokens_to_string).
  std::string decode(std::span<const int64_t> ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.size()); }
  /// Writes vocab.txt.
  void save(const std::string& dir) const override;
  std::string kind() const override { return "wordpiece"; }

  /// The id of token, or -1.
  int64_t token_id(std::string_view token) const;
  const std::vector<std::string>& vocab() const { return vocab_; }
  bool do_lower_case() const { return lower_; }
  int64_t cls_id() const { return cls_; }
  int64_t sep_id() const { return sep_; }
  int64_t pad_id() const { return pad_; }
  int64_t unk_id() const { return unk_; }

 private:
  std::vector<std::string> basic_tokens(std::string_view text) const;
  void word_pieces(const std::string& word, std::vector<std::string>& out) const;

  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int64_t> ids_;
  bool lower_;
  int64_t cls_ = -1, sep_ = -1, pad_ = -1, unk_ = -1;
};

}  // namespace ember::data
