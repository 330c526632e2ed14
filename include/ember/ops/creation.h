// Tensor creation: constants, ranges, random tensors, and tensors from C++ data or external buffers.
#pragma once

#include <functional>
#include <vector>

#include "ember/core/generator.h"
#include "ember/core/tensor.h"

namespace ember {

Tensor empty(IntList shape, Options opts = {});
Tensor zeros(IntList shape, Options opts = {});
Tensor ones(IntList shape, Options opts = {});
Tensor full(IntList shape, double value, Options opts = {});
/// A 0-d tensor holding value.
Tensor scalar_tensor(double value, Options opts = {});
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);

/// [start, end) in steps of step, as in torch.arange. Default dtype int64.
Tensor arange(double end, Options opts = kInt64);
Tensor arange(double start, double end, double step = 1, Options opts = kInt64);
/// steps evenly spaced values from start to end inclusive.
Tensor linspace(double start, double end, int64_t steps, Options opts = {});
/// n×m identity (m = n when m < 0).
Tensor eye(int64_t n, int64_t m = -1, Options opts = {});

/// Uniform [0, 1).
Tensor rand(IntList shape, Options opts = {}, Generator* gen = nullptr);
/// Standard normal.
Tensor randn(IntList shape, Options opts = {}, Generator* gen = nullptr);
/// Uniform integers in [low, high).
Tensor randint(int64_t low, int64_t high, IntList shape, Options opts = kInt64,
               Generator* gen = nullptr);
/// Normal with the given mean and std.
Tensor normal(double mean, double std, IntList shape, Options opts = {}, Generator* gen = nullptr);
Tensor rand_like(const Tensor& t, Generator* gen = nullptr);
Tensor randn_like(const Tensor& t, Generator* gen = nullptr);
/// A random permutation of 0..n-1 (int64).
Tensor randperm(int64_t n, Generator* gen = nullptr);

/// 1-d tensor from values (float32 by default): `tensor({1.f, 2.f})`.
Tensor tensor(std::initializer_list<double> values, Options opts = {});
/// 2-d tensor from nested lists: `tensor({{1, 2}, {3, 4}})`.
Tensor tensor(std::initializer_list<std::initializer_list<double>> rows, Options opts = {});
/// Copies a vector into a tensor of the given shape (1-d when shape is empty); dtype from T.
template <class T>
Tensor from_vector(const std::vector<T>& values, IntList shape = {});
/// Wraps external memory without copying. The deleter (may be empty) runs when the last view dies.
Tensor from_blob(void* data, IntList shape, DType dtype, std::function<void(void*)> deleter = {},
                 IntList strides = {});

}  // namespace ember
