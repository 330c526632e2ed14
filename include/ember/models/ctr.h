// Click-through-rate models on sparse fields: logistic regression, FM, DeepFM and Wide & Deep.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ember/data/fields.h"
#include "ember/nn/containers.h"
#include "ember/nn/layers.h"
#include "ember/nn/module.h"

namespace ember::models {

/// What a CTR model is built from: the fields' layout (data::FieldEncoder::slots()) and sizes.
struct CTRConfig {
  std::string type = "deepfm";  ///< logistic | fm | deepfm | wide_deep
  std::vector<data::FieldSlot> slots;
  int64_t num_ids = 0;     ///< rows of the embedding tables (id 0 is padding)
  int64_t embed_dim = 10;  ///< k
  std::vector<int64_t> hidden = {400, 400, 400};  ///< DNN sizes (deepfm, wide_deep)
  std::string activation = "relu";
  double dropout = 0;         ///< after every DNN activation
  std::string norm = "none";  ///< DNN: none | batch | layer
  bool sparse = false;        ///< row-sparse gradients for the tables (see ember::embedding_bag)
  /// The fields that get an embedding (the FM and DNN inputs), by slot name; empty: all of them.
  /// The others only have first-order weights (DeepCTR's linear vs DNN feature columns); their
  /// rows of the embedding table stay unused (the table keeps one id space for all fields).
  std::vector<std::string> embed_fields = {};
  /// Whether the field (a slot name) gets an embedding: listed in embed_fields, or all when empty.
  bool embeds(const std::string& field) const;
};

/// One logit per sample from F fields given as ids and values, x: (B, 2, S) float32 with
/// x[:, 0] the ids and x[:, 1] the values of the S slots (see data::FieldEncoder):
///   linear  = bias + sum_f pool_f(w[id] * value)                    (first order, every type)
///   e_f     = pool_f(V[id] * value): (B, F, k)   (pool: sum for one slot, the field's pooling
///             for multi-valued fields; padding slots, id 0, are skipped; F: the embed_fields)
///   fm      = 0.5 * sum_k [(sum_f e_f)^2 - sum_f e_f^2]              (fm, deepfm)
///   dnn     = MLP(concat_f e_f): (B, 1)                               (deepfm, wide_deep)
///   logit   = linear + fm + dnn, of the parts the type has.
/// Fields are pooled in a fixed order: the single-slot fields first, then the multi-valued ones.
/// Parameter names: linear.weight (num_ids, 1), bias (1), embedding.weight (num_ids, k), dnn.N.*
/// (the MLP as models::build_tabular_model builds it). Embeddings start N(0, 0.01²) (as DeepFM's
/// reference implementations), the first-order weights and the bias at zero.
class CTRModel : public nn::Module {
 public:
  explicit CTRModel(CTRConfig cfg);
  /// x: (B, 2, S) -> logits (B, 1)
  Tensor forward(const Tensor& x) override;
  /// The pooled embeddings of the embed_fields, e: (B, F, k) (for FM/DNN and for attributions).
  Tensor field_embeddings(const Tensor& ids, const Tensor& values);
  std::string extra_repr() const override;

  CTRConfig config;
  std::shared_ptr<nn::Embedding> linear;     ///< first-order weights, (num_ids, 1)
  Tensor bias;                               ///< (1)
  std::shared_ptr<nn::Embedding> embedding;  ///< null for logistic
  std::shared_ptr<nn::Sequential> dnn;       ///< null for logistic and fm

 private:
  // Which fields a table is pooled over: the single-slot ones (in one embedding_bag call), then
  // the multi-valued ones.
  struct FieldGroup {
    std::vector<int64_t> single;  // slot index of every single-slot field, in field order
    Tensor single_index;          // the same as an int64 tensor
    std::vector<data::FieldSlot> multi;
    int64_t size() const { return static_cast<int64_t>(single.size() + multi.size()); }
  };
  FieldGroup group_of(bool embedded_only) const;
  Tensor pool_fields(const Tensor& table, const Tensor& ids, const Tensor& values,
                     const FieldGroup& g) const;
  FieldGroup all_fields_;       // first order
  FieldGroup embedded_fields_;  // FM and DNN
};

}  // namespace ember::models
