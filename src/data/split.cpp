// split_rows: largest-remainder part sizes, Fisher-Yates shuffles, per-label strata.
#include "ember/data/split.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "ember/core/error.h"
#include "ember/core/generator.h"

namespace ember::data {

namespace {

// Sizes of the parts of m rows: floor of each share, then one more row to the parts with the
// largest remainders (ties to the earlier part) until they add up to m.
std::array<int64_t, 3> part_sizes(int64_t m, const std::array<double, 3>& frac) {
  std::array<int64_t, 3> size{};
  std::array<double, 3> rest{};
  int64_t left = m;
  for (int k = 0; k < 3; ++k) {
    const double share = frac[k] * static_cast<double>(m);
    size[k] = std::min<int64_t>(static_cast<int64_t>(std::floor(share)), left);
    rest[k] = share - static_cast<double>(size[k]);
    left -= size[k];
  }
  while (left > 0) {
    int best = 0;
    for (int k = 1; k < 3; ++k)
      if (rest[k] > rest[best]) best = k;
    ++size[best];
    rest[best] = -1;
    --left;
  }
  return size;
}

// Shuffles rows in place (Fisher-Yates) and deals them out to the parts.
void deal(std::vector<int64_t>& rows, const std::array<double, 3>& frac, Generator& gen,
          SplitIndices& out) {
  for (size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[gen.next_below(i)]);
  const std::array<int64_t, 3> size = part_sizes(static_cast<int64_t>(rows.size()), frac);
  const std::array<std::vector<int64_t>*, 3> parts{&out.train, &out.val, &out.test};
  auto it = rows.begin();
  for (int k = 0; k < 3; ++k) {
    parts[k]->insert(parts[k]->end(), it, it + size[k]);
    it += size[k];
  }
}

}  // namespace

SplitIndices split_rows(int64_t n, double train, double val, double test, uint64_t seed,
                        const std::vector<int64_t>* strata) {
  const std::array<double, 3> frac{train, val, test};
  const double sum = train + val + test;
  EMBER_CHECK_T(ConfigError, train >= 0 && val >= 0 && test >= 0 && std::abs(sum - 1.0) <= 1e-9,
                "split: fractions must be >= 0 and sum to 1; got train ", train, ", val ", val,
                ", test ", test, " (sum ", sum, ")");
  EMBER_CHECK(n >= 0, "split: row count ", n, " is negative");
  EMBER_CHECK(strata == nullptr || static_cast<int64_t>(strata->size()) == n,
              "split: ", strata ? strata->size() : 0, " strata labels for ", n, " rows");

  Generator gen(seed);
  SplitIndices out;
  if (strata == nullptr) {
    std::vector<int64_t> rows(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) rows[i] = i;
    deal(rows, frac, gen, out);
  } else {
    std::map<int64_t, std::vector<int64_t>> groups;  // label -> rows, in label order
    for (int64_t i = 0; i < n; ++i) groups[(*strata)[i]].push_back(i);
    for (auto& [label, rows] : groups) deal(rows, frac, gen, out);
  }
  for (std::vector<int64_t>* part : {&out.train, &out.val, &out.test})
    std::sort(part->begin(), part->end());
  return out;
}

}  // namespace ember::data
