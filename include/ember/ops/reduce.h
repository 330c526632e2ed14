// Reductions over any set of dims (keepdim as in PyTorch), and scans.
#pragma once

#include <tuple>

#include "ember/core/tensor.h"

namespace ember {

/// An empty dims list reduces over every dim.
Tensor sum(const Tensor& x, IntList dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, IntList dims = {}, bool keepdim = false);
Tensor prod(const Tensor& x, IntList dims = {}, bool keepdim = false);
/// Variance with Bessel's correction by default (correction = 1).
Tensor var(const Tensor& x, IntList dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor std(const Tensor& x, IntList dims = {}, int64_t correction = 1, bool keepdim = false);
Tensor logsumexp(const Tensor& x, IntList dims, bool keepdim = false);
/// Largest / smallest element overall.
Tensor max(const Tensor& x);
Tensor min(const Tensor& x);
/// (values, indices) along dim.
std::tuple<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::tuple<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
/// Max / min over several dims (values only).
Tensor amax(const Tensor& x, IntList dims, bool keepdim = false);
Tensor amin(const Tensor& x, IntList dims, bool keepdim = false);
/// Index of the largest / smallest element of the flattened tensor.
Tensor argmax(const Tensor& x);
Tensor argmin(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor cumsum(const Tensor& x, int64_t dim);
/// Any / all elements true (bool result).
Tensor any(const Tensor& x);
Tensor all(const Tensor& x);
/// Reduces a broadcast gradient back to shape (sums the broadcast dims).
Tensor sum_to(const Tensor& x, IntList shape);

}  // namespace ember
