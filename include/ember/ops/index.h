// Indexing ops: gather/scatter, index_select, boolean masks, embedding lookup, one_hot, sort/topk.
#pragma once

#include <tuple>

#include "ember/core/tensor.h"

namespace ember {

/// out[i][j] = x[index[i][j]][j] (dim 0), etc. index: int64 with the same ndim as x.
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
/// x with src added at index along dim (out-of-place): out[index[i][j]][j] += src[i][j].
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
/// Slices of x along dim at the int64/int32 1-d index.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
/// x with src added at the 1-d index along dim (out-of-place): out[index[k]] += src[k].
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
/// x[index] (rows along dim 0 for an integer tensor of any shape) or x[mask] (1-d of selected
/// elements for a bool mask of x's shape).
Tensor index(const Tensor& x, const Tensor& index);
Tensor masked_select(const Tensor& x, const Tensor& mask);
/// x with value where mask (broadcast) is true.
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);
/// weight[indices]: (*) int64 indices, weight (V, D) -> (*, D). Rows at padding_idx get no grad.
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx = -1);
/// (*) int64 -> (*, num_classes) int64; num_classes < 0 means max + 1.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);
/// (values, indices) of the k largest (or smallest) along dim, sorted.
std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true);
/// (values, indices) sorted along dim (stable).
std::tuple<Tensor, Tensor> sort(const Tensor& x, int64_t dim = -1, bool descending = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false);

}  // namespace ember
