// Shape ops: views that share storage (reshape, permute, slice, ...) and joins/splits that copy.
#pragma once

#include <vector>

#include "ember/core/tensor.h"

namespace ember {

/// A view with a new shape (one dim may be -1); throws if the strides don't allow it.
Tensor view(const Tensor& x, IntList shape);
/// view() when possible, otherwise a contiguous copy.
Tensor reshape(const Tensor& x, IntList shape);
Tensor permute(const Tensor& x, IntList dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor expand(const Tensor& x, IntList shape);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
/// Python's x[start:end:step] along dim; start/end are clamped like Python slices.
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor unflatten(const Tensor& x, int64_t dim, IntList sizes);
Tensor contiguous(const Tensor& x);

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
/// Pieces of split_size along dim (the last may be smaller).
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
/// Pieces with the given sizes along dim.
std::vector<Tensor> split_with_sizes(const Tensor& x, IntList sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
/// Lower / upper triangle of the last two dims (diagonal k).
Tensor tril(const Tensor& x, int64_t diagonal = 0);
Tensor triu(const Tensor& x, int64_t diagonal = 0);

}  // namespace ember
