// Tensor creation: constants, ranges, random tensors, and tensors from C++ data.
#include "ember/ops/creation.h"

#include <cmath>

#include "ops/op_utils.h"

namespace ember {

namespace {
Tensor finish(Tensor t, const Options& opts) {
  if (opts.requires_grad) t.requires_grad_(true);
  return t;
}
Generator& gen_or_default(Generator* gen) { return gen ? *gen : default_generator(); }
}  // namespace

Tensor empty(IntList shape, Options opts) {
  return finish(detail::make_tensor(shape, opts.dtype, opts.device), opts);
}

Tensor full(IntList shape, double value, Options opts) {
  Tensor t = detail::make_tensor(shape, opts.dtype, opts.device);
  ops::kernels(t).fill(t, value);
  return finish(t, opts);
}

Tensor zeros(IntList shape, Options opts) { return full(shape, 0, opts); }
Tensor ones(IntList shape, Options opts) { return full(shape, 1, opts); }
Tensor scalar_tensor(double value, Options opts) { return full({}, value, opts); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), {t.dtype(), t.device()}); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), {t.dtype(), t.device()}); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), {t.dtype(), t.device()}); }
Tensor full_like(const Tensor& t, double v) { return full(t.shape(), v, {t.dtype(), t.device()}); }

Tensor arange(double end, Options opts) { return arange(0, end, 1, opts); }

Tensor arange(double start, double end, double step, Options opts) {
  EMBER_CHECK(step != 0, "arange: step must be nonzero");
  EMBER_CHECK(std::isfinite(start) && std::isfinite(end), "arange: start and end must be finite");
  EMBER_CHECK((end - start) / step >= 0 || start == end, "arange: range [", start, ", ", end,
              ") is empty or inconsistent with step ", step);
  const int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
  Tensor t = detail::make_tensor({std::max<int64_t>(n, 0)}, opts.dtype, opts.device);
  ops::kernels(t).arange(t, start, step);
  return finish(t, opts);
}

Tensor linspace(double start, double end, int64_t steps, Options opts) {
  EMBER_CHECK(steps >= 0, "linspace: steps must be non-negative, got ", steps);
  Tensor t = detail::make_tensor({steps}, opts.dtype, opts.device);
  const double step = steps > 1 ? (end - start) / static_cast<double>(steps - 1) : 0;
  ops::kernels(t).arange(t, start, step);
  return finish(t, opts);
}

Tensor eye(int64_t n, int64_t m, Options opts) {
  if (m < 0) m = n;
  EMBER_CHECK(n >= 0, "eye: n must be non-negative, got ", n);
  Tensor t = zeros({n, m}, opts.dtype);
  Tensor diag = detail::make_view(t, {std::min(n, m)}, {m + 1}, 0);
  ops::kernels(t).fill(diag, 1);
  return finish(t, opts);
}

Tensor rand(IntList shape, Options opts, Generator* gen) {
  Tensor t = detail::make_tensor(shape, opts.dtype, opts.device);
  ops::kernels(t).uniform(t, 0, 1, gen_or_default(gen));
  return finish(t, opts);
}

Tensor randn(IntList shape, Options opts, Generator* gen) {
  Tensor t = detail::make_tensor(shape, opts.dtype, opts.device);
  ops::kernels(t).normal(t, 0, 1, gen_or_default(gen));
  return finish(t, opts);
}

Tensor normal(double mean, double std, IntList shape, Options opts, Generator* gen) {
  EMBER_CHECK(std >= 0, "normal: std must be non-negative, got ", std);
  Tensor t = detail::make_tensor(shape, opts.dtype, opts.device);
  ops::kernels(t).normal(t, mean, std, gen_or_default(gen));
  return finish(t, opts);
}

Tensor randint(int64_t low, int64_t high, IntList shape, Options opts, Generator* gen) {
  EMBER_CHECK(high > low, "randint: high (", high, ") must be greater than low (", low, ")");
  Generator& g = gen_or_default(gen);
  std::vector<int64_t> v(static_cast<size_t>(detail::shape_numel(shape)));
  for (auto& x : v) x = low + static_cast<int64_t>(g.next_below(static_cast<uint64_t>(high - low)));
  Tensor t = from_vector(v, shape);
  return ops::cast(t, opts.dtype);
}

Tensor rand_like(const Tensor& t, Generator* gen) { return rand(t.shape(), t.dtype(), gen); }
Tensor randn_like(const Tensor& t, Generator* gen) { return randn(t.shape(), t.dtype(), gen); }

Tensor randperm(int64_t n, Generator* gen) {
  Generator& g = gen_or_default(gen);
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = i;
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(v[i], v[static_cast<int64_t>(g.next_below(static_cast<uint64_t>(i + 1)))]);
  return from_vector(v);
}

Tensor tensor(std::initializer_list<double> values, Options opts) {
  Tensor t = from_vector(std::vector<double>(values));
  return finish(ops::cast(t, opts.dtype), opts);
}

Tensor tensor(std::initializer_list<std::initializer_list<double>> rows, Options opts) {
  std::vector<double> v;
  const int64_t n = static_cast<int64_t>(rows.size());
  const int64_t m = n ? static_cast<int64_t>(rows.begin()->size()) : 0;
  for (const auto& r : rows) {
    EMBER_CHECK_SHAPE(static_cast<int64_t>(r.size()) == m,
                      "tensor: rows have different lengths (", m, " and ", r.size(), ")");
    v.insert(v.end(), r.begin(), r.end());
  }
  Tensor t = from_vector(v, {n, m});
  return finish(ops::cast(t, opts.dtype), opts);
}

template <class T>
Tensor from_vector(const std::vector<T>& values, IntList shape) {
  const Shape s = shape.empty() ? Shape{static_cast<int64_t>(values.size())} : shape;
  EMBER_CHECK_SHAPE(detail::shape_numel(s) == static_cast<int64_t>(values.size()),
                    "from_vector: ", values.size(), " values do not fill shape ",
                    detail::shape_to_string(s));
  Tensor t = detail::make_tensor(s, dtype_of<T>);
  if constexpr (std::is_same_v<T, bool>) {
    bool* p = t.data_ptr<bool>();
    for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  } else {
    std::copy(values.begin(), values.end(), t.data_ptr<T>());
  }
  return t;
}
template Tensor from_vector<float>(const std::vector<float>&, IntList);
template Tensor from_vector<double>(const std::vector<double>&, IntList);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, IntList);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, IntList);
template Tensor from_vector<bool>(const std::vector<bool>&, IntList);
template Tensor from_vector<BFloat16>(const std::vector<BFloat16>&, IntList);

Tensor from_blob(void* data, IntList shape, DType dtype, std::function<void(void*)> deleter,
                 IntList strides) {
  // Until the storage owns the memory, a failed check must still run the deleter.
  struct ReleaseOnThrow {
    void* data;
    std::function<void(void*)>* deleter;
    ~ReleaseOnThrow() {
      if (deleter && *deleter) (*deleter)(data);
    }
  } guard{data, &deleter};
  EMBER_CHECK(data != nullptr || detail::shape_numel(shape) == 0, "from_blob: null data pointer");
  const Shape st = strides.empty() ? detail::contiguous_strides(shape) : strides;
  EMBER_CHECK_SHAPE(st.size() == shape.size(), "from_blob: ", st.size(), " strides for ",
                    shape.size(), " dims");
  int64_t extent = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    EMBER_CHECK_SHAPE(shape[i] >= 0 && st[i] >= 0, "from_blob: negative size or stride");
    if (shape[i] == 0) extent = 0;
    else if (extent > 0) extent += (shape[i] - 1) * st[i];
  }
  auto storage = std::make_shared<Storage>(data, static_cast<size_t>(extent) * itemsize(dtype),
                                           Device::cpu(), std::move(deleter));
  guard.deleter = nullptr;
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = st;
  impl->numel = detail::shape_numel(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

}  // namespace ember
