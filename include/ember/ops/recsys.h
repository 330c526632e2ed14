// Recommendation ops: embedding bags (sum / mean / max pooled lookups) and the FM interaction.
#pragma once

#include <string>

#include "ember/core/tensor.h"

namespace ember {

/// torch.nn.functional.embedding_bag. weight: (V, D). indices: 1-d int64/int32 with offsets
/// (1-d, bag starts; include_last_offset as torch) or 2-d (B, L) with offsets undefined (each
/// row one bag). mode: "sum" | "mean" | "max". per_sample_weights: same shape as indices,
/// "sum" only (torch's rule). padding_idx >= 0: those entries are skipped (not counted in a
/// mean); negative: none. Empty bags give zeros. sparse: row-sparse gradient for weight
/// (Note [Row-sparse gradients]): backward() scatter-adds into weight.grad() and lists the rows
/// in weight.grad_rows(); not available under create_graph or autograd::grad.
/// -> (B, D)
Tensor embedding_bag(const Tensor& weight, const Tensor& indices, const Tensor& offsets = {},
                     const std::string& mode = "mean", const Tensor& per_sample_weights = {},
                     int64_t padding_idx = -1, bool include_last_offset = false,
                     bool sparse = false);

/// Factorization-machine pairwise interaction in its O(F·K) form (Rendle 2010):
/// v: (B, F, K) field embeddings -> (B,) = 0.5 * sum_k [(sum_f v)^2 - sum_f v^2].
Tensor fm_interaction(const Tensor& v);

}  // namespace ember
