// Test support: copies between ember::Tensor and torch::Tensor, and closeness checks that report
// the worst relative error.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "ember/ember.h"

namespace ember::testing {

inline torch::ScalarType torch_dtype(DType t) {
  switch (t) {
    case kFloat32: return torch::kFloat32;
    case kFloat64: return torch::kFloat64;
    case kInt32: return torch::kInt32;
    case kInt64: return torch::kInt64;
    case kBool: return torch::kBool;
    case kBFloat16: return torch::kBFloat16;
  }
  return torch::kFloat32;
}

inline DType ember_dtype(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return kFloat32;
    case torch::kFloat64: return kFloat64;
    case torch::kInt32: return kInt32;
    case torch::kInt64: return kInt64;
    case torch::kBool: return kBool;
    case torch::kBFloat16: return kBFloat16;
    default: throw std::runtime_error("unsupported torch dtype");
  }
}

/// A contiguous torch copy of t (same shape and dtype), with no autograd history.
inline torch::Tensor to_torch(const Tensor& t) {
  Tensor c = t.detach().contiguous();
  std::vector<int64_t> shape(c.shape().begin(), c.shape().end());
  return torch::from_blob(c.raw_data(), shape, torch::TensorOptions().dtype(torch_dtype(c.dtype())))
      .clone();
}

/// An ember copy of a torch tensor.
inline Tensor from_torch(const torch::Tensor& t) {
  torch::Tensor c = t.detach().contiguous();
  Tensor out = detail::make_tensor(Shape(c.sizes().begin(), c.sizes().end()),
                                   ember_dtype(c.scalar_type()));
  if (c.numel() > 0) std::memcpy(out.raw_data(), c.data_ptr(), c.numel() * c.element_size());
  return out;
}

/// Largest |a - b| / max(|b|, floor) over all elements (0 for empty tensors).
inline double max_rel_error(const Tensor& a, const torch::Tensor& b, double floor = 1e-3) {
  torch::Tensor ta = to_torch(a).to(torch::kFloat64);
  torch::Tensor tb = b.detach().to(torch::kFloat64);
  if (ta.numel() == 0) return 0;
  torch::Tensor err = (ta - tb).abs() / tb.abs().clamp_min(floor);
  // NaN in the same places counts as equal.
  err = torch::where(ta.isnan() & tb.isnan(), torch::zeros_like(err), err);
  err = torch::where(ta.isnan() ^ tb.isnan(), torch::full_like(err, INFINITY), err);
  err = torch::where((ta == tb), torch::zeros_like(err), err);  // equal infinities
  return err.max().item<double>();
}

/// Expects same shape and elementwise relative error <= rtol; reports the error.
inline void expect_close(const Tensor& a, const torch::Tensor& b, double rtol,
                         const std::string& what, double floor = 1e-3) {
  ASSERT_EQ(Shape(a.shape()), Shape(b.sizes().begin(), b.sizes().end())) << what << ": shape";
  const double e = max_rel_error(a, b, floor);
  EXPECT_LE(e, rtol) << what << ": max relative error " << e;
}

/// The floor of Note [Parity tolerance] (tests/parity/ops_table_test.cpp): errors are relative to
/// max(|want|, floor), floor = max(1e-3, 1e-2 * max|want|), since where a result cancels to near
/// zero two correct float32 computations differ by ulps of the terms, not of the result.
inline double parity_floor(const torch::Tensor& want) {
  if (want.numel() == 0 || !want.is_floating_point()) return 1e-3;
  torch::Tensor a = want.detach().abs().to(torch::kFloat64);
  a = torch::where(torch::isfinite(a), a, torch::zeros_like(a));
  return std::max(1e-3, 1e-2 * a.max().item<double>());
}

/// expect_close with the parity floor.
inline void expect_parity(const Tensor& got, const torch::Tensor& want, double rtol,
                          const std::string& what) {
  expect_close(got, want, rtol, what, parity_floor(want));
}

}  // namespace ember::testing
