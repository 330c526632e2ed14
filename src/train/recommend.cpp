// Catalog of items, top-k recommendation and leave-last-out HR@k / NDCG@k for CTR models.
#include "ember/train/recommend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "ember/autograd/grad_mode.h"
#include "ember/core/error.h"
#include "ember/core/generator.h"
#include "ember/models/ctr.h"
#include "ember/ops/elementwise.h"

namespace ember::train {

namespace {

bool same(double a, double b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

// Model scores (probabilities) of encoded rows, without autograd.
std::vector<double> scores(nn::Module& model, const data::FieldEncoder& enc,
                           const data::Table& rows) {
  std::vector<int64_t> all(static_cast<size_t>(rows.rows()));
  std::iota(all.begin(), all.end(), 0);
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const Tensor p = sigmoid(model(enc.transform_features(rows, all))).reshape({-1});
  if (was_training) model.train();
  return p.to(kFloat64).contiguous().to_vector<double>();
}

}  // namespace

std::string time_column(const TrainConfig& cfg) {
  for (const data::FieldSpec& f : cfg.fields)
    if (f.type == "timestamp") return f.column.empty() ? f.name : f.column;
  return "";
}

Catalog::Catalog(const data::Table& table, const DataConfig& dc, const std::string& time_column)
    : table_(table) {
  EMBER_CHECK_T(ConfigError, !dc.item.empty() && !dc.user.empty(),
                "recommendation needs data.user and data.item (the user and item columns) in the "
                "run's config");
  const data::Column& item = table.column(dc.item);
  const data::Column& user = table.column(dc.user);
  target_ = &table.column(dc.target);
  threshold_ = dc.label_threshold;
  if (!dc.item_title.empty()) title_ = &table.column(dc.item_title);
  if (!time_column.empty()) time_ = &table.column(time_column);
  std::unordered_map<std::string, int64_t> item_index;
  item_of_row_.resize(static_cast<size_t>(table.rows()));
  for (int64_t r = 0; r < table.rows(); ++r) {
    const std::string key = data::value_text(item, item.values[static_cast<size_t>(r)]);
    auto [it, added] = item_index.emplace(key, static_cast<int64_t>(item_rows_.size()));
    if (added) {
      item_rows_.push_back(r);
      keys_.push_back(key);
    }
    item_of_row_[static_cast<size_t>(r)] = it->second;
    user_of_row_.push_back(data::value_text(user, user.values[static_cast<size_t>(r)]));
    user_rows_[user_of_row_.back()].push_back(r);
  }
  // Item columns: the same value in every row of an item.
  for (int64_t j = 0; j < table.cols(); ++j) {
    const std::vector<double>& v = table.columns[static_cast<size_t>(j)].values;
    bool per_item = true;
    for (int64_t r = 0; r < table.rows() && per_item; ++r)
      per_item = same(v[static_cast<size_t>(r)],
                      v[static_cast<size_t>(
                          item_rows_[static_cast<size_t>(item_of_row_[static_cast<size_t>(r)])])]);
    if (per_item) item_cols_.push_back(static_cast<size_t>(j));
  }
}

std::string Catalog::title(int64_t item) const {
  if (title_ == nullptr) return "";
  return data::value_text(
      *title_, title_->values[static_cast<size_t>(item_rows_[static_cast<size_t>(item)])]);
}

std::vector<std::string> Catalog::item_columns() const {
  std::vector<std::string> names;
  for (size_t j : item_cols_) names.push_back(table_.columns[j].name);
  return names;
}

const std::vector<int64_t>& Catalog::user_rows(const std::string& user) const {
  static const std::vector<int64_t> kNone;
  const auto it = user_rows_.find(user);
  return it == user_rows_.end() ? kNone : it->second;
}

std::vector<int64_t> Catalog::items_of(const std::vector<int64_t>& rows) const {
  std::vector<int64_t> out;
  for (int64_t r : rows) out.push_back(item_of_row_[static_cast<size_t>(r)]);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

data::Table Catalog::candidates(int64_t context_row, const std::vector<int64_t>& items) const {
  data::Table t = table_.select_rows(std::vector<int64_t>(items.size(), context_row));
  for (size_t i = 0; i < items.size(); ++i) {
    const auto src = static_cast<size_t>(item_rows_[static_cast<size_t>(items[i])]);
    for (size_t j : item_cols_) t.columns[j].values[i] = table_.columns[j].values[src];
  }
  return t;
}

double Catalog::time_of(int64_t row) const {
  return time_ == nullptr ? static_cast<double>(row) : time_->values[static_cast<size_t>(row)];
}

bool Catalog::positive(int64_t row) const {
  return target_->values[static_cast<size_t>(row)] >= threshold_;
}

std::vector<Recommendation> recommend(nn::Module& model, const data::FieldEncoder& encoder,
                                      const Catalog& catalog, const std::string& user, int64_t k) {
  const std::vector<int64_t>& rows = catalog.user_rows(user);
  EMBER_CHECK_T(ConfigError, !rows.empty(), "recommend --user ", user,
                ": no rows of this user in the run's data (data.user column)");
  const int64_t context = *std::max_element(rows.begin(), rows.end(), [&](int64_t a, int64_t b) {
    return catalog.time_of(a) < catalog.time_of(b);
  });
  const std::vector<int64_t> seen = catalog.items_of(rows);
  std::vector<int64_t> unseen;
  for (int64_t i = 0; i < catalog.size(); ++i)
    if (!std::binary_search(seen.begin(), seen.end(), i)) unseen.push_back(i);
  if (unseen.empty()) return {};
  const std::vector<double> s = scores(model, encoder, catalog.candidates(context, unseen));
  std::vector<size_t> order(unseen.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t n = std::min(order.size(), static_cast<size_t>(std::max<int64_t>(k, 0)));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                    [&](size_t a, size_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  std::vector<Recommendation> out;
  for (size_t i = 0; i < n; ++i) {
    const int64_t item = unseen[order[i]];
    out.push_back({catalog.key(item), catalog.title(item), s[order[i]]});
  }
  return out;
}

Metrics ranking_metrics(nn::Module& model, const data::FieldEncoder& encoder,
                        const Catalog& catalog, const std::vector<int64_t>& split_rows,
                        const std::string& prefix, int64_t k, int64_t negatives, uint64_t seed) {
  // The latest positive row of every user in the split.
  std::unordered_map<std::string, int64_t> held_out;
  std::vector<std::string> users;  // in order of first appearance: deterministic
  for (int64_t r : split_rows) {
    if (!catalog.positive(r)) continue;
    const std::string u = catalog.user_of(r);
    auto [it, added] = held_out.emplace(u, r);
    if (added)
      users.push_back(u);
    else if (catalog.time_of(r) > catalog.time_of(it->second))
      it->second = r;
  }
  Generator gen(seed);
  double hits = 0, ndcg = 0;
  int64_t ranked = 0;
  for (const std::string& u : users) {
    const int64_t row = held_out[u];
    const std::vector<int64_t> seen = catalog.items_of(catalog.user_rows(u));
    std::vector<int64_t> pool;
    for (int64_t i = 0; i < catalog.size(); ++i)
      if (!std::binary_search(seen.begin(), seen.end(), i)) pool.push_back(i);
    const int64_t m = std::min(negatives, static_cast<int64_t>(pool.size()));
    if (m == 0) continue;
    // Partial Fisher-Yates: the first m entries become a uniform sample.
    for (int64_t i = 0; i < m; ++i) {
      const auto j =
          i + static_cast<int64_t>(gen.next_double() *
                                   static_cast<double>(pool.size() - static_cast<size_t>(i)));
      std::swap(pool[static_cast<size_t>(i)], pool[static_cast<size_t>(j)]);
    }
    std::vector<int64_t> items = {catalog.item_of(row)};
    items.insert(items.end(), pool.begin(), pool.begin() + m);
    const std::vector<double> s = scores(model, encoder, catalog.candidates(row, items));
    int64_t rank = 0;
    for (size_t i = 1; i < s.size(); ++i) rank += s[i] > s[0];
    ++ranked;
    if (rank < k) {
      hits += 1;
      ndcg += 1 / std::log2(static_cast<double>(rank) + 2);
    }
  }
  const double n = ranked > 0 ? static_cast<double>(ranked) : 1;
  const std::string at = "@" + std::to_string(k);
  return {{prefix + "hr" + at, hits / n},
          {prefix + "ndcg" + at, ndcg / n},
          {prefix + "ranked_users", static_cast<double>(ranked)}};
}

Metrics ctr_ranking_metrics(nn::Module& model, const TrainConfig& cfg, const PreparedData& d,
                            const std::vector<int64_t>& split_rows, const std::string& prefix) {
  if (cfg.data.user.empty() || cfg.data.item.empty()) return {};
  const Catalog catalog(d.table, cfg.data, time_column(cfg));
  return ranking_metrics(model, d.pre.fields(), catalog, split_rows, prefix, 10, 99,
                         static_cast<uint64_t>(cfg.data.seed));
}

ReportTable first_order_table(nn::Module& model, const data::FieldEncoder& encoder, int64_t k) {
  ReportTable t{
      "First-order weights: each field's values that push most towards a positive "
      "label (largest weight) and towards a negative one (smallest)",
      {"field", "towards positive", "towards negative"},
      {}};
  auto* ctr = dynamic_cast<models::CTRModel*>(&model);
  if (ctr == nullptr) return t;
  const std::vector<double> w =
      ctr->linear->weight.detach().to(kFloat64).contiguous().to_vector<double>();
  const auto join = [&](std::vector<int64_t> ids) {
    std::string s;
    for (int64_t id : ids) {
      char v[32];
      std::snprintf(v, sizeof v, " (%+.2f)", w[static_cast<size_t>(id)]);
      s += (s.empty() ? "" : ", ") + encoder.describe(id) + v;
    }
    return s;
  };
  for (const data::FieldSlot& f : encoder.slots()) {
    std::vector<int64_t> ids(static_cast<size_t>(f.id_end - f.id_begin));
    std::iota(ids.begin(), ids.end(), f.id_begin);
    const auto n = std::min<size_t>(static_cast<size_t>(k), ids.size());
    const auto by = [&](bool up) {
      std::vector<int64_t> v = ids;
      std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.end(),
                        [&](int64_t a, int64_t b) {
                          const double x = w[static_cast<size_t>(a)], y = w[static_cast<size_t>(b)];
                          return up ? x > y : x < y;
                        });
      v.resize(n);
      return v;
    };
    t.rows.push_back({f.name, join(by(true)), join(by(false))});
  }
  return t;
}

}  // namespace ember::train
