// data/number_words: numbers <-> English words by hand-checked cases, round trips and errors, and
// the translation task (vocabulary, held-out sets, sampler, batches).
#include "ember/data/number_words.h"

#include <gtest/gtest.h>

#include <set>

#include "ember/ember.h"
#include "support/expect.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;

TEST(DataNumberWords, HandCheckedCases) {
  const std::vector<std::pair<int64_t, std::string>> cases = {
      {0, "zero"},
      {7, "seven"},
      {13, "thirteen"},
      {15, "fifteen"},
      {19, "nineteen"},
      {20, "twenty"},
      {21, "twenty-one"},
      {40, "forty"},
      {99, "ninety-nine"},
      {100, "one hundred"},
      {101, "one hundred one"},
      {110, "one hundred ten"},
      {118, "one hundred eighteen"},
      {999, "nine hundred ninety-nine"},
      {1000, "one thousand"},
      {1001, "one thousand one"},
      {4071, "four thousand seventy-one"},
      {12345, "twelve thousand three hundred forty-five"},
      {100000, "one hundred thousand"},
      {1000000, "one million"},
      {1000010, "one million ten"},
      {20300405, "twenty million three hundred thousand four hundred five"},
      {100000000, "one hundred million"},
      {999999999,
       "nine hundred ninety-nine million nine hundred ninety-nine thousand nine hundred "
       "ninety-nine"},
  };
  for (const auto& [n, words] : cases) {
    EXPECT_EQ(number_to_words(n), words) << n;
    EXPECT_EQ(words_to_number(words), n) << words;
  }
}

TEST(DataNumberWords, RoundTripExhaustiveSmallAndRandomLarge) {
  for (int64_t n = 0; n <= 20000; ++n) ASSERT_EQ(words_to_number(number_to_words(n)), n) << n;
  Generator gen(7);
  std::set<int64_t> numbers;
  std::set<std::string> words;
  for (int i = 0; i < 100000; ++i) {
    const int64_t n = i % 2 ? static_cast<int64_t>(gen.next_below(kMaxNumberWords + 1))
                            : sample_number_by_digits(gen);
    const std::string w = number_to_words(n);
    ASSERT_EQ(words_to_number(w), n) << w;
    if (i < 5000) numbers.insert(n), words.insert(w);
  }
  EXPECT_EQ(words.size(), numbers.size());  // different numbers, different words
  EXPECT_GT(numbers.size(), 4000u);
}

TEST(DataNumberWords, Errors) {
  expect_error<ValueError>([] { number_to_words(-1); }, {"number_to_words", "-1", "outside"});
  expect_error<ValueError>([] { number_to_words(1000000000); }, {"1000000000"});
  expect_error<ValueError>([] { words_to_number(""); }, {"empty"});
  expect_error<ValueError>([] { words_to_number("twenty one"); }, {"'one'", "position 2"});
  expect_error<ValueError>([] { words_to_number("one thousand thousand"); },
                           {"'thousand'", "position 3"});
  expect_error<ValueError>([] { words_to_number("one hundred and one"); },
                           {"unknown word 'and'", "position 3"});
  expect_error<ValueError>([] { words_to_number("One"); }, {"unknown word 'One'", "position 1"});
  expect_error<ValueError>([] { words_to_number("one  hundred"); }, {"empty word", "position 2"});
  expect_error<ValueError>([] { words_to_number("zero zero"); }, {"'zero'", "position 1"});
  expect_error<ValueError>([] { words_to_number("one million zero"); }, {"'zero'", "position 3"});
  expect_error<ValueError>([] { words_to_number("seventy-zero"); }, {"'seventy-zero'", "hyphen"});
  expect_error<ValueError>([] { words_to_number("twenty-one-two"); }, {"'twenty-one-two'"});
  expect_error<ValueError>([] { words_to_number("thousand"); }, {"'thousand'", "position 1"});
  expect_error<ValueError>([] { words_to_number("ten hundred"); }, {"'ten'", "position 1"});
  expect_error<ValueError>([] { words_to_number("twenty-one hundred"); },
                           {"'twenty-one'", "position 1"});
  expect_error<ValueError>([] { words_to_number("one thousand one million"); },
                           {"'million'", "position 4", "decrease"});
  expect_error<ValueError>([] { words_to_number("one hundred one hundred"); },
                           {"'hundred'", "position 4"});
  expect_error<ValueError>([] { words_to_number("one thousand "); }, {"empty word", "position 3"});
}

TEST(DataNumberWords, SplitAndVocabulary) {
  EXPECT_EQ(split_number_words("four thousand seventy-one"),
            (std::vector<std::string>{"four", "thousand", "seventy", "-", "one"}));
  const NumberWordsTask task;
  // 5 specials, 10 digits, 20 ones/teens, 8 tens, hundred/thousand/million and "-".
  EXPECT_EQ(task.vocab_size(), 47);
  EXPECT_EQ(task.token_text(NumberWordsTask::kEos), "<eos>");
  EXPECT_EQ(task.token_text(task.token_id("seventy")), "seventy");
  expect_error<ValueError>([&] { task.token_id("and"); }, {"unknown token 'and'"});
  expect_error<IndexError>([&] { task.token_text(47); }, {"47", "outside"});

  const auto d = TranslationDirection::ToWords;
  const std::vector<int64_t> src = task.source(4071, d), tgt = task.target(4071, d);
  EXPECT_EQ(src,
            (std::vector<int64_t>{NumberWordsTask::kToWords, task.token_id("4"), task.token_id("0"),
                                  task.token_id("7"), task.token_id("1"), NumberWordsTask::kEos}));
  EXPECT_EQ(tgt.size(), 6u);
  EXPECT_EQ(tgt.back(), NumberWordsTask::kEos);
  EXPECT_EQ(task.detokenize(tgt), "four thousand seventy-one");
  EXPECT_EQ(task.detokenize(task.target(4071, TranslationDirection::ToNumber)), "4071");
  EXPECT_EQ(task.source(4071, TranslationDirection::ToNumber).front(), NumberWordsTask::kToNumber);
  Generator gen(3);
  for (int i = 0; i < 2000; ++i) {
    const int64_t n = sample_number_by_digits(gen);
    for (auto dir : {TranslationDirection::ToWords, TranslationDirection::ToNumber})
      ASSERT_EQ(task.detokenize(task.target(n, dir)), task.target_text(n, dir)) << n;
  }
}

TEST(DataNumberWords, HeldOutSetsAndSampler) {
  const NumberWordsTask task(11);
  const auto& a = task.test_numbers(TranslationDirection::ToWords);
  const auto& b = task.test_numbers(TranslationDirection::ToNumber);
  ASSERT_EQ(a.size(), 1000u);
  ASSERT_EQ(b.size(), 1000u);
  std::set<int64_t> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 2000u);  // distinct within and across the directions
  std::vector<int> digits_seen(10, 0);
  for (int64_t n : all) {
    EXPECT_GE(n, 100);
    EXPECT_LE(n, kMaxNumberWords);
    ++digits_seen[std::to_string(n).size()];
  }
  for (int d = 3; d <= 9; ++d) EXPECT_GT(digits_seen[static_cast<size_t>(d)], 200) << d;
  // Same seed, same sets; another seed, other sets.
  EXPECT_EQ(NumberWordsTask(11).test_numbers(TranslationDirection::ToWords), a);
  EXPECT_NE(NumberWordsTask(12).test_numbers(TranslationDirection::ToWords), a);

  Generator gen(5);
  std::vector<int> train_digits(10, 0);
  std::set<int64_t> one_digit;
  for (int i = 0; i < 90000; ++i) {
    const int64_t n = task.sample_train_number(gen);
    ASSERT_FALSE(task.is_held_out(n)) << n;
    ++train_digits[std::to_string(n).size()];
    if (n < 10) one_digit.insert(n);
  }
  EXPECT_EQ(one_digit.size(), 10u);  // 0..9 all seen
  for (int d = 1; d <= 9; ++d) {     // about 10,000 each
    EXPECT_GT(train_digits[static_cast<size_t>(d)], 9300) << d;
    EXPECT_LT(train_digits[static_cast<size_t>(d)], 10700) << d;
  }
}

TEST(DataNumberWords, Batches) {
  const NumberWordsTask task;
  const Seq2SeqBatch batch =
      task.make_batch({7, 4071}, {TranslationDirection::ToWords, TranslationDirection::ToNumber});
  // sources: [<to_words> 7 <eos>] and [<to_number> four thousand seventy - one <eos>]
  EXPECT_EQ(batch.src.shape(), (Shape{2, 7}));
  EXPECT_EQ(batch.tgt_in.shape(), (Shape{2, 5}));
  EXPECT_EQ(batch.tgt_out.shape(), (Shape{2, 5}));
  const auto src = batch.src.to_vector<int64_t>();
  EXPECT_EQ(src[3], NumberWordsTask::kPad);
  const auto tin = batch.tgt_in.to_vector<int64_t>(), tout = batch.tgt_out.to_vector<int64_t>();
  // row 0: in [<bos> seven <pad>...], out [seven <eos> <pad>...]
  EXPECT_EQ(tin[0], NumberWordsTask::kBos);
  EXPECT_EQ(tin[1], task.token_id("seven"));
  EXPECT_EQ(tin[2], NumberWordsTask::kPad);
  EXPECT_EQ(tout[0], task.token_id("seven"));
  EXPECT_EQ(tout[1], NumberWordsTask::kEos);
  EXPECT_EQ(tout[2], NumberWordsTask::kPad);
  // row 1: the target shifted by one
  for (int t = 1; t < 5; ++t)
    EXPECT_EQ(tin[5 + static_cast<size_t>(t)], tout[4 + static_cast<size_t>(t)]);
  EXPECT_EQ(tout[9], NumberWordsTask::kEos);
  expect_error<ValueError>(
      [&] {
        task.make_batch({1, 2}, {TranslationDirection::ToWords});
      },
      {"make_batch", "2 numbers and 1 directions"});
}
