// Tensor: an n-d strided view of a Storage, with dtype, device and autograd metadata.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "ember/core/device.h"
#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/core/storage.h"

namespace ember {

using Shape = std::vector<int64_t>;
/// Shapes, strides and dimension lists are passed as `const Shape&`, so `{2, 3}` works.
using IntList = const std::vector<int64_t>&;

namespace autograd {
class Node;
}

class Tensor;
struct TensorImpl;

/// How a new tensor is made: its dtype, device and whether it requires grad.
struct Options {
  DType dtype = kFloat32;
  Device device = Device::cpu();
  bool requires_grad = false;
  Options() = default;
  Options(DType t) : dtype(t) {}  // NOLINT(google-explicit-constructor): `zeros({2}, kInt64)`
  Options(DType t, Device d, bool rg = false) : dtype(t), device(d), requires_grad(rg) {}
};

/// A tensor handle. Copies share the same tensor (as in PyTorch); use clone() for a deep copy.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  /// True when both handles name the same tensor.
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

  // ---- metadata ----
  const Shape& shape() const;
  const Shape& sizes() const { return shape(); }
  int64_t size(int64_t dim) const;  ///< negative dims count from the end
  const Shape& strides() const;
  int64_t stride(int64_t dim) const;
  int64_t offset() const;  ///< in elements, into the storage
  int64_t dim() const;
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  size_t element_size() const { return itemsize(dtype()); }
  bool is_contiguous() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  const std::shared_ptr<Storage>& storage() const;
  /// "(2, 3)"
  std::string shape_str() const;

  // ---- data access ----
  /// Pointer to the first element (storage data + offset). Checks T against the dtype.
  template <class T>
  T* data_ptr() const {
    EMBER_CHECK_DTYPE(dtype_of<T> == dtype(), "data_ptr: tensor has dtype ", dtype(),
                      " but the pointer type is ", dtype_of<T>);
    // Host code must not dereference device memory; kernels of other devices use raw_data().
    EMBER_CHECK_T(DeviceError, device().is_cpu(), "data_ptr: the tensor is on ", device(),
                  " and host code cannot read it; copy it first (t.cpu()) or use a ", device(),
                  " kernel");
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;
  /// The single element of a one-element tensor, converted to T.
  template <class T>
  T item() const;
  double item() const { return item<double>(); }
  /// Element at a full index, converted to T: `t.at<float>({1, 2})`.
  template <class T>
  T at(IntList index) const;
  /// All elements in row-major order, converted to T.
  template <class T>
  std::vector<T> to_vector() const;
  /// t[i] == select(0, i)
  Tensor operator[](int64_t i) const;

  // ---- conversion and copies ----
  Tensor to(DType t) const;
  Tensor to(Device d) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor clone() const;
  Tensor contiguous() const;
  /// Same data, no autograd history; shares the version counter.
  Tensor detach() const;
  Tensor& detach_();

  // ---- autograd ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool requires_grad = true);
  /// Accumulated gradient (undefined until a backward pass reaches this tensor).
  Tensor grad() const;
  /// Replaces the gradient; the new one is dense (see Note [Row-sparse gradients]).
  void set_grad(const Tensor& g) const;
  /// True when grad() is row-sparse: only the rows in grad_rows() may be non-zero.
  bool grad_is_row_sparse() const;
  /// Rows written since the last zero_grad (may repeat; unsorted).
  const std::vector<int64_t>& grad_rows() const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  bool is_leaf() const;
  /// Also keep .grad for this non-leaf tensor.
  void retain_grad() const;
  /// Runs hook(leaf) each time backward has added into this leaf's .grad (torch's
  /// register_post_accumulate_grad_hook; DistributedDataParallel starts its reductions from it).
  /// Row-sparse accumulations (embedding_bag(sparse=true)) do not run it.
  void register_post_accumulate_grad_hook(std::function<void(const Tensor&)> hook) const;
  uint64_t version() const;
  /// Backpropagates from this tensor. Scalars default to gradient 1.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false,
                bool create_graph = false) const;

  // ---- views (share storage) ----
  Tensor view(IntList shape) const;
  Tensor reshape(IntList shape) const;
  Tensor permute(IntList dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;  ///< transpose of a ≤2-d tensor
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor expand(IntList shape) const;  ///< -1 keeps a size
  Tensor expand_as(const Tensor& other) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor unflatten(int64_t dim, IntList sizes) const;
  /// Integer index tensor along dim 0 (gathers rows), or a boolean mask (selects elements).
  Tensor index(const Tensor& indices) const;
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;

  // ---- math (see the functional API for details) ----
  Tensor add(const Tensor& o, double alpha = 1) const;
  Tensor sub(const Tensor& o, double alpha = 1) const;
  Tensor mul(const Tensor& o) const;
  Tensor div(const Tensor& o) const;
  Tensor pow(double exponent) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor neg() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor log1p() const;
  Tensor sqrt() const;
  Tensor rsqrt() const;
  Tensor abs() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor clamp(std::optional<double> min, std::optional<double> max) const;
  Tensor masked_fill(const Tensor& mask, double value) const;
  Tensor matmul(const Tensor& o) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;

  Tensor sum() const;
  Tensor sum(IntList dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(IntList dims, bool keepdim = false) const;
  Tensor prod() const;
  Tensor max() const;
  Tensor min() const;
  Tensor argmax() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor var(IntList dims = {}, int64_t correction = 1, bool keepdim = false) const;
  Tensor std(IntList dims = {}, int64_t correction = 1, bool keepdim = false) const;

  // ---- in place (bump the version counter) ----
  Tensor& add_(const Tensor& o, double alpha = 1);
  Tensor& add_(double v);
  Tensor& sub_(const Tensor& o, double alpha = 1);
  Tensor& sub_(double v);
  Tensor& mul_(const Tensor& o);
  Tensor& mul_(double v);
  Tensor& div_(const Tensor& o);
  Tensor& div_(double v);
  Tensor& zero_();
  Tensor& fill_(double v);
  /// Copies src (broadcast to this shape, converted to this dtype) into this tensor.
  Tensor& copy_(const Tensor& src);
  Tensor& clamp_(std::optional<double> min, std::optional<double> max);
  Tensor& uniform_(double low = 0, double high = 1);
  Tensor& normal_(double mean = 0, double std = 1);

  /// PyTorch-style repr: "tensor([[1., 2.], [3., 4.]], requires_grad=True)".
  std::string str() const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

/// The state behind a Tensor handle. Views share `storage` (and so its version counter).
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;
  int64_t numel = 0;
  DType dtype = kFloat32;
  bool is_view = false;  ///< shares storage with a base tensor made by a view op

  // autograd
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;
  /// Note [Row-sparse gradients]: a sparse backward (embedding_bag(sparse=true)) scatter-adds
  /// into grad and lists the rows it wrote here; a dense accumulation clears the flag.
  bool grad_row_sparse = false;
  std::vector<int64_t> grad_rows;
  std::shared_ptr<autograd::Node> grad_fn;
  std::weak_ptr<autograd::Node> grad_accumulator;  ///< leaves only
  std::vector<std::function<void(const Tensor&)>> post_accumulate_grad_hooks;  ///< leaves only
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- operators (elementwise, broadcasting, as in libtorch) ----
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double b);
Tensor operator-(const Tensor& a, double b);
Tensor operator*(const Tensor& a, double b);
Tensor operator/(const Tensor& a, double b);
Tensor operator+(double a, const Tensor& b);
Tensor operator-(double a, const Tensor& b);
Tensor operator*(double a, const Tensor& b);
Tensor operator/(double a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, double b);
Tensor operator!=(const Tensor& a, double b);
Tensor operator<(const Tensor& a, double b);
Tensor operator<=(const Tensor& a, double b);
Tensor operator>(const Tensor& a, double b);
Tensor operator>=(const Tensor& a, double b);
Tensor operator&&(const Tensor& a, const Tensor& b);
Tensor operator||(const Tensor& a, const Tensor& b);
Tensor operator!(const Tensor& a);
Tensor& operator+=(Tensor& a, const Tensor& b);
Tensor& operator-=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, const Tensor& b);
Tensor& operator/=(Tensor& a, const Tensor& b);
Tensor& operator+=(Tensor& a, double b);
Tensor& operator-=(Tensor& a, double b);
Tensor& operator*=(Tensor& a, double b);
Tensor& operator/=(Tensor& a, double b);

namespace detail {
/// Normalises a possibly negative dim against ndim; throws IndexError naming op when out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
/// Row-major contiguous strides for a shape.
Shape contiguous_strides(IntList shape);
int64_t shape_numel(IntList shape);
std::string shape_to_string(IntList shape);
/// Allocates an uninitialised contiguous tensor.
Tensor make_tensor(IntList shape, DType dtype, Device device = Device::cpu());
/// A view of base's storage with the given geometry (no autograd).
Tensor make_view(const Tensor& base, IntList shape, IntList strides, int64_t offset);
}  // namespace detail

}  // namespace ember
