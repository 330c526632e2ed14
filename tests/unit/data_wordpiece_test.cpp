// data/wordpiece: BertTokenizer's basic tokenization and WordPiece pieces on the hand-checked
// cases of Hugging Face's own tests (tests/models/bert/test_tokenization_bert.py), pairs,
// decode, vocab.txt round trips and errors.
#include <gtest/gtest.h>

#include <fstream>

#include "ember/core/error.h"
#include "ember/data/tokenizer.h"
#include "ember/data/wordpiece.h"
#include "ember/io/file.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using ember::testing::expect_error;
using Strings = std::vector<std::string>;

namespace {

// HF's test vocabulary.
data::WordPieceTokenizer hf_vocab(bool lower = true) {
  return data::WordPieceTokenizer({"[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "want", "##want",
                                   "##ed", "wa", "un", "runn", "##ing", ",", "low", "lowest"},
                                  lower);
}

// A vocabulary of every word the basic-tokenizer cases produce, so tokenize shows their split.
data::WordPieceTokenizer words(bool lower) {
  return data::WordPieceTokenizer(
      {"[UNK]", "[CLS]", "[SEP]", "hello", "HeLLo", "!", "how", "are", "Are", "you", "yoU", "?",
       "ah", "zz", "\u535A", "\u63A8", "cafe", "uber", "\u0438\u0432\u0430\u043D"},
      lower);
}

}  // namespace

TEST(DataWordPiece, FullTokenizerAsHuggingFace) {
  const data::WordPieceTokenizer tok = hf_vocab();
  EXPECT_EQ(tok.tokenize("UNwant\u00E9d,running"),
            (Strings{"un", "##want", "##ed", ",", "runn", "##ing"}));
  EXPECT_EQ(tok.encode("UNwant\u00E9d,running"), (std::vector<int64_t>{9, 6, 7, 12, 10, 11}));
  EXPECT_EQ(tok.tokenize(""), Strings{});
  EXPECT_EQ(tok.tokenize("unwanted running"), (Strings{"un", "##want", "##ed", "runn", "##ing"}));
  // A word with an unmatched part is one [UNK].
  EXPECT_EQ(tok.tokenize("unwantedX running"), (Strings{"[UNK]", "runn", "##ing"}));
  EXPECT_EQ(tok.tokenize("lowest low"), (Strings{"lowest", "low"}));  // longest match first
  EXPECT_EQ(tok.tokenize(std::string(101, 'a')), Strings{"[UNK]"});   // too long a word
  EXPECT_EQ(tok.vocab_size(), 15);
  EXPECT_EQ(tok.kind(), "wordpiece");
  EXPECT_EQ(tok.cls_id(), 1);
  EXPECT_EQ(tok.sep_id(), 2);
  EXPECT_EQ(tok.pad_id(), 3);
  EXPECT_EQ(tok.unk_id(), 0);
}

TEST(DataWordPiece, BasicTokenizerAsHuggingFace) {
  const data::WordPieceTokenizer lower = words(true), cased = words(false);
  EXPECT_EQ(lower.tokenize(" \tHeLLo!how  \n Are yoU?  "),
            (Strings{"hello", "!", "how", "are", "you", "?"}));
  EXPECT_EQ(cased.tokenize(" \tHeLLo!how  \n Are yoU?  "),
            (Strings{"HeLLo", "!", "how", "Are", "yoU", "?"}));
  EXPECT_EQ(lower.tokenize("H\u00E9llo"), Strings{"hello"});   // accents stripped
  EXPECT_EQ(lower.tokenize("He\u0301llo"), Strings{"hello"});  // combining accent dropped
  EXPECT_EQ(cased.tokenize("H\u00E9llo"), Strings{"[UNK]"});   // kept when cased
  EXPECT_EQ(lower.tokenize("ah\u535A\u63A8zz"), (Strings{"ah", "\u535A", "\u63A8", "zz"}));
  EXPECT_EQ(lower.tokenize("CAF\u00C9 \u00DCber"), (Strings{"cafe", "uber"}));
  EXPECT_EQ(lower.tokenize("\u0418\u0412\u0410\u041D"), Strings{"\u0438\u0432\u0430\u043D"});
  // Controls and invalid bytes are dropped; Unicode spaces split; Unicode punctuation splits.
  EXPECT_EQ(lower.tokenize("hel\x05lo\u00A0how\u2014you\xff"),
            (Strings{"hello", "how", "[UNK]", "you"}));
}

TEST(DataWordPiece, SpecialTokensAreNeverSplit) {
  const data::WordPieceTokenizer tok = hf_vocab();
  EXPECT_EQ(tok.tokenize("[CLS]unwanted[SEP] [MASK]running"),
            (Strings{"[CLS]", "un", "##want", "##ed", "[SEP]", "[MASK]", "runn", "##ing"}));
}

TEST(DataWordPiece, PairsTruncationAndDecode) {
  const data::WordPieceTokenizer tok = hf_vocab();
  const auto one = tok.encode_for_model("unwanted");
  EXPECT_EQ(one.input_ids, (std::vector<int64_t>{1, 9, 6, 7, 2}));
  EXPECT_EQ(one.token_type_ids, (std::vector<int64_t>(5, 0)));
  const auto two = tok.encode_for_model("unwanted", "running");
  EXPECT_EQ(two.input_ids, (std::vector<int64_t>{1, 9, 6, 7, 2, 10, 11, 2}));
  EXPECT_EQ(two.token_type_ids, (std::vector<int64_t>{0, 0, 0, 0, 0, 1, 1, 1}));
  // longest_first: the longer text loses its last pieces first.
  const auto cut = tok.encode_for_model("unwanted", "running", 6);
  // (ties cut the second text, as HF's truncate_sequences).
  EXPECT_EQ(cut.input_ids, (std::vector<int64_t>{1, 9, 6, 2, 10, 2}));
  EXPECT_EQ(cut.token_type_ids, (std::vector<int64_t>{0, 0, 0, 0, 1, 1}));
  expect_error<ValueError>([&] { tok.encode_for_model("a", "b", 2); }, {"max_length = 2"});

  EXPECT_EQ(tok.decode(two.input_ids), "[CLS] unwanted [SEP] running [SEP]");
  const std::vector<int64_t> bad{3, 99};
  expect_error<IndexError>([&] { tok.decode(bad); }, {"99", "vocab_size = 15"});
}

TEST(DataWordPiece, VocabFileRoundTripAndErrors) {
  const auto dir = ember::testing::fresh_dir("wordpiece", "vocab");
  const data::WordPieceTokenizer tok = hf_vocab();
  tok.save(dir.string());
  const data::WordPieceTokenizer back =
      data::WordPieceTokenizer::from_file((dir / "vocab.txt").string());
  EXPECT_EQ(back.vocab(), tok.vocab());
  EXPECT_EQ(back.encode("UNwant\u00E9d,running"), tok.encode("UNwant\u00E9d,running"));
  const auto loaded = data::load_tokenizer(dir.string());  // a folder with vocab.txt
  EXPECT_EQ(loaded->kind(), "wordpiece");
  EXPECT_EQ(loaded->encode("UNwant\u00E9d,running"), tok.encode("UNwant\u00E9d,running"));

  io::write_file_atomic((dir / "crlf.txt").string(), "[UNK]\r\nwant\r\n##ed\r\n");
  EXPECT_EQ(data::WordPieceTokenizer::from_file((dir / "crlf.txt").string()).encode("wanted"),
            (std::vector<int64_t>{1, 2}));
  io::write_file_atomic((dir / "no_unk.txt").string(), "want\n##ed\n");
  expect_error<IOError>([&] { data::WordPieceTokenizer::from_file((dir / "no_unk.txt").string()); },
                        {"no_unk.txt", "[UNK]"});
  io::write_file_atomic((dir / "bad.txt").string(), "[UNK]\nw\xc3\n");
  expect_error<IOError>([&] { data::WordPieceTokenizer::from_file((dir / "bad.txt").string()); },
                        {"bad.txt", "line 2", "UTF-8"});
  expect_error<IOError>(
      [&] { data::WordPieceTokenizer::from_file((dir / "missing.txt").string()); },
      {"missing.txt"});
}
