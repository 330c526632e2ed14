// Recommendation with a CTR model: top-k unseen items for a user, and HR@k / NDCG@k ranking
// metrics.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ember/data/csv.h"
#include "ember/data/fields.h"
#include "ember/nn/module.h"
#include "ember/train/config.h"
#include "ember/train/metrics.h"
#include "ember/train/pipeline.h"
#include "ember/train/report.h"

namespace ember::train {

/// The items of a CTR table (data.item) with the columns that describe them.
///
/// An item column is one whose value is the same in every row of the same item (for MovieLens:
/// movieId, title, year, genres); the others (userId, rating, timestamp) describe the user or the
/// event. A candidate row for (user context row, item) takes the item columns from one row of
/// the item and every other column from the context row, so the model scores the item as if
/// that user met it in that situation.
class Catalog {
 public:
  /// time_column orders a user's rows in time ("" = row order). The Table's ConfigError (naming
  /// the column and listing the table's) when data.item, data.user, data.target, data.item_title
  /// or time_column is not a column of table. The table must outlive the catalog.
  Catalog(const data::Table& table, const DataConfig& dc, const std::string& time_column = "");
  int64_t size() const { return static_cast<int64_t>(item_rows_.size()); }
  /// The item's key (its data.item text) and title (data.item_title, or "").
  const std::string& key(int64_t item) const { return keys_[static_cast<size_t>(item)]; }
  std::string title(int64_t item) const;
  /// Rows (of the table) of the user with this key; empty if unknown.
  const std::vector<int64_t>& user_rows(const std::string& user) const;
  /// The user key and the item index of a table row.
  const std::string& user_of(int64_t row) const { return user_of_row_[static_cast<size_t>(row)]; }
  int64_t item_of(int64_t row) const { return item_of_row_[static_cast<size_t>(row)]; }
  /// Items the rows mention (sorted, deduplicated).
  std::vector<int64_t> items_of(const std::vector<int64_t>& rows) const;
  /// The table rows (context row, item) for each item: item columns from the item.
  data::Table candidates(int64_t context_row, const std::vector<int64_t>& items) const;
  /// The event time of a row: its time_column value, else the row index.
  double time_of(int64_t row) const;
  /// Whether a row's label is positive (data.target >= data.label_threshold).
  bool positive(int64_t row) const;
  /// The names of the item columns, in table order.
  std::vector<std::string> item_columns() const;

 private:
  const data::Table& table_;
  std::vector<int64_t> item_of_row_;      // item index of every table row
  std::vector<std::string> user_of_row_;  // user key of every table row
  std::vector<int64_t> item_rows_;        // first row of every item
  std::vector<std::string> keys_;         // item key texts
  std::vector<size_t> item_cols_;         // indices of the item columns
  const data::Column* target_ = nullptr;
  const data::Column* title_ = nullptr;  // null without data.item_title
  const data::Column* time_ = nullptr;   // null without a time column
  double threshold_ = 0;
  std::unordered_map<std::string, std::vector<int64_t>> user_rows_;
};

/// One recommended item.
struct Recommendation {
  std::string item, title;
  double score;  ///< the model's probability of a positive label
};

/// The column of the first timestamp field of a CTR config ("" if none): the event time.
std::string time_column(const TrainConfig& cfg);

/// The top-k items the user has no row for anywhere in the table, by the model's score, with the
/// user's latest row as the context. ConfigError for an unknown user (naming data.user).
std::vector<Recommendation> recommend(nn::Module& model, const data::FieldEncoder& encoder,
                                      const Catalog& catalog, const std::string& user, int64_t k);

/// Leave-last-out ranking on the rows of a split (normally the test split): for every user with
/// a positive row there (label 1), their latest positive row is ranked against `negatives` items
/// the user has no row for anywhere in the table (sampled uniformly without replacement, seeded;
/// all of them when there are fewer),
/// all scored in that row's context. Returns hr@k (share of users whose held-out item is in the
/// top k) and ndcg@k (mean 1 / log2(rank + 2) for those ranks < k), named with prefix
/// ("test_hr@10", "test_ndcg@10"), plus the number of users ranked ("test_ranked_users").
Metrics ranking_metrics(nn::Module& model, const data::FieldEncoder& encoder,
                        const Catalog& catalog, const std::vector<int64_t>& split_rows,
                        const std::string& prefix, int64_t k = 10, int64_t negatives = 99,
                        uint64_t seed = 0);

/// ranking_metrics of a CTR run on rows of its prepared data (d.table, normally the test split's
/// rows), with 99 negatives per user, k = 10 and data.seed; empty when data.user or data.item is
/// not set. What `ember train` reports and `ember eval` recomputes.
Metrics ctr_ranking_metrics(nn::Module& model, const TrainConfig& cfg, const PreparedData& d,
                            const std::vector<int64_t>& split_rows, const std::string& prefix);

/// For the report: each field's k values with the largest and the smallest first-order weight of
/// a CTR model (models::CTRModel's linear.weight), named by the encoder ("genres=Documentary").
/// The first-order term is the model's additive part, so these are what move a prediction most
/// on their own. Empty for other models.
ReportTable first_order_table(nn::Module& model, const data::FieldEncoder& encoder, int64_t k = 4);

}  // namespace ember::train
