// Numbers and their English words: conversion both ways and the number <-> words translation task.
#include "ember/data/number_words.h"

#include <array>
#include <cctype>

#include "ember/core/error.h"
#include "ember/ops/creation.h"

namespace ember::data {

namespace {

constexpr std::array<const char*, 20> kOnes = {
    "zero",     "one",     "two",     "three",     "four",     "five",    "six",
    "seven",    "eight",   "nine",    "ten",       "eleven",   "twelve",  "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
constexpr std::array<const char*, 10> kTens = {"",      "",      "twenty",  "thirty", "forty",
                                               "fifty", "sixty", "seventy", "eighty", "ninety"};

// Words of 1..999 (no scale).
std::string group_words(int64_t n) {
  std::string out;
  if (n >= 100) {
    out = std::string(kOnes[static_cast<size_t>(n / 100)]) + " hundred";
    n %= 100;
    if (n == 0) return out;
    out += ' ';
  }
  if (n < 20) return out + kOnes[static_cast<size_t>(n)];
  out += kTens[static_cast<size_t>(n / 10)];
  if (n % 10 != 0) out += std::string("-") + kOnes[static_cast<size_t>(n % 10)];
  return out;
}

// Value of a word in 1..19 or a multiple of ten 20..90; -1 otherwise.
int64_t simple_value(const std::string& w) {
  for (size_t i = 1; i < kOnes.size(); ++i)
    if (w == kOnes[i]) return static_cast<int64_t>(i);
  for (size_t i = 2; i < kTens.size(); ++i)
    if (w == kTens[i]) return static_cast<int64_t>(i) * 10;
  return -1;
}

// Value of a word below one hundred (1..99, "seventy-one" included); -1 when it is not one.
// Throws on a malformed hyphenated word.
int64_t below_hundred_value(const std::string& w, size_t pos) {
  const size_t dash = w.find('-');
  if (dash == std::string::npos) return simple_value(w);
  const std::string tens = w.substr(0, dash), ones = w.substr(dash + 1);
  const int64_t t = simple_value(tens), o = simple_value(ones);
  EMBER_CHECK(t >= 20 && t % 10 == 0 && o >= 1 && o <= 9, "words_to_number: bad word '", w,
              "' at position ", pos, ": a hyphen joins a multiple of ten (twenty..ninety) and ",
              "one..nine, as in 'seventy-one'");
  return t + o;
}

int64_t scale_value(const std::string& w) {
  if (w == "thousand") return 1000;
  if (w == "million") return 1'000'000;
  return -1;
}

bool is_known_word(const std::string& w) {
  return w == "zero" || w == "hundred" || simple_value(w) > 0 || scale_value(w) > 0;
}

}  // namespace

std::string number_to_words(int64_t n) {
  EMBER_CHECK(n >= 0 && n <= kMaxNumberWords, "number_to_words: ", n, " is outside [0, ",
              kMaxNumberWords, "]");
  if (n == 0) return "zero";
  const int64_t millions = n / 1'000'000, thousands = n / 1000 % 1000, units = n % 1000;
  std::string out;
  auto add = [&](int64_t group, const char* scale) {
    if (group == 0) return;
    if (!out.empty()) out += ' ';
    out += group_words(group);
    if (scale[0] != '\0') out += std::string(" ") + scale;
  };
  add(millions, "million");
  add(thousands, "thousand");
  add(units, "");
  return out;
}

int64_t words_to_number(const std::string& words) {
  EMBER_CHECK(!words.empty(), "words_to_number: the text is empty");
  std::vector<std::string> w;
  size_t start = 0;
  while (true) {
    const size_t space = words.find(' ', start);
    w.push_back(
        words.substr(start, space == std::string::npos ? std::string::npos : space - start));
    if (space == std::string::npos) break;
    start = space + 1;
  }
  const size_t k = w.size();
  for (size_t i = 0; i < k; ++i) {
    EMBER_CHECK(!w[i].empty(), "words_to_number: empty word at position ", i + 1,
                " (words are separated by exactly one space) in '", words, "'");
    if (w[i].find('-') == std::string::npos)
      EMBER_CHECK(is_known_word(w[i]), "words_to_number: unknown word '", w[i], "' at position ",
                  i + 1, " in '", words, "'");
  }
  if (k == 1 && w[0] == "zero") return 0;

  int64_t total = 0, last_scale = kMaxNumberWords + 1;
  size_t i = 0;
  while (i < k) {
    // One group: [one..nine "hundred"] [1..99], then an optional scale.
    int64_t group = 0;
    bool any = false;
    if (i + 1 < k && w[i + 1] == "hundred") {
      const int64_t h = simple_value(w[i]);
      EMBER_CHECK(h >= 1 && h <= 9 && w[i].find('-') == std::string::npos,
                  "words_to_number: unexpected word '", w[i], "' at position ", i + 1,
                  " before 'hundred' (expected one..nine) in '", words, "'");
      group = h * 100;
      i += 2;
      any = true;
    }
    if (i < k) {
      const int64_t v = below_hundred_value(w[i], i + 1);
      if (v > 0) {
        group += v;
        ++i;
        any = true;
      }
    }
    EMBER_CHECK(any, "words_to_number: unexpected word '", w[i], "' at position ", i + 1,
                w[i] == "zero" ? " ('zero' only stands alone)" : " (expected a number word)",
                " in '", words, "'");
    if (i == k) {
      total += group;
      break;
    }
    const int64_t s = scale_value(w[i]);
    EMBER_CHECK(s > 0, "words_to_number: unexpected word '", w[i], "' at position ", i + 1,
                " (expected 'thousand', 'million' or the end) in '", words, "'");
    EMBER_CHECK(s < last_scale, "words_to_number: unexpected word '", w[i], "' at position ", i + 1,
                " (scales must decrease: million, then thousand) in '", words, "'");
    total += group * s;
    last_scale = s;
    ++i;
  }
  EMBER_CHECK(number_to_words(total) == words, "words_to_number: '", words,
              "' is not the canonical spelling of ", total, " ('", number_to_words(total), "')");
  return total;
}

std::vector<std::string> split_number_words(const std::string& words) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : words) {
    if (c == ' ' || c == '-') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
      if (c == '-') out.emplace_back("-");
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

const char* direction_name(TranslationDirection d) {
  return d == TranslationDirection::ToWords ? "to_words" : "to_number";
}

int64_t sample_number_by_digits(Generator& gen, int min_digits, int max_digits) {
  EMBER_CHECK(1 <= min_digits && min_digits <= max_digits && max_digits <= 9,
              "sample_number_by_digits: need 1 <= min_digits <= max_digits <= 9, got ", min_digits,
              " and ", max_digits);
  const auto d = static_cast<int>(
      min_digits +
      static_cast<int>(gen.next_below(static_cast<uint64_t>(max_digits - min_digits + 1))));
  int64_t lo = 1;
  for (int i = 1; i < d; ++i) lo *= 10;
  const int64_t hi = lo * 10 - 1;
  if (d == 1) lo = 0;
  return lo + static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(hi - lo + 1)));
}

// ---- the task ----

NumberWordsTask::NumberWordsTask(uint64_t seed, int64_t test_size) {
  EMBER_CHECK(test_size >= 0 && test_size <= 100'000, "NumberWordsTask: test_size = ", test_size,
              " must be in [0, 100000]");
  tokens_ = {"<pad>", "<bos>", "<eos>", "<to_words>", "<to_number>"};
  for (char c = '0'; c <= '9'; ++c) tokens_.emplace_back(1, c);
  for (const char* w : kOnes) tokens_.emplace_back(w);
  for (size_t i = 2; i < kTens.size(); ++i) tokens_.emplace_back(kTens[i]);
  for (const char* w : {"hundred", "thousand", "million", "-"}) tokens_.emplace_back(w);
  for (size_t i = 0; i < tokens_.size(); ++i) ids_[tokens_[i]] = static_cast<int64_t>(i);

  Generator gen(seed);
  for (auto* set : {&test_words_, &test_number_}) {
    while (static_cast<int64_t>(set->size()) < test_size) {
      const int64_t n = sample_number_by_digits(gen, 3, 9);
      if (held_out_.insert(n).second) set->push_back(n);
    }
  }
}

const std::string& NumberWordsTask::token_text(int64_t id) const {
  EMBER_CHECK_INDEX(id >= 0 && id < vocab_size(), "NumberWordsTask: token id ", id,
                    " is outside the vocabulary of ", vocab_size());
  return tokens_[static_cast<size_t>(id)];
}

int64_t NumberWordsTask::token_id(const std::string& text) const {
  const auto it = ids_.find(text);
  EMBER_CHECK(it != ids_.end(), "NumberWordsTask: unknown token '", text, "'");
  return it->second;
}

std::vector<int64_t> NumberWordsTask::number_tokens(int64_t n) const {
  EMBER_CHECK(n >= 0 && n <= kMaxNumberWords, "NumberWordsTask: ", n, " is outside [0, ",
              kMaxNumberWords, "]");
  std::vector<int64_t> out;
  for (char c : std::to_string(n)) out.push_back(ids_.at(std::string(1, c)));
  return out;
}

std::vector<int64_t> NumberWordsTask::word_tokens(int64_t n) const {
  std::vector<int64_t> out;
  for (const std::string& w : split_number_words(number_to_words(n))) out.push_back(ids_.at(w));
  return out;
}

std::string NumberWordsTask::detokenize(const std::vector<int64_t>& ids) const {
  std::string out;
  bool prev_digit = false, prev_dash = false;
  for (int64_t id : ids) {
    if (id == kEos) break;
    const std::string& t = token_text(id);
    const bool digit = t.size() == 1 && std::isdigit(static_cast<unsigned char>(t[0]));
    const bool dash = t == "-";
    if (!out.empty() && !(digit && prev_digit) && !dash && !prev_dash) out += ' ';
    out += t;
    prev_digit = digit;
    prev_dash = dash;
  }
  return out;
}

std::vector<int64_t> NumberWordsTask::source(int64_t n, TranslationDirection d) const {
  const bool to_words = d == TranslationDirection::ToWords;
  std::vector<int64_t> out = {to_words ? kToWords : kToNumber};
  const std::vector<int64_t> body = to_words ? number_tokens(n) : word_tokens(n);
  out.insert(out.end(), body.begin(), body.end());
  out.push_back(kEos);
  return out;
}

std::vector<int64_t> NumberWordsTask::target(int64_t n, TranslationDirection d) const {
  std::vector<int64_t> out = d == TranslationDirection::ToWords ? word_tokens(n) : number_tokens(n);
  out.push_back(kEos);
  return out;
}

std::string NumberWordsTask::target_text(int64_t n, TranslationDirection d) const {
  return d == TranslationDirection::ToWords ? number_to_words(n) : std::to_string(n);
}

int64_t NumberWordsTask::sample_train_number(Generator& gen) const {
  // Redraw within the same digit count, so that the digit count stays uniform.
  const auto d = static_cast<int>(1 + gen.next_below(9));
  while (true) {
    const int64_t n = sample_number_by_digits(gen, d, d);
    if (!held_out_.contains(n)) return n;
  }
}

const std::vector<int64_t>& NumberWordsTask::test_numbers(TranslationDirection d) const {
  return d == TranslationDirection::ToWords ? test_words_ : test_number_;
}

Tensor NumberWordsTask::pad_batch(const std::vector<std::vector<int64_t>>& seqs) {
  EMBER_CHECK(!seqs.empty(), "NumberWordsTask::pad_batch: no sequences");
  size_t len = 0;
  for (const auto& s : seqs) len = std::max(len, s.size());
  std::vector<int64_t> flat(seqs.size() * len, kPad);
  for (size_t b = 0; b < seqs.size(); ++b)
    std::copy(seqs[b].begin(), seqs[b].end(), flat.begin() + static_cast<ptrdiff_t>(b * len));
  return from_vector(flat).view({static_cast<int64_t>(seqs.size()), static_cast<int64_t>(len)});
}

Seq2SeqBatch NumberWordsTask::make_batch(const std::vector<int64_t>& numbers,
                                         const std::vector<TranslationDirection>& dirs) const {
  EMBER_CHECK(
      !numbers.empty() && numbers.size() == dirs.size(),
      "NumberWordsTask::make_batch: need as many directions as numbers (at least one), got ",
      numbers.size(), " numbers and ", dirs.size(), " directions");
  std::vector<std::vector<int64_t>> src, tin, tout;
  for (size_t i = 0; i < numbers.size(); ++i) {
    src.push_back(source(numbers[i], dirs[i]));
    tout.push_back(target(numbers[i], dirs[i]));
    std::vector<int64_t> in = {kBos};
    in.insert(in.end(), tout.back().begin(), tout.back().end() - 1);
    tin.push_back(std::move(in));
  }
  return {pad_batch(src), pad_batch(tin), pad_batch(tout)};
}

}  // namespace ember::data
