// CTR data: a CSV table, a seeded random split and the [[fields]] fitted on the training rows.
#include <cmath>
#include <cstdio>

#include "ember/core/error.h"
#include "ember/data/fields.h"
#include "ember/train/pipeline.h"

namespace ember::train {

namespace {

SplitData encode(const data::FieldEncoder& enc, const data::Table& table,
                 const std::vector<int64_t>& rows) {
  SplitData s;
  if (rows.empty()) return s;
  data::FieldEncoder::Encoded e = enc.transform(table, rows);
  s.x = e.x;
  s.y = e.y.to(kInt64);  // the class index: 0 or 1
  s.rows = rows;
  return s;
}

}  // namespace

PreparedData prepare_ctr_data(const TrainConfig& cfg, const data::Preprocessor* fitted) {
  const DataConfig& dc = cfg.data;
  data::Table table = load_table(dc);
  // Rows without a target cannot be labelled: they are left out of every split.
  const std::vector<double>& target = table.column(dc.target).values;
  std::vector<int64_t> labelled;
  for (int64_t i = 0; i < table.rows(); ++i)
    if (!std::isnan(target[static_cast<size_t>(i)])) labelled.push_back(i);
  if (labelled.size() < static_cast<size_t>(table.rows())) {
    std::fprintf(stderr, "note: %s: %lld rows without a value of '%s' are left out\n",
                 table.source.c_str(),
                 static_cast<long long>(table.rows()) - static_cast<long long>(labelled.size()),
                 dc.target.c_str());
    table = table.select_rows(labelled);
  }
  data::SplitIndices split = data::split_rows(table.rows(), dc.split[0], dc.split[1], dc.split[2],
                                              static_cast<uint64_t>(dc.seed), nullptr);
  EMBER_CHECK_T(ConfigError, !split.train.empty(), table.source, ": the training split is empty (",
                table.rows(), " labelled rows, data.split = ", dc.split[0], ", ", dc.split[1], ", ",
                dc.split[2], ")");
  data::Preprocessor pre = fitted ? *fitted : data::Preprocessor::for_fields([&] {
    auto enc = std::make_shared<data::FieldEncoder>(cfg.fields, dc.target, dc.label_threshold);
    enc->fit(table, split.train);
    return enc;
  }());
  PreparedData d{std::move(table), std::move(split), std::move(pre), {}, {}, {}, nullptr, nullptr};
  const data::FieldEncoder& enc = d.pre.fields();
  d.train = encode(enc, d.table, d.split.train);
  d.val = encode(enc, d.table, d.split.val);
  d.test = encode(enc, d.table, d.split.test);
  return d;
}

}  // namespace ember::train
