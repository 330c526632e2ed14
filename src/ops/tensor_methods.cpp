// Tensor member functions: thin forwards to the functional API, conversions and in-place ops.
#include <cmath>

#include "ember/autograd/grad_mode.h"
#include "ember/core/cuda.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/linalg.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"
#include "ops/op_utils.h"

namespace ember {

Tensor Tensor::operator[](int64_t i) const { return ember::select(*this, 0, i); }

Tensor Tensor::to(DType t) const {
  ops::check_defined(*this, "to");
  if (dtype() == t) return *this;
  Tensor out = ops::cast(*this, t);
  if (is_floating(t)) {
    autograd::record("ToCopyBackward", out, {*this}, [](const Tensor& g) {
      return std::vector<Tensor>{g};  // the engine casts back to the input dtype
    });
  }
  return out;
}

// A copy to another device: the source is made contiguous on its own device, its bytes are
// copied (synchronously with respect to the host), and the backward moves the gradient back.
Tensor Tensor::to(Device d) const {
  ops::check_defined(*this, "to");
  if (device() == d) return *this;
#if defined(EMBER_WITH_CUDA)
  constexpr const char* kWhyNoCuda = "no CUDA device is available (the driver reports no GPU)";
#else
  constexpr const char* kWhyNoCuda =
      "this build of Ember has no CUDA support (rebuild with -DEMBER_CUDA=ON)";
#endif
  EMBER_CHECK_T(DeviceError, !d.is_cuda() || cuda::is_available(), "to: cannot move a tensor to ",
                d, ": ", kWhyNoCuda);
  Tensor src;
  {
    NoGradGuard no_grad;
    src = contiguous();
  }
  Tensor out = detail::make_tensor(shape(), dtype(), d);
  cuda::detail::copy_bytes(out.raw_data(), d, src.raw_data(), device(),
                           static_cast<size_t>(numel()) * element_size());
  if (is_floating_point()) {
    autograd::record("ToDeviceBackward", out, {*this}, [from = device()](const Tensor& g) {
      return std::vector<Tensor>{g.to(from)};
    });
  }
  return out;
}

Tensor Tensor::clone() const {
  ops::check_defined(*this, "clone");
  Tensor out = detail::make_tensor(shape(), dtype(), device());
  ops::kernels(*this).copy(*this, out);
  autograd::record("CloneBackward", out, {*this}, [](const Tensor& g) {
    return std::vector<Tensor>{g};
  });
  return out;
}

Tensor Tensor::contiguous() const { return ember::contiguous(*this); }

Tensor Tensor::view(IntList s) const { return ember::view(*this, s); }
Tensor Tensor::reshape(IntList s) const { return ember::reshape(*this, s); }
Tensor Tensor::permute(IntList d) const { return ember::permute(*this, d); }
Tensor Tensor::transpose(int64_t a, int64_t b) const { return ember::transpose(*this, a, b); }
Tensor Tensor::t() const {
  EMBER_CHECK_SHAPE(dim() <= 2, "t(): expects a tensor with <= 2 dims, got shape ", shape_str());
  return dim() < 2 ? *this : ember::transpose(*this, 0, 1);
}
Tensor Tensor::squeeze() const { return ember::squeeze(*this); }
Tensor Tensor::squeeze(int64_t d) const { return ember::squeeze(*this, d); }
Tensor Tensor::unsqueeze(int64_t d) const { return ember::unsqueeze(*this, d); }
Tensor Tensor::expand(IntList s) const { return ember::expand(*this, s); }
Tensor Tensor::expand_as(const Tensor& o) const { return ember::expand(*this, o.shape()); }
Tensor Tensor::narrow(int64_t d, int64_t s, int64_t l) const { return ember::narrow(*this, d, s, l); }
Tensor Tensor::slice(int64_t d, int64_t s, int64_t e, int64_t st) const {
  return ember::slice(*this, d, s, e, st);
}
Tensor Tensor::select(int64_t d, int64_t i) const { return ember::select(*this, d, i); }
Tensor Tensor::flatten(int64_t s, int64_t e) const { return ember::flatten(*this, s, e); }
Tensor Tensor::unflatten(int64_t d, IntList s) const { return ember::unflatten(*this, d, s); }
Tensor Tensor::index(const Tensor& i) const { return ember::index(*this, i); }
std::vector<Tensor> Tensor::split(int64_t s, int64_t d) const { return ember::split(*this, s, d); }
std::vector<Tensor> Tensor::chunk(int64_t c, int64_t d) const { return ember::chunk(*this, c, d); }

Tensor Tensor::add(const Tensor& o, double alpha) const { return ember::add(*this, o, alpha); }
Tensor Tensor::sub(const Tensor& o, double alpha) const { return ember::sub(*this, o, alpha); }
Tensor Tensor::mul(const Tensor& o) const { return ember::mul(*this, o); }
Tensor Tensor::div(const Tensor& o) const { return ember::div(*this, o); }
Tensor Tensor::pow(double e) const { return ember::pow(*this, e); }
Tensor Tensor::pow(const Tensor& e) const { return ember::pow(*this, e); }
Tensor Tensor::neg() const { return ember::neg(*this); }
Tensor Tensor::exp() const { return ember::exp(*this); }
Tensor Tensor::log() const { return ember::log(*this); }
Tensor Tensor::log1p() const { return ember::log1p(*this); }
Tensor Tensor::sqrt() const { return ember::sqrt(*this); }
Tensor Tensor::rsqrt() const { return ember::rsqrt(*this); }
Tensor Tensor::abs() const { return ember::abs(*this); }
Tensor Tensor::sin() const { return ember::sin(*this); }
Tensor Tensor::cos() const { return ember::cos(*this); }
Tensor Tensor::tanh() const { return ember::tanh(*this); }
Tensor Tensor::sigmoid() const { return ember::sigmoid(*this); }
Tensor Tensor::relu() const { return ember::relu(*this); }
Tensor Tensor::clamp(std::optional<double> lo, std::optional<double> hi) const {
  return ember::clamp(*this, lo, hi);
}
Tensor Tensor::masked_fill(const Tensor& m, double v) const { return ember::masked_fill(*this, m, v); }
Tensor Tensor::matmul(const Tensor& o) const { return ember::matmul(*this, o); }
Tensor Tensor::softmax(int64_t d) const { return ember::softmax(*this, d); }
Tensor Tensor::log_softmax(int64_t d) const { return ember::log_softmax(*this, d); }
Tensor Tensor::sum() const { return ember::sum(*this); }
Tensor Tensor::sum(IntList d, bool k) const { return ember::sum(*this, d, k); }
Tensor Tensor::mean() const { return ember::mean(*this); }
Tensor Tensor::mean(IntList d, bool k) const { return ember::mean(*this, d, k); }
Tensor Tensor::prod() const { return ember::prod(*this); }
Tensor Tensor::max() const { return ember::max(*this); }
Tensor Tensor::min() const { return ember::min(*this); }
Tensor Tensor::argmax() const { return ember::argmax(*this); }
Tensor Tensor::argmax(int64_t d, bool k) const { return ember::argmax(*this, d, k); }
Tensor Tensor::var(IntList d, int64_t c, bool k) const { return ember::var(*this, d, c, k); }
Tensor Tensor::std(IntList d, int64_t c, bool k) const { return ember::std(*this, d, c, k); }

// ---- in place ----

namespace {
// o broadcast to self's shape and converted to self's dtype, for an in-place kernel.
Tensor operand_for(const Tensor& self, const Tensor& o, const char* op) {
  ops::check_defined(o, op, "other");
  ops::check_same_device(self, o, op);
  const Shape shape = broadcast_shapes(self.shape(), o.shape(), op);
  EMBER_CHECK_SHAPE(shape == self.shape(), op, ": output with shape ", self.shape_str(),
                    " doesn't match the broadcast shape ", detail::shape_to_string(shape));
  return ops::broadcast_view(ops::cast(o, self.dtype()), self.shape());
}

// As torch: an in-place result must fit self's dtype (no float into int, no int into bool).
void check_inplace_result(const Tensor& self, DType result, const char* op) {
  const DType t = self.dtype();
  EMBER_CHECK_DTYPE((is_floating(t) || !is_floating(result)) && (t != kBool || result == kBool),
                    op, ": result type ", result, " can't be cast to the desired output type ", t);
}

void check_inplace_scalar(const Tensor& self, double v, const char* op) {
  EMBER_CHECK_DTYPE(is_floating(self.dtype()) || std::floor(v) == v, op, ": result type Float ",
                    "can't be cast to the desired output type ", self.dtype(), " (scalar ", v, ")");
}

Tensor& binary_inplace(Tensor& self, const Tensor& o, ops::BinaryOp op, double alpha,
                       const char* name, Tensor (*fn)(const Tensor&, const Tensor&, double)) {
  ops::check_defined(self, name, "self");
  Tensor rhs = operand_for(self, o, name);
  check_inplace_result(self, ops::result_type(self, o), name);
  ops::inplace(
      self, {o}, name, [&] { ops::kernels(self).binary(op, self, rhs, self, alpha); },
      [&](const Tensor& old) { return fn(old, o, alpha); });
  return self;
}

Tensor& unary_inplace(Tensor& self, ops::UnaryOp op, double a, double b, const char* name,
                      const std::function<Tensor(const Tensor&)>& fn) {
  ops::check_defined(self, name, "self");
  ops::inplace(
      self, {}, name, [&] { ops::kernels(self).unary(op, self, self, a, b); }, fn);
  return self;
}
}  // namespace

Tensor& Tensor::add_(const Tensor& o, double alpha) {
  return binary_inplace(*this, o, ops::BinaryOp::Add, alpha, "add_",
                        [](const Tensor& a, const Tensor& b, double al) { return ember::add(a, b, al); });
}
Tensor& Tensor::sub_(const Tensor& o, double alpha) {
  return binary_inplace(*this, o, ops::BinaryOp::Sub, alpha, "sub_",
                        [](const Tensor& a, const Tensor& b, double al) { return ember::sub(a, b, al); });
}
Tensor& Tensor::mul_(const Tensor& o) {
  return binary_inplace(*this, o, ops::BinaryOp::Mul, 1, "mul_",
                        [](const Tensor& a, const Tensor& b, double) { return ember::mul(a, b); });
}
Tensor& Tensor::div_(const Tensor& o) {
  EMBER_CHECK_DTYPE(is_floating(dtype()), "div_: true division result can't be stored in a ",
                    dtype(), " tensor");
  return binary_inplace(*this, o, ops::BinaryOp::Div, 1, "div_",
                        [](const Tensor& a, const Tensor& b, double) { return ember::div(a, b); });
}
Tensor& Tensor::add_(double v) {
  ops::check_defined(*this, "add_", "self");
  check_inplace_scalar(*this, v, "add_");
  return unary_inplace(*this, ops::UnaryOp::AddScalar, v, 0, "add_",
                       [v](const Tensor& old) { return old + v; });
}
Tensor& Tensor::sub_(double v) { return add_(-v); }
Tensor& Tensor::mul_(double v) {
  ops::check_defined(*this, "mul_", "self");
  check_inplace_scalar(*this, v, "mul_");
  return unary_inplace(*this, ops::UnaryOp::MulScalar, v, 0, "mul_",
                       [v](const Tensor& old) { return old * v; });
}
Tensor& Tensor::div_(double v) {
  EMBER_CHECK_DTYPE(is_floating(dtype()), "div_: true division result can't be stored in a ",
                    dtype(), " tensor");
  return mul_(1.0 / v);
}
Tensor& Tensor::clamp_(std::optional<double> lo, std::optional<double> hi) {
  EMBER_CHECK(lo || hi, "clamp_: at least one of min and max must be given");
  const double a = lo.value_or(-std::numeric_limits<double>::infinity());
  const double b = hi.value_or(std::numeric_limits<double>::infinity());
  return unary_inplace(*this, ops::UnaryOp::Clamp, a, b, "clamp_",
                       [lo, hi](const Tensor& old) { return ember::clamp(old, lo, hi); });
}
Tensor& Tensor::fill_(double v) {
  ops::check_defined(*this, "fill_", "self");
  ops::inplace(
      *this, {}, "fill_", [&] { ops::kernels(*this).fill(*this, v); },
      // where(true, v, old): no gradient to old, and no nan from inf * 0
      [&](const Tensor& old) {
        return ember::masked_fill(old, ones({}, Options(kBool, old.device())), v);
      });
  return *this;
}
Tensor& Tensor::zero_() { return fill_(0); }
Tensor& Tensor::copy_(const Tensor& src) {
  ops::check_defined(*this, "copy_", "self");
  Tensor rhs = operand_for(*this, src, "copy_");
  ops::inplace(
      *this, {src}, "copy_", [&] { ops::kernels(*this).copy(rhs, *this); },
      // where(true, src, old): the result depends on src (its gradient flows there) and on
      // old with zero gradient, so self keeps a grad_fn even when src needs no gradient.
      [&](const Tensor& old) {
        return ember::where(ones({}, Options(kBool, old.device())),
                            ember::expand(src.to(dtype()), shape()), old);
      });
  return *this;
}
Tensor& Tensor::uniform_(double low, double high) {
  NoGradGuard no_grad;
  ops::check_defined(*this, "uniform_", "self");
  Tensor tmp = rand(shape(), dtype());
  ops::kernels(*this).copy(ops::cast(tmp * (high - low) + low, dtype()), *this);
  storage()->bump_version();
  return *this;
}
Tensor& Tensor::normal_(double mean, double std) {
  NoGradGuard no_grad;
  ops::check_defined(*this, "normal_", "self");
  Tensor tmp = normal(mean, std, shape(), dtype());
  ops::kernels(*this).copy(tmp, *this);
  storage()->bump_version();
  return *this;
}

}  // namespace ember
