// CTR models: first-order weights, field embeddings pooled with embedding_bag, FM and a DNN.
#include "ember/models/ctr.h"

#include <algorithm>

#include "ember/core/error.h"
#include "ember/core/strings.h"
#include "ember/models/tabular.h"
#include "ember/nn/init.h"
#include "ember/ops/creation.h"
#include "ember/ops/index.h"
#include "ember/ops/recsys.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"

namespace ember::models {

namespace {

bool has_fm(const std::string& type) {
  return type == "fm" || type == "deepfm";
}
bool has_dnn(const std::string& type) {
  return type == "deepfm" || type == "wide_deep";
}

}  // namespace

CTRModel::CTRModel(CTRConfig cfg) : Module("CTRModel"), config(std::move(cfg)) {
  const std::string& t = config.type;
  EMBER_CHECK_T(ConfigError, t == "logistic" || has_fm(t) || has_dnn(t), "model.type = \"", t,
                "\": a CTR model is one of logistic, fm, deepfm, wide_deep");
  EMBER_CHECK_T(ConfigError, !config.slots.empty() && config.num_ids >= 2,
                "CTRModel: needs at least one field and an id table, got ", config.slots.size(),
                " fields and ", config.num_ids, " ids");
  EMBER_CHECK_T(ConfigError, config.embed_dim >= 1, "model.embed_dim = ", config.embed_dim,
                ": must be >= 1");
  std::vector<std::string> known;
  for (const data::FieldSlot& s : config.slots) known.push_back(s.name);
  const std::vector<std::string>& names = config.embed_fields;
  for (size_t i = 0; i < names.size(); ++i) {
    EMBER_CHECK_T(ConfigError, std::find(known.begin(), known.end(), names[i]) != known.end(),
                  "model.embed_fields: no field '", names[i], "'; the fields are ", join(known));
    EMBER_CHECK_T(ConfigError,
                  std::find(names.begin(), names.begin() + i, names[i]) == names.begin() + i,
                  "model.embed_fields: field '", names[i], "' is listed twice");
  }
  all_fields_ = group_of(false);
  embedded_fields_ = group_of(true);
  linear = register_module("linear", std::make_shared<nn::Embedding>(config.num_ids, 1));
  nn::init::zeros_(linear->weight);
  bias = register_parameter("bias", zeros({1}));
  if (t == "logistic") return;
  embedding = register_module("embedding",
                              std::make_shared<nn::Embedding>(config.num_ids, config.embed_dim));
  nn::init::normal_(embedding->weight, 0, 0.01);
  if (!has_dnn(t)) return;
  train::ModelConfig mlp;
  mlp.type = "mlp";
  mlp.hidden = config.hidden;
  mlp.activation = config.activation;
  mlp.dropout = config.dropout;
  mlp.norm = config.norm;
  const int64_t fields = embedded_fields_.size();
  dnn = register_module("dnn", build_tabular_model(mlp, fields * config.embed_dim, 1));
}

bool CTRConfig::embeds(const std::string& field) const {
  return embed_fields.empty() ||
         std::find(embed_fields.begin(), embed_fields.end(), field) != embed_fields.end();
}

// All fields, or those with embeddings, in the layout's order.
CTRModel::FieldGroup CTRModel::group_of(bool embedded_only) const {
  FieldGroup g;
  for (const data::FieldSlot& s : config.slots) {
    if (embedded_only && !config.embeds(s.name)) continue;
    if (s.n_slots == 1)
      g.single.push_back(s.first_slot);
    else
      g.multi.push_back(s);
  }
  g.single_index = from_vector(g.single);
  return g;
}

// table: (num_ids, d); ids, values: (B, S) -> (B, F, d) for the F fields of g, single-slot first.
Tensor CTRModel::pool_fields(const Tensor& table, const Tensor& ids, const Tensor& values,
                             const FieldGroup& g) const {
  const int64_t B = ids.size(0), d = table.size(1);
  std::vector<Tensor> parts;
  if (!g.single.empty()) {
    const auto Fs = static_cast<int64_t>(g.single.size());
    const Tensor i = index_select(ids, 1, g.single_index).reshape({B * Fs, 1});
    const Tensor v = index_select(values, 1, g.single_index).reshape({B * Fs, 1});
    parts.push_back(
        embedding_bag(table, i, {}, "sum", v, -1, false, config.sparse).reshape({B, Fs, d}));
  }
  for (const data::FieldSlot& s : g.multi) {
    const Tensor i = ids.narrow(1, s.first_slot, s.n_slots);  // (B, n), 0 = padding
    const Tensor pooled =
        s.pooling == "mean"
            ? embedding_bag(table, i, {}, "mean", {}, 0, false, config.sparse)
            : embedding_bag(table, i, {}, "sum", values.narrow(1, s.first_slot, s.n_slots), 0,
                            false, config.sparse);
    parts.push_back(pooled.unsqueeze(1));
  }
  return parts.size() == 1 ? parts[0] : cat(parts, 1);
}

Tensor CTRModel::field_embeddings(const Tensor& ids, const Tensor& values) {
  EMBER_CHECK(embedding != nullptr, "CTRModel::field_embeddings: a logistic model has none");
  return pool_fields(embedding->weight, ids, values, embedded_fields_);
}

Tensor CTRModel::forward(const Tensor& x) {
  const auto S = config.slots.back().first_slot + config.slots.back().n_slots;
  EMBER_CHECK_SHAPE(x.dim() == 3 && x.size(1) == 2 && x.size(2) == S,
                    "CTRModel: expected x of shape (B, 2, ", S, ") (ids and values of ", S,
                    " slots), got ", x.shape_str());
  const Tensor ids = x.select(1, 0).to(kInt64);       // (B, S)
  const Tensor values = x.select(1, 1).contiguous();  // (B, S)
  // logit: (B, 1), first order over every field
  Tensor logit = sum(pool_fields(linear->weight, ids, values, all_fields_), {1}) + bias;
  if (config.type == "logistic") return logit;
  const Tensor e = field_embeddings(ids, values);  // (B, F, k)
  if (has_fm(config.type)) logit = logit + fm_interaction(e).unsqueeze(1);
  if (dnn) logit = logit + dnn->forward(e.reshape({e.size(0), -1}));
  return logit;
}

std::string CTRModel::extra_repr() const {
  return "type=" + config.type + ", fields=" + std::to_string(config.slots.size()) +
         ", num_ids=" + std::to_string(config.num_ids) +
         ", embed_dim=" + std::to_string(config.embed_dim) +
         (config.embed_fields.empty() ? "" : ", embed_fields=" + join(config.embed_fields, ",")) +
         (config.sparse ? ", sparse=true" : "");
}

}  // namespace ember::models
