// split_rows: part sizes, coverage, reproducibility, stratification and argument errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "ember/data/data.h"
#include "support/expect.h"

using namespace ember;
using namespace ember::data;
using ember::testing::expect_error;

namespace {

// Every row 0..n-1 exactly once across the parts, each part sorted.
void expect_partition(const SplitIndices& s, int64_t n) {
  std::vector<int64_t> all;
  for (const auto* part : {&s.train, &s.val, &s.test}) {
    EXPECT_TRUE(std::is_sorted(part->begin(), part->end()));
    all.insert(all.end(), part->begin(), part->end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int64_t> want(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) want[i] = i;
  EXPECT_EQ(all, want);
}

}  // namespace

TEST(DataSplit, SizesFollowTheFractions) {
  const SplitIndices s = split_rows(100, 0.7, 0.15, 0.15, 1);
  EXPECT_EQ(s.train.size(), 70u);
  EXPECT_EQ(s.val.size(), 15u);
  EXPECT_EQ(s.test.size(), 15u);
  expect_partition(s, 100);
  // Shares 5, 2.5, 2.5: the one row left goes to the earlier tied part (val).
  const SplitIndices t = split_rows(10, 0.5, 0.25, 0.25, 1);
  EXPECT_EQ(t.train.size(), 5u);
  EXPECT_EQ(t.val.size(), 3u);
  EXPECT_EQ(t.test.size(), 2u);
  // Shares 4.9, 1.05, 1.05 of 7: floors 4, 1, 1; the remainder row goes to train (0.9).
  const SplitIndices u = split_rows(7, 0.7, 0.15, 0.15, 1);
  EXPECT_EQ(u.train.size(), 5u);
  EXPECT_EQ(u.val.size(), 1u);
  EXPECT_EQ(u.test.size(), 1u);
  const SplitIndices all = split_rows(5, 1, 0, 0, 3);
  EXPECT_EQ(all.train, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(all.val.empty() && all.test.empty());
  const SplitIndices none = split_rows(0, 0.8, 0.1, 0.1, 3);
  EXPECT_TRUE(none.train.empty() && none.val.empty() && none.test.empty());
}

TEST(DataSplit, SeededAndReproducible) {
  const SplitIndices a = split_rows(1000, 0.6, 0.2, 0.2, 42);
  const SplitIndices b = split_rows(1000, 0.6, 0.2, 0.2, 42);
  const SplitIndices c = split_rows(1000, 0.6, 0.2, 0.2, 43);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.val, b.val);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.train, c.train);
  expect_partition(a, 1000);
  expect_partition(c, 1000);
  // A shuffle, not a prefix: the training part reaches into the last rows.
  EXPECT_GT(a.train.back(), 900);
  EXPECT_LT(a.test.front(), 100);
}

TEST(DataSplit, StratifiedKeepsEachLabelsProportion) {
  // 60 rows of label 5, 30 of label 1, 10 of label 7, interleaved.
  std::vector<int64_t> labels;
  for (int i = 0; i < 100; ++i) labels.push_back(i % 10 < 6 ? 5 : i % 10 < 9 ? 1 : 7);
  const SplitIndices s = split_rows(100, 0.7, 0.15, 0.15, 9, &labels);
  expect_partition(s, 100);
  const auto count = [&](const std::vector<int64_t>& part) {
    std::map<int64_t, size_t> m;
    for (int64_t r : part) ++m[labels[r]];
    return m;
  };
  // Per label, by hand: 60 -> 42, 9, 9; 30 -> 21, 4.5, 4.5 -> 21, 5, 4; 10 -> 7, 1.5, 1.5 -> 7,
  // 2, 1.
  EXPECT_EQ(count(s.train), (std::map<int64_t, size_t>{{1, 21}, {5, 42}, {7, 7}}));
  EXPECT_EQ(count(s.val), (std::map<int64_t, size_t>{{1, 5}, {5, 9}, {7, 2}}));
  EXPECT_EQ(count(s.test), (std::map<int64_t, size_t>{{1, 4}, {5, 9}, {7, 1}}));
  const SplitIndices again = split_rows(100, 0.7, 0.15, 0.15, 9, &labels);
  EXPECT_EQ(again.val, s.val);
}

TEST(DataSplit, BadArguments) {
  expect_error<ConfigError>([] { split_rows(10, 0.7, 0.2, 0.2, 0); },
                            {"fractions must be >= 0 and sum to 1", "sum 1.1"});
  expect_error<ConfigError>([] { split_rows(10, 1.2, -0.2, 0, 0); }, {"val -0.2"});
  split_rows(10, 0.7, 0.2, 0.1 + 1e-10, 0);  // within 1e-9 of 1: accepted
  const std::vector<int64_t> labels = {0, 1};
  expect_error<ValueError>([&] { split_rows(3, 0.5, 0.5, 0, 0, &labels); },
                           {"2 strata labels for 3 rows"});
}
