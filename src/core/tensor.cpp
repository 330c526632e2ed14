// Tensor metadata, construction helpers, element access and PyTorch-style printing.
#include "ember/core/tensor.h"

#include <cmath>
#include <iomanip>
#include <sstream>

#include "ember/autograd/node.h"

namespace ember {

namespace detail {

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t n = ndim == 0 ? 1 : ndim;  // 0-d tensors accept dim 0 and -1, as in PyTorch
  EMBER_CHECK_INDEX(dim >= -n && dim < n, op, ": dimension ", dim,
                    " is out of range for a tensor with ", ndim, " dims (expected in [", -n, ", ",
                    n - 1, "])");
  return dim < 0 ? dim + n : dim;
}

Shape contiguous_strides(IntList shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

int64_t shape_numel(IntList shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

std::string shape_to_string(IntList shape) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) os << ",";
  os << ")";
  return os.str();
}

Tensor make_tensor(IntList shape, DType dtype, Device device) {
  for (int64_t s : shape)
    EMBER_CHECK_SHAPE(s >= 0, "cannot create a tensor with negative size in shape ",
                      shape_to_string(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->numel = shape_numel(shape);
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(impl->numel) * itemsize(dtype),
                                            device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, IntList shape, IntList strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->numel = shape_numel(shape);
  impl->dtype = base.dtype();
  impl->is_view = true;
  return Tensor(std::move(impl));
}

}  // namespace detail

namespace {
const TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
  EMBER_CHECK(impl != nullptr, "operation on an undefined tensor");
  return *impl;
}
}  // namespace

const Shape& Tensor::shape() const { return checked(impl_).shape; }
const Shape& Tensor::strides() const { return checked(impl_).strides; }
int64_t Tensor::size(int64_t d) const {
  EMBER_CHECK_INDEX(dim() > 0, "size(", d, "): a 0-d tensor has no dimensions");
  return shape()[detail::wrap_dim(d, dim(), "size")];
}
int64_t Tensor::stride(int64_t d) const {
  EMBER_CHECK_INDEX(dim() > 0, "stride(", d, "): a 0-d tensor has no dimensions");
  return strides()[detail::wrap_dim(d, dim(), "stride")];
}
int64_t Tensor::offset() const { return checked(impl_).offset; }
int64_t Tensor::dim() const { return static_cast<int64_t>(checked(impl_).shape.size()); }
int64_t Tensor::numel() const { return checked(impl_).numel; }
DType Tensor::dtype() const { return checked(impl_).dtype; }
Device Tensor::device() const { return checked(impl_).storage->device(); }
const std::shared_ptr<Storage>& Tensor::storage() const { return checked(impl_).storage; }
std::string Tensor::shape_str() const { return detail::shape_to_string(shape()); }
uint64_t Tensor::version() const { return storage()->version(); }

bool Tensor::is_contiguous() const {
  const TensorImpl& t = checked(impl_);
  if (t.numel == 0) return true;  // as torch: no element is out of place
  int64_t expected = 1;
  for (size_t i = t.shape.size(); i-- > 0;) {
    if (t.shape[i] == 1) continue;
    if (t.strides[i] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  const TensorImpl& t = checked(impl_);
  return static_cast<char*>(t.storage->data()) + t.offset * static_cast<int64_t>(itemsize(t.dtype));
}

namespace {
template <class T>
T read_element(const Tensor& t, int64_t offset) {
  const char* base = static_cast<const char*>(t.storage()->data());
  return EMBER_DISPATCH_ALL(t.dtype(), "item", [&]() -> T {
    scalar_t v;
    std::memcpy(&v, base + offset * static_cast<int64_t>(sizeof(scalar_t)), sizeof(scalar_t));
    if constexpr (std::is_same_v<scalar_t, BFloat16>) {
      return static_cast<T>(static_cast<float>(v));
    } else {
      return static_cast<T>(v);
    }
  });
}
}  // namespace

template <class T>
T Tensor::item() const {
  EMBER_CHECK(numel() == 1, "item(): a tensor with ", numel(), " elements (shape ", shape_str(),
              ") cannot be converted to a scalar");
  if (!device().is_cpu()) return to(Device::cpu()).item<T>();  // copies (and waits) first
  return read_element<T>(*this, offset());
}

template <class T>
T Tensor::at(IntList index) const {
  EMBER_CHECK_INDEX(static_cast<int64_t>(index.size()) == dim(), "at(): got ", index.size(),
                    " indices for a tensor with ", dim(), " dims");
  if (!device().is_cpu()) return to(Device::cpu()).at<T>(index);
  int64_t off = offset();
  for (int64_t d = 0; d < dim(); ++d) {
    int64_t i = index[d];
    EMBER_CHECK_INDEX(i >= -size(d) && i < size(d), "at(): index ", i,
                      " is out of bounds for dim ", d, " of size ", size(d));
    if (i < 0) i += size(d);
    off += i * stride(d);
  }
  return read_element<T>(*this, off);
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  if (!device().is_cpu()) return to(Device::cpu()).to_vector<T>();
  std::vector<T> out;
  out.reserve(static_cast<size_t>(numel()));
  if (numel() == 0) return out;
  Shape idx(static_cast<size_t>(dim()), 0);
  for (int64_t n = 0; n < numel(); ++n) {
    int64_t off = offset();
    for (int64_t d = 0; d < dim(); ++d) off += idx[d] * stride(d);
    out.push_back(read_element<T>(*this, off));
    for (int64_t d = dim() - 1; d >= 0; --d) {
      if (++idx[d] < size(d)) break;
      idx[d] = 0;
    }
  }
  return out;
}

#define EMBER_INSTANTIATE(T)                        \
  template T Tensor::item<T>() const;               \
  template T Tensor::at<T>(IntList) const;          \
  template std::vector<T> Tensor::to_vector<T>() const;
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
EMBER_INSTANTIATE(int32_t)
EMBER_INSTANTIATE(int64_t)
EMBER_INSTANTIATE(bool)
EMBER_INSTANTIATE(BFloat16)
#undef EMBER_INSTANTIATE

// ---- autograd metadata ----
bool Tensor::requires_grad() const { return checked(impl_).requires_grad; }

Tensor& Tensor::requires_grad_(bool requires_grad) {
  EMBER_CHECK(is_leaf() || requires_grad,
              "requires_grad_(false) on a non-leaf tensor: use detach() instead");
  EMBER_CHECK_DTYPE(!requires_grad || is_floating(dtype()),
                    "requires_grad_: only floating-point tensors can require grad, got ", dtype());
  impl_->requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const { return checked(impl_).grad; }
void Tensor::set_grad(const Tensor& g) const {
  EMBER_CHECK(impl_ != nullptr, "set_grad on an undefined tensor");
  impl_->grad = g;
  impl_->grad_row_sparse = false;
  impl_->grad_rows.clear();
}
bool Tensor::grad_is_row_sparse() const { return checked(impl_).grad_row_sparse; }
const std::vector<int64_t>& Tensor::grad_rows() const { return checked(impl_).grad_rows; }
const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const { return checked(impl_).grad_fn; }
bool Tensor::is_leaf() const { return checked(impl_).grad_fn == nullptr; }
void Tensor::retain_grad() const {
  EMBER_CHECK(requires_grad(), "retain_grad() on a tensor that does not require grad");
  impl_->retains_grad = true;
  if (impl_->grad_fn) impl_->grad_fn->retained_output = impl_;
}

void Tensor::register_post_accumulate_grad_hook(std::function<void(const Tensor&)> hook) const {
  EMBER_CHECK(is_leaf() && requires_grad(),
              "register_post_accumulate_grad_hook: only leaf tensors that require grad have an "
              "accumulated .grad");
  impl_->post_accumulate_grad_hooks.push_back(std::move(hook));
}

Tensor Tensor::detach() const {
  Tensor out = detail::make_view(*this, shape(), strides(), offset());
  out.impl()->is_view = impl_->is_view;
  return out;
}

Tensor& Tensor::detach_() {
  EMBER_CHECK(impl_ != nullptr, "detach_ on an undefined tensor");
  impl_->grad_fn = nullptr;
  impl_->requires_grad = false;
  return *this;
}

// ---- printing ----
// Follows torch's _tensor_str: one format for all elements (integer-valued floats print as "2.",
// others with 4 decimals, scientific when the range is wide), right-aligned to a common width,
// and tensors over 1000 elements summarized with 3 edge items per dim.
namespace {
constexpr int64_t kSummarizeOver = 1000;
constexpr int64_t kEdgeItems = 3;

struct Formatter {
  bool floating = false, is_bool = false, int_mode = true, sci = false;
  size_t width = 1;

  std::string format(double v) const {
    char buf[64];
    if (is_bool) return v != 0 ? "True" : "False";
    if (!floating) {
      std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    } else if (std::isnan(v)) {
      return "nan";
    } else if (std::isinf(v)) {
      return v > 0 ? "inf" : "-inf";
    } else if (sci) {
      std::snprintf(buf, sizeof buf, "%.4e", v);
    } else if (int_mode) {
      std::snprintf(buf, sizeof buf, "%.0f.", v);
    } else {
      std::snprintf(buf, sizeof buf, "%.4f", v);
    }
    return buf;
  }
  std::string padded(double v) const {
    std::string s = format(v);
    if (width > s.size()) s.insert(size_t{0}, width - s.size(), ' ');
    return s;
  }
};

// Indices along one dim that are printed (all, or the first and last kEdgeItems).
std::vector<int64_t> shown(int64_t n, bool summarize) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < n; ++i)
    if (!summarize || n <= 2 * kEdgeItems || i < kEdgeItems || i >= n - kEdgeItems) out.push_back(i);
  return out;
}

void collect(const Tensor& t, std::vector<int64_t>& idx, int64_t d, bool summarize,
             std::vector<double>& values) {
  if (d == t.dim()) {
    values.push_back(t.at<double>(idx));
    return;
  }
  for (int64_t i : shown(t.size(d), summarize)) {
    idx[d] = i;
    collect(t, idx, d + 1, summarize, values);
  }
}

Formatter make_formatter(const Tensor& t, const std::vector<double>& values) {
  Formatter f;
  f.floating = is_floating(t.dtype());
  f.is_bool = t.dtype() == kBool;
  if (f.floating) {
    double lo = INFINITY, hi = 0;
    for (double v : values) {
      if (!std::isfinite(v)) continue;
      if (v != std::ceil(v)) f.int_mode = false;
      if (v != 0) {
        lo = std::min(lo, std::fabs(v));
        hi = std::max(hi, std::fabs(v));
      }
    }
    if (hi > 0) {
      f.sci = f.int_mode ? (hi / lo > 1000 || hi > 1e8) : (hi / lo > 1000 || hi > 1e8 || lo < 1e-4);
    }
  }
  for (double v : values) f.width = std::max(f.width, f.format(v).size());
  return f;
}

void print_rec(std::ostringstream& os, const Tensor& t, std::vector<int64_t>& idx, int64_t d,
               const Formatter& f, bool summarize, int indent) {
  const int64_t n = t.size(d);
  const bool last = d == t.dim() - 1;
  const std::vector<int64_t> items = shown(n, summarize);
  os << "[";
  for (size_t k = 0; k < items.size(); ++k) {
    if (k > 0) {
      os << (last ? ", " : ",");
      if (!last) os << std::string(static_cast<size_t>(t.dim() - d - 1), '\n')
                    << std::string(static_cast<size_t>(indent + 1), ' ');
      if (items[k] != items[k - 1] + 1) {
        os << (last ? " ...," : "...,");
        if (last) os << ' ';
        else os << '\n' << std::string(static_cast<size_t>(indent + 1), ' ');
      }
    }
    idx[d] = items[k];
    if (last) os << f.padded(t.at<double>(idx));
    else print_rec(os, t, idx, d + 1, f, summarize, indent + 1);
  }
  os << "]";
}
}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream os;
  os << "tensor(";
  const bool summarize = numel() > kSummarizeOver;
  std::vector<int64_t> idx(static_cast<size_t>(dim()), 0);
  std::vector<double> values;
  if (numel() > 0) collect(*this, idx, 0, summarize, values);
  const Formatter f = make_formatter(*this, values);
  if (dim() == 0) {
    os << f.format(values[0]);
  } else if (numel() == 0) {
    os << "[]";
    if (dim() > 1) os << ", size=" << shape_str();
  } else {
    print_rec(os, *this, idx, 0, f, summarize, 7);
  }
  if (dtype() != kFloat32 && dtype() != kInt64 && dtype() != kBool) os << ", dtype=" << dtype();
  if (!device().is_cpu()) os << ", device='" << device() << "'";
  if (grad_fn()) {
    os << ", grad_fn=<" << grad_fn()->name() << ">";
  } else if (requires_grad()) {
    os << ", requires_grad=True";
  }
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace ember
