// Train / validation / test splits of table rows: seeded, reproducible, optionally stratified.
#pragma once

#include <cstdint>
#include <vector>

namespace ember::data {

/// Row indices of each part, each sorted ascending.
struct SplitIndices {
  std::vector<int64_t> train, val, test;
};

/// Splits rows 0..n-1 at random into parts of the given fractions (each >= 0, summing to 1 within
/// 1e-9; otherwise a ConfigError). Part sizes are the fractions of n rounded by largest remainder
/// (ties to the earlier part), so they add up to n and each is within one row of its exact share.
/// The same (n, fractions, seed, strata) always give the same split (ember::Generator).
/// strata (optional, one label per row): each label's rows are split separately with the same
/// fractions, so every part keeps each label's proportion (within one row per label).
SplitIndices split_rows(int64_t n, double train, double val, double test, uint64_t seed,
                        const std::vector<int64_t>* strata = nullptr);

}  // namespace ember::data
