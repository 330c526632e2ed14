// FieldEncoder JSON: the specs and every fitted vocabulary, edge and statistic, read back exactly.
#include <algorithm>
#include <cmath>

#include "ember/core/error.h"
#include "ember/data/fields.h"

namespace ember::data {

namespace {

constexpr const char* kHex = "0123456789abcdef";

json::Array doubles(const std::vector<double>& v) {
  return json::Array(v.begin(), v.end());
}

std::vector<double> doubles_of(const json::Value& v) {
  std::vector<double> out;
  for (const json::Value& x : v.as_array()) out.push_back(x.as_double());
  return out;
}

std::vector<std::string> strings_of(const json::Value& v) {
  std::vector<std::string> out;
  for (const json::Value& x : v.as_array()) out.push_back(x.as_string());
  return out;
}

int hex_digit(char c) {
  const char* p = std::find(kHex, kHex + 16, c);
  EMBER_CHECK(p != kHex + 16, "FieldEncoder::from_json: '", c, "' is not a lowercase hex digit");
  return static_cast<int>(p - kHex);
}

}  // namespace

void FieldEncoder::read_recent(Field& f, const json::Value& slot, const std::string& name,
                               int64_t fit_rows) {
  const auto bad = [&](bool ok, const char* what) {
    EMBER_CHECK(ok, "FieldEncoder::from_json: slot '", name, "': ", what);
  };
  f.time = doubles_of(slot["time"]);
  f.label = doubles_of(slot["label"]);
  for (const json::Value& r : slot["row"].as_array()) f.row.push_back(r.as_int());
  int64_t total = 0;
  for (const Stat& s : f.stats) {
    bad(s.n >= 0 && s.n <= static_cast<int64_t>(f.time.size()) - total, "n does not fit time");
    total += s.n;
  }
  bad(total == static_cast<int64_t>(f.time.size()) && f.row.size() == f.time.size() &&
          f.label.size() == f.time.size(),
      "time, row and label must have sum(n) entries");
  int64_t i = 0;
  for (const Stat& s : f.stats) {
    double sum = 0;
    for (const int64_t end = i + s.n; i < end; ++i) {
      bad(f.label[i] == 0 || f.label[i] == 1, "labels must be 0 or 1");
      bad(std::isfinite(f.time[i]) && f.row[i] >= 0 && f.row[i] < fit_rows,
          "times must be finite and rows in the fitting table");
      bad(i == end - s.n || f.time[i - 1] < f.time[i] ||
              (f.time[i - 1] == f.time[i] && f.row[i - 1] <= f.row[i]),
          "a key's history is not sorted by (time, row)");
      sum += f.label[i];
    }
    bad(sum == s.sum, "sum does not match the labels");
  }
  index_recent(f);
}

json::Value FieldEncoder::to_json() const {
  check_fitted("to_json");
  json::Value o = json::Value::object();
  o["format"] = "ember.fields";
  o["version"] = 1;
  o["target"] = target_;
  o["label_threshold"] = threshold_;
  json::Array specs;
  for (const FieldSpec& s : specs_) {
    json::Value j = json::Value::object();
    j["name"] = s.name;
    j["column"] = s.column;
    j["type"] = s.type;
    j["min_freq"] = s.min_freq;
    j["hash_buckets"] = s.hash_buckets;
    j["sep"] = s.sep;
    j["pooling"] = s.pooling;
    j["width"] = s.width;
    j["boundaries"] = doubles(s.boundaries);
    j["quantiles"] = s.quantiles;
    j["parts"] = json::Array(s.parts.begin(), s.parts.end());
    j["smoothing"] = s.smoothing;
    j["time_column"] = s.time_column;
    j["window"] = s.window;
    specs.push_back(std::move(j));
  }
  o["specs"] = std::move(specs);
  json::Array slots;
  for (size_t i = 0; i < fields_.size(); ++i) {
    const Field& f = fields_[i];
    const FieldSlot& sl = slots_[i];
    json::Value j = json::Value::object();
    j["name"] = sl.name;
    j["spec"] = static_cast<int64_t>(f.spec);
    j["part"] = f.part;
    j["first_slot"] = sl.first_slot;
    j["n_slots"] = sl.n_slots;
    j["id_begin"] = sl.id_begin;
    j["id_end"] = sl.id_end;
    j["pooling"] = sl.pooling;
    j["vocab"] = json::Array(f.vocab.begin(), f.vocab.end());
    j["mean"] = f.mean;
    j["std"] = f.std;
    j["edges"] = doubles(f.edges);
    j["lo"] = f.lo;
    j["hi"] = f.hi;
    j["keys"] = json::Array(f.keys.begin(), f.keys.end());
    json::Array n, sum;
    for (const Stat& s : f.stats) n.push_back(s.n), sum.push_back(s.sum);
    j["n"] = std::move(n);
    j["sum"] = std::move(sum);
    j["prior"] = f.prior;
    if (f.kind == Kind::RecentMeanLabel) {  // each key's history, in key order
      j["time"] = doubles(f.time);
      j["row"] = json::Array(f.row.begin(), f.row.end());
      j["label"] = doubles(f.label);
    }
    slots.push_back(std::move(j));
  }
  o["slots"] = std::move(slots);
  o["num_ids"] = num_ids_;
  o["num_slots"] = num_slots_;
  json::Value fit = json::Value::object();
  fit["source"] = fit_source_;
  fit["rows"] = fit_rows_;
  std::string fp(16, '0'), mask((train_mask_.size() + 3) / 4, '0');
  for (int k = 0; k < 16; ++k) fp[15 - k] = kHex[(fit_fingerprint_ >> (4 * k)) & 15];
  for (size_t r = 0; r < train_mask_.size(); ++r)
    if (train_mask_[r]) mask[r / 4] = kHex[hex_digit(mask[r / 4]) | (1 << (r % 4))];
  fit["fingerprint"] = fp;
  fit["train_mask"] = mask;
  o["fit"] = std::move(fit);
  return o;
}

FieldEncoder FieldEncoder::from_json(const json::Value& v) {
  EMBER_CHECK(v["format"].as_string() == "ember.fields" && v["version"].as_int() == 1,
              "FieldEncoder::from_json: not an ember.fields version 1 object");
  std::vector<FieldSpec> specs;
  for (const json::Value& j : v["specs"].as_array()) {
    FieldSpec s;
    s.name = j["name"].as_string();
    s.column = j["column"].as_string();
    s.type = j["type"].as_string();
    s.min_freq = j["min_freq"].as_int();
    s.hash_buckets = j["hash_buckets"].as_int();
    s.sep = j["sep"].as_string();
    s.pooling = j["pooling"].as_string();
    s.width = j["width"].as_double();
    s.boundaries = doubles_of(j["boundaries"]);
    s.quantiles = j["quantiles"].as_int();
    s.parts = strings_of(j["parts"]);
    s.smoothing = j["smoothing"].as_double();
    if (j.contains("time_column")) s.time_column = j["time_column"].as_string();  // since
    if (j.contains("window")) s.window = j["window"].as_int();  // recent_mean_label
    specs.push_back(std::move(s));
  }
  FieldEncoder e(std::move(specs), v["target"].as_string(), v["label_threshold"].as_double());
  const auto bad = [](bool ok, const std::string& name, const char* what) {
    EMBER_CHECK(ok, "FieldEncoder::from_json: slot '", name, "': ", what);
  };
  for (const json::Value& j : v["slots"].as_array()) {
    Field f;
    FieldSlot sl;
    sl.name = j["name"].as_string();
    const int64_t spec = j["spec"].as_int();
    bad(spec >= 0 && spec < static_cast<int64_t>(e.specs_.size()), sl.name, "spec out of range");
    const FieldSpec& s = e.specs_[spec];
    f.spec = static_cast<size_t>(spec);
    f.part = j["part"].as_string();
    const std::string& ty = s.type;
    f.kind = ty == "categorical"  ? Kind::Categorical
             : ty == "multi"      ? Kind::Multi
             : ty == "numeric"    ? Kind::Numeric
             : ty == "bucket"     ? Kind::Bucket
             : ty == "timestamp"  ? Kind::Part
             : ty == "count"      ? Kind::Count
             : ty == "mean_label" ? Kind::MeanLabel
                                  : Kind::RecentMeanLabel;
    sl.first_slot = j["first_slot"].as_int();
    sl.n_slots = j["n_slots"].as_int();
    sl.id_begin = j["id_begin"].as_int();
    sl.id_end = j["id_end"].as_int();
    sl.pooling = j["pooling"].as_string();
    f.vocab = strings_of(j["vocab"]);
    for (size_t k = 0; k < f.vocab.size(); ++k)
      bad(f.index.emplace(f.vocab[k], k).second, sl.name, "repeated vocabulary value");
    f.mean = j["mean"].as_double();
    f.std = j["std"].as_double();
    f.edges = doubles_of(j["edges"]);
    bad(std::is_sorted(f.edges.begin(), f.edges.end()), sl.name, "edges are not sorted");
    f.lo = j["lo"].as_int();
    f.hi = j["hi"].as_int();
    f.keys = strings_of(j["keys"]);
    const json::Array& n = j["n"].as_array();
    const json::Array& sum = j["sum"].as_array();
    bad(n.size() == f.keys.size() && sum.size() == f.keys.size(), sl.name,
        "keys, n and sum differ in length");
    for (size_t k = 0; k < f.keys.size(); ++k) {
      f.stats.push_back({n[k].as_int(), sum[k].as_double()});
      bad(f.key_index.emplace(f.keys[k], k).second, sl.name, "repeated key");
    }
    f.prior = j["prior"].as_double();
    if (f.kind == Kind::RecentMeanLabel) read_recent(f, j, sl.name, v["fit"]["rows"].as_int());
    const int64_t n_ids =
        f.kind == Kind::Categorical || f.kind == Kind::Multi
            ? (s.hash_buckets > 0 ? s.hash_buckets : 1 + static_cast<int64_t>(f.vocab.size()))
        : f.kind == Kind::Numeric ? 1
        : f.kind == Kind::Part    ? f.hi - f.lo + 2
                                  : static_cast<int64_t>(f.edges.size()) + 2;
    bad(f.kind != Kind::Part || (f.lo <= f.hi && f.hi - f.lo < (int64_t{1} << 24)), sl.name,
        "bad part range");
    bad(sl.first_slot == e.num_slots_ && sl.id_begin == e.num_ids_ &&
            sl.id_end - sl.id_begin == n_ids && sl.n_slots >= 1 &&
            (f.kind == Kind::Multi || sl.n_slots == 1) && sl.n_slots < (int64_t{1} << 20),
        sl.name, "slots and ids must be contiguous and match the fitted sizes");
    e.num_ids_ = sl.id_end;
    e.num_slots_ += sl.n_slots;
    bad(e.num_ids_ <= (int64_t{1} << 24), sl.name, "more than 2^24 ids");
    e.fields_.push_back(std::move(f));
    e.slots_.push_back(std::move(sl));
  }
  EMBER_CHECK(e.num_ids_ == v["num_ids"].as_int() && e.num_slots_ == v["num_slots"].as_int() &&
                  !e.fields_.empty(),
              "FieldEncoder::from_json: num_ids / num_slots do not match the slots");
  const json::Value& fit = v["fit"];
  e.fit_source_ = fit["source"].as_string();
  e.fit_rows_ = fit["rows"].as_int();
  const std::string& fp = fit["fingerprint"].as_string();
  const std::string& mask = fit["train_mask"].as_string();
  EMBER_CHECK(fp.size() == 16 && e.fit_rows_ >= 0 &&
                  mask.size() == static_cast<size_t>((e.fit_rows_ + 3) / 4),
              "FieldEncoder::from_json: fit.fingerprint needs 16 hex digits and fit.train_mask "
              "one per 4 rows");
  for (char c : fp) e.fit_fingerprint_ = (e.fit_fingerprint_ << 4) | uint64_t(hex_digit(c));
  e.train_mask_.assign(static_cast<size_t>(e.fit_rows_), 0);
  for (size_t r = 0; r < e.train_mask_.size(); ++r)
    e.train_mask_[r] = (hex_digit(mask[r / 4]) >> (r % 4)) & 1;
  e.fitted_ = true;
  return e;
}

}  // namespace ember::data
