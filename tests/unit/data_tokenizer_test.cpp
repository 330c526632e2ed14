// Tokenizers: character-level round trip and errors, the pre-tokenizer by hand, BPE training (a
// hand-checked case, save/reload) and BPE file errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "ember/data/tokenizer.h"
#include "ember/io/file.h"
#include "support/expect.h"
#include "support/tmpdir.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;
using ember::testing::fresh_dir;

namespace {

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view p : pretokenize(text)) out.emplace_back(p);
  return out;
}

std::string small_corpus() {
  std::string s;
  const char* lines[] = {
      "It is a truth universally acknowledged, that a single man in possession of a good fortune, "
      "must be in want of a wife.\n",
      "However little known the feelings or views of such a man may be on his first entering a "
      "neighbourhood, this truth is so well fixed in the minds of the surrounding families.\n",
      "\"My dear Mr. Bennet,\" said his lady to him one day, \"have you heard that Netherfield "
      "Park is let at last?\" Mr. Bennet replied that he had not. I'm sure you'll see.\n",
      "<|endoftext|>", "Café société naïve — 42 times, 3.5 years; ok?\n"};
  for (int rep = 0; rep < 40; ++rep)
    for (const char* l : lines) s += l;
  return s;
}

}  // namespace

TEST(DataTokenizer, CharRoundTripAndSave) {
  const std::string corpus = "hello wörld ✓ 🙂\n";
  const CharTokenizer tok = CharTokenizer::build(corpus);
  EXPECT_EQ(tok.vocab_size(), 12);  // \n space d e h l o r w ö ✓ 🙂
  EXPECT_EQ(tok.chars().front(), U'\n');
  EXPECT_EQ(tok.chars().back(), U'🙂');
  const std::vector<int64_t> ids = tok.encode("wörld 🙂");
  EXPECT_EQ(ids.size(), 7u);
  EXPECT_EQ(tok.decode(ids), "wörld 🙂");
  EXPECT_EQ(tok.decode(tok.encode(corpus)), corpus);

  const auto dir = fresh_dir("data_tokenizer", "char").string();
  tok.save(dir);
  const auto back = load_tokenizer(dir);
  EXPECT_EQ(back->kind(), "char");
  EXPECT_EQ(back->encode(corpus), tok.encode(corpus));
}

TEST(DataTokenizer, CharErrors) {
  const CharTokenizer tok = CharTokenizer::build("abc");
  expect_error<ValueError>([&] { tok.encode("abz"); }, {"'z'", "U+007A", "byte offset 2"});
  expect_error<ValueError>([&] { tok.encode("ab\xff"); }, {"not valid UTF-8", "byte offset 2"});
  expect_error<ValueError>([&] { CharTokenizer::build("ok\xc3"); }, {"byte offset 2"});
  expect_error<ValueError>([&] { CharTokenizer::build(""); }, {"empty"});
  expect_error<IndexError>([&] { tok.decode(std::vector<int64_t>{0, 3}); }, {"id 3", "[0, 3)"});
  expect_error<ValueError>([&] { CharTokenizer({U'a', U'a'}); }, {"appears twice"});

  const auto dir = fresh_dir("data_tokenizer", "char_errors");
  const std::string path = (dir / "tokenizer.json").string();
  io::write_file_atomic(path, R"({"type": "char", "chars": ["a", "bc"]})");
  expect_error<IOError>([&] { CharTokenizer::from_file(path); }, {path, "chars[1]", "\"bc\""});
  io::write_file_atomic(path, R"({"type": "char", "chars": ["a", "a"]})");
  expect_error<IOError>([&] { CharTokenizer::from_file(path); }, {"chars[1] repeats chars[0]"});
  io::write_file_atomic(path, R"({"type": "char", "chars": ["a", )");
  expect_error<IOError>([&] { load_tokenizer(dir.string()); }, {path});
  expect_error<IOError>([&] { load_tokenizer((dir / "nothing").string()); },
                        {"holds no tokenizer", "tokenizer.json", "encoder.json + vocab.bpe"});
}

TEST(DataTokenizer, PretokenizerByHand) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(pieces("I'm  here\n\n x"), (V{"I", "'m", " ", " here", "\n\n", " x"}));
  EXPECT_EQ(pieces("a  "), (V{"a", "  "}));
  EXPECT_EQ(pieces("they'RE we'll"), (V{"they", "'", "RE", " we", "'ll"}));
  EXPECT_EQ(pieces("x1 23!? \t\nz"), (V{"x", "1", " 23", "!?", " \t", "\n", "z"}));
  EXPECT_EQ(pieces("e\u0301t\u00e9 10\u00bd"), (V{"e", "\u0301", "t\u00e9", " 10\u00bd"}));
  EXPECT_EQ(pieces("a\xff\xfe b"), (V{"a", "\xff\xfe", " b"}));
  EXPECT_EQ(pieces(""), V{});
  EXPECT_EQ(pretoken_class(U'\u00a0'), 's');
  EXPECT_EQ(pretoken_class(U'\ufeff'), 's');
  EXPECT_EQ(pretoken_class(U'\u0085'), 'o');  // NEL: White_Space, but not JavaScript's \s
  EXPECT_EQ(pretoken_class(U'\u4e2d'), 'L');
  EXPECT_EQ(pretoken_class(U'\u0663'), 'N');
}

// The classic example: "aaabdaaabac" is one word. Pair counts aa 4 (overlapping), ab 2, then after
// "a a": (aa a) 2 and (a b) 2 tie and (a b) has the smaller ids (byte ids < merge ids); then
// (aa ab) 2. Encoding gives aaab d aaab a c.
TEST(DataTokenizer, BpeTrainHandChecked) {
  const BpeTokenizer tok = BpeTokenizer::train("aaabdaaabac", 259, {});
  ASSERT_EQ(tok.merges().size(), 3u);
  auto text = [&](std::pair<int32_t, int32_t> m) {
    return tok.token_bytes(m.first) + " " + tok.token_bytes(m.second);
  };
  EXPECT_EQ(text(tok.merges()[0]), "a a");
  EXPECT_EQ(text(tok.merges()[1]), "a b");
  EXPECT_EQ(text(tok.merges()[2]), "aa ab");
  const std::vector<int64_t> ids = tok.encode("aaabdaaabac");
  std::vector<std::string> got;
  for (int64_t id : ids) got.push_back(tok.token_bytes(id));
  EXPECT_EQ(got, (std::vector<std::string>{"aaab", "d", "aaab", "a", "c"}));
  EXPECT_EQ(tok.token_id("aaab"), 258);
  EXPECT_EQ(tok.token_id("a"), 'a' - '!');  // GPT-2's byte order: '!' is id 0
  expect_error<ValueError>([&] { BpeTokenizer::train("abc", 256); }, {"vocab_size", ">= 257"});
}

TEST(DataTokenizer, BpeTrainSaveReload) {
  const std::string corpus = small_corpus();
  const BpeTokenizer tok = BpeTokenizer::train(corpus, 400);
  EXPECT_EQ(tok.vocab_size(), 400);
  EXPECT_EQ(tok.merges().size(), 400u - 257u);
  EXPECT_EQ(tok.special_tokens()[0], std::make_pair(std::string("<|endoftext|>"), int64_t{399}));
  const std::vector<int64_t> ids = tok.encode(corpus, true);
  EXPECT_LT(ids.size(), corpus.size() / 2);  // merges compress the text it learned
  EXPECT_EQ(tok.decode(ids), corpus);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 399), 40);
  EXPECT_EQ(tok.merges(), BpeTokenizer::train(corpus, 400).merges());  // deterministic

  const auto dir = fresh_dir("data_tokenizer", "bpe_train").string();
  tok.save(dir);
  const auto back = load_tokenizer(dir);
  EXPECT_EQ(back->kind(), "bpe");
  EXPECT_EQ(back->vocab_size(), 400);
  const auto& bpe = dynamic_cast<const BpeTokenizer&>(*back);
  EXPECT_EQ(bpe.merges(), tok.merges());
  EXPECT_EQ(bpe.encode(corpus, true), ids);
  const std::string other = "Netherfield is naïve\xff\xfe, 12345 🙂";
  EXPECT_EQ(bpe.encode(other), tok.encode(other));
  EXPECT_EQ(bpe.decode(bpe.encode(other)), other);
}

TEST(DataTokenizer, BpeFileErrors) {
  const auto dir = fresh_dir("data_tokenizer", "bpe_errors");
  BpeTokenizer::train("abab abab cd", 260, {"<|endoftext|>"}).save(dir.string());
  const std::string enc = (dir / "encoder.json").string(), bpe = (dir / "vocab.bpe").string();
  const std::string good_enc = io::read_file(enc), good_bpe = io::read_file(bpe);
  auto load = [&] { BpeTokenizer::from_files(enc, bpe); };
  load();

  io::write_file_atomic(bpe, good_bpe + "a b c\n");
  expect_error<IOError>(load, {bpe, ":5", "two tokens"});
  io::write_file_atomic(bpe, good_bpe + "a \xc4\xa4\xc4\xa4\n");
  expect_error<IOError>(load, {bpe, ":5", "not in", enc});
  io::write_file_atomic(bpe, good_bpe + "a d\n");
  expect_error<IOError>(load, {":5", "the merge result \"ad\""});
  io::write_file_atomic(bpe, good_bpe + good_bpe.substr(good_bpe.find('\n') + 1));
  expect_error<IOError>(load, {":5", "repeats the merge of line 2"});
  io::write_file_atomic(bpe, good_bpe);

  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good_enc;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    io::write_file_atomic(enc, s.replace(at, from.size(), to));
  };
  with("\"<|endoftext|>\":259", "\"<|endoftext|>\":0");
  expect_error<IOError>(load, {enc, "the same id 0"});
  with("\"<|endoftext|>\":259", "\"<|endoftext|>\":900");
  expect_error<IOError>(load, {enc, "<|endoftext|>", "id 900", "[0, 260)"});
  with("\"<|endoftext|>\":259", "\"<|endoftext|>\":\"x\"");
  expect_error<IOError>(load, {enc, "must be an integer"});
  with("\"!\":0,", "");
  expect_error<IOError>(load, {enc});
  io::write_file_atomic(enc, good_enc.substr(0, good_enc.size() / 2));
  expect_error<IOError>(load, {enc, "JSON parse error"});
  io::write_file_atomic(enc, "[1, 2]");
  expect_error<IOError>(load, {enc, "expected a JSON object"});
  std::filesystem::remove(enc);
  expect_error<IOError>(load, {enc, "not found"});
}
