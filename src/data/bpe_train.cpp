// Byte-level BPE training: word counts from GPT-2's pre-tokenizer, then merges of the most frequent
// adjacent pair with incremental pair-count updates.
#include <algorithm>
#include <queue>
#include <string_view>

#include "data/byte_map.h"
#include "data/pretokenize.h"
#include "ember/core/error.h"
#include "ember/data/tokenizer.h"

namespace ember::data {

namespace {

uint64_t key_of(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
}

// A candidate merge in the heap; the top is the highest count, ties to the smaller (a, b).
struct Candidate {
  int64_t count;
  int32_t a, b;
  bool operator<(const Candidate& o) const {
    if (count != o.count) return count < o.count;
    if (a != o.a) return a > o.a;
    return b > o.b;
  }
};

// Unique pre-tokenized words of the corpus (special tokens cut out) with their counts.
std::unordered_map<std::string_view, int64_t> count_words(
    std::string_view corpus, const std::vector<std::string>& specials) {
  std::unordered_map<std::string_view, int64_t> counts;
  auto add = [&](std::string_view text) {
    detail::scan_pretokens(text, [&](std::string_view w) { ++counts[w]; });
  };
  while (!corpus.empty()) {
    size_t first = std::string_view::npos, len = 0;
    for (const std::string& s : specials) {
      const size_t at = corpus.find(s);
      if (at < first) first = at, len = s.size();
    }
    if (first == std::string_view::npos) break;
    add(corpus.substr(0, first));
    corpus.remove_prefix(first + len);
  }
  add(corpus);
  return counts;
}

}  // namespace

BpeTokenizer BpeTokenizer::train(std::string_view corpus, int64_t vocab_size,
                                 const std::vector<std::string>& special_tokens,
                                 const BpeTrainOptions& options) {
  const auto n_special = static_cast<int64_t>(special_tokens.size());
  EMBER_CHECK(vocab_size >= 256 + n_special && vocab_size < (int64_t{1} << 30),
              "BpeTokenizer::train: vocab_size must hold the 256 byte tokens and the ", n_special,
              " special tokens (>= ", 256 + n_special, ") and stay below 2^30, got ", vocab_size);
  for (size_t i = 0; i < special_tokens.size(); ++i) {
    const std::string& s = special_tokens[i];
    EMBER_CHECK(!s.empty(), "BpeTokenizer::train: special token ", i, " is empty");
    for (size_t k = 0; k < s.size();) {
      const detail::Utf8Char ch =
          detail::decode_utf8(reinterpret_cast<const unsigned char*>(s.data()) + k, s.size() - k);
      EMBER_CHECK(ch.valid, "BpeTokenizer::train: special token ", i, " is not valid UTF-8");
      k += static_cast<size_t>(ch.len);
    }
    for (size_t j = 0; j < i; ++j)
      EMBER_CHECK(special_tokens[j] != s, "BpeTokenizer::train: special token \"", s,
                  "\" is given twice");
  }

  BpeTokenizer t;
  const detail::ByteMap& bm = detail::byte_map();
  for (int i = 0; i < 256; ++i) {
    t.tokens_.emplace_back(1, static_cast<char>(bm.order[static_cast<size_t>(i)]));
    t.byte_ids_[bm.order[static_cast<size_t>(i)]] = i;
  }

  // Words as byte-token sequences, and every adjacent pair's count and the words holding it.
  std::vector<std::vector<int32_t>> words;
  std::vector<int64_t> word_counts;
  for (const auto& [w, c] : count_words(corpus, special_tokens)) {
    if (w.size() < 2) continue;
    std::vector<int32_t> ids(w.size());
    for (size_t i = 0; i < w.size(); ++i) ids[i] = t.byte_ids_[static_cast<unsigned char>(w[i])];
    words.push_back(std::move(ids));
    word_counts.push_back(c);
  }
  std::unordered_map<uint64_t, int64_t> pair_counts;
  std::unordered_map<uint64_t, std::vector<int32_t>> where;
  for (size_t w = 0; w < words.size(); ++w) {
    for (size_t i = 0; i + 1 < words[w].size(); ++i) {
      const uint64_t k = key_of(words[w][i], words[w][i + 1]);
      pair_counts[k] += word_counts[w];
      auto& list = where[k];
      if (list.empty() || list.back() != static_cast<int32_t>(w))
        list.push_back(static_cast<int32_t>(w));
    }
  }
  std::priority_queue<Candidate> heap;
  for (const auto& [k, c] : pair_counts)
    heap.push({c, static_cast<int32_t>(k >> 32), static_cast<int32_t>(k & 0xFFFFFFFF)});

  const int64_t wanted = vocab_size - 256 - n_special;
  std::vector<int64_t> visited(words.size(), -1);
  std::unordered_map<uint64_t, int64_t> changed;
  while (static_cast<int64_t>(t.merges_.size()) < wanted && !heap.empty()) {
    const Candidate top = heap.top();
    heap.pop();
    const uint64_t key = key_of(top.a, top.b);
    const auto it = pair_counts.find(key);
    const int64_t now = it == pair_counts.end() ? 0 : it->second;
    if (now != top.count) {  // stale entry: requeue with the current count
      if (now > 0) heap.push({now, top.a, top.b});
      continue;
    }
    const auto z = static_cast<int32_t>(t.tokens_.size());
    const auto merge_no = static_cast<int64_t>(t.merges_.size());
    t.tokens_.push_back(t.tokens_[static_cast<size_t>(top.a)] +
                        t.tokens_[static_cast<size_t>(top.b)]);
    t.merges_.emplace_back(top.a, top.b);
    changed.clear();
    for (const int32_t w : where[key]) {
      if (visited[static_cast<size_t>(w)] == merge_no) continue;
      visited[static_cast<size_t>(w)] = merge_no;
      std::vector<int32_t>& ids = words[static_cast<size_t>(w)];
      const int64_t c = word_counts[static_cast<size_t>(w)];
      for (size_t i = 0; i + 1 < ids.size(); ++i) changed[key_of(ids[i], ids[i + 1])] -= c;
      size_t j = 0;
      for (size_t i = 0; i < ids.size();) {
        if (i + 1 < ids.size() && ids[i] == top.a && ids[i + 1] == top.b) {
          ids[j++] = z;
          i += 2;
        } else {
          ids[j++] = ids[i++];
        }
      }
      ids.resize(j);
      for (size_t i = 0; i + 1 < ids.size(); ++i) {
        const uint64_t k = key_of(ids[i], ids[i + 1]);
        changed[k] += c;
        if (ids[i] == z || ids[i + 1] == z) {
          auto& list = where[k];
          if (list.empty() || list.back() != w) list.push_back(w);
        }
      }
    }
    where.erase(key);
    for (const auto& [k, delta] : changed) {
      if (delta == 0) continue;
      int64_t& c = pair_counts[k];
      c += delta;
      if (delta > 0)
        heap.push({c, static_cast<int32_t>(k >> 32), static_cast<int32_t>(k & 0xFFFFFFFF)});
      if (c == 0) pair_counts.erase(k);
    }
    if (options.progress && options.every > 0 && (merge_no + 1) % options.every == 0)
      options.progress(merge_no + 1, wanted);
  }

  for (size_t id = 0; id < t.tokens_.size(); ++id)
    t.ids_.emplace(t.tokens_[id], static_cast<int32_t>(id));
  for (const std::string& s : special_tokens) {
    t.specials_.emplace_back(s, static_cast<int64_t>(t.tokens_.size()));
    t.tokens_.push_back(s);
  }
  t.build_index(false);
  return t;
}

}  // namespace ember::data
