// Resampling ops, composed of indexing ops (so autograd comes for free): interpolate
// (nearest, bilinear) and pad (constant, reflect).
#include <cmath>

#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/shape.h"
#include "ember/ops/vision.h"
#include "ops/op_utils.h"

namespace ember {

namespace {

Tensor index_tensor(const std::vector<int64_t>& v) {
  return from_vector(v);
}

// x resized along dim to out positions by nearest-neighbour (torch's float arithmetic).
Tensor nearest_dim(const Tensor& x, int64_t dim, int64_t out, std::optional<double> scale) {
  const int64_t in = x.size(dim);
  const float s =
      scale ? static_cast<float>(1.0 / *scale) : static_cast<float>(in) / static_cast<float>(out);
  std::vector<int64_t> idx(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o)
    idx[static_cast<size_t>(o)] =
        std::min<int64_t>(static_cast<int64_t>(std::floor(static_cast<float>(o) * s)), in - 1);
  return index_select(x, dim, index_tensor(idx));
}

// x resized along dim (2 or 3 of 4) by linear interpolation between the two nearest sources.
Tensor linear_dim(const Tensor& x, int64_t dim, int64_t out, std::optional<double> scale,
                  bool align_corners) {
  const int64_t in = x.size(dim);
  double s;
  if (align_corners) {
    s = out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  } else {
    s = scale ? 1.0 / *scale : static_cast<double>(in) / static_cast<double>(out);
  }
  std::vector<int64_t> i0(static_cast<size_t>(out)), i1(static_cast<size_t>(out));
  std::vector<double> lambda(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    double src = align_corners ? s * static_cast<double>(o)
                               : std::max(s * (static_cast<double>(o) + 0.5) - 0.5, 0.0);
    const int64_t lo = std::min<int64_t>(static_cast<int64_t>(src), in - 1);
    const size_t u = static_cast<size_t>(o);
    i0[u] = lo;
    i1[u] = lo + (lo < in - 1 ? 1 : 0);
    lambda[u] = src - static_cast<double>(lo);
  }
  Shape wshape(static_cast<size_t>(x.dim() - dim), 1);
  wshape[0] = out;
  const Tensor l = reshape(from_vector(lambda).to(x.dtype()), wshape);
  return index_select(x, dim, index_tensor(i0)) * (1.0 - l) +
         index_select(x, dim, index_tensor(i1)) * l;
}

}  // namespace

Tensor interpolate(const Tensor& x, const InterpolateOptions& o) {
  ops::check_defined(x, "interpolate");
  EMBER_CHECK_DTYPE(x.is_floating_point(), "interpolate: input must be floating point, got ",
                    x.dtype());
  const bool bilinear = o.mode == "bilinear";
  EMBER_CHECK(o.mode == "nearest" || bilinear, "interpolate: mode must be 'nearest' or ",
              "'bilinear', got '", o.mode, "'");
  EMBER_CHECK_SHAPE(bilinear ? x.dim() == 4 : (x.dim() == 3 || x.dim() == 4), "interpolate: mode '",
                    o.mode, "' expects a ", bilinear ? "4-d (N, C, H, W)" : "3-d or 4-d",
                    " input, got ", x.shape_str());
  EMBER_CHECK(!o.align_corners || bilinear,
              "interpolate: align_corners applies only to mode 'bilinear', not '", o.mode, "'");
  EMBER_CHECK(o.size.empty() != o.scale_factor.empty(),
              "interpolate: give exactly one of size and scale_factor");
  const int64_t nd = x.dim() - 2;
  const size_t given = o.size.empty() ? o.scale_factor.size() : o.size.size();
  EMBER_CHECK(given == 1 || given == static_cast<size_t>(nd), "interpolate: expected 1 or ", nd,
              " values of ", o.size.empty() ? "scale_factor" : "size", " for input ", x.shape_str(),
              ", got ", given);
  Tensor y = x;
  for (int64_t i = 0; i < nd; ++i) {
    const size_t k = given == 1 ? 0 : static_cast<size_t>(i);
    const int64_t dim = 2 + i, in = x.size(dim);
    std::optional<double> scale;
    int64_t out;
    if (o.size.empty()) {
      scale = o.scale_factor[k];
      EMBER_CHECK(*scale > 0, "interpolate: scale_factor must be positive, got ", *scale);
      out = static_cast<int64_t>(std::floor(static_cast<double>(in) * *scale));
    } else {
      out = o.size[k];
    }
    EMBER_CHECK_SHAPE(out > 0 && in > 0, "interpolate: input ", x.shape_str(),
                      " and output sizes must be positive, got output size ", out, " in dim ", dim);
    y = bilinear ? linear_dim(y, dim, out, scale, o.align_corners)
                 : nearest_dim(y, dim, out, scale);
  }
  return y;
}

Tensor pad(const Tensor& x, IntList p, const std::string& mode, double value) {
  ops::check_defined(x, "pad");
  EMBER_CHECK(p.size() % 2 == 0, "pad: the pad list must have an even length, got ", p.size());
  const int64_t n = static_cast<int64_t>(p.size()) / 2;
  Tensor y = x;
  if (mode == "constant") {
    EMBER_CHECK_SHAPE(n <= x.dim(), "pad: ", p.size(), " pad values for input ", x.shape_str(),
                      " of ", x.dim(), " dims");
    for (int64_t i = 0; i < n; ++i) {
      const int64_t dim = x.dim() - 1 - i, l = p[2 * i], r = p[2 * i + 1];
      const int64_t size = y.size(dim) + l + r;
      EMBER_CHECK_SHAPE(size >= 0, "pad: padding (", l, ", ", r, ") of dim ", dim, " of input ",
                        x.shape_str(), " gives a negative size ", size);
      if (l < 0) y = narrow(y, dim, -l, y.size(dim) + l);
      if (r < 0) y = narrow(y, dim, 0, y.size(dim) + r);
      if (l <= 0 && r <= 0) continue;
      std::vector<Tensor> parts;
      Shape s = y.shape();
      if (l > 0) {
        s[static_cast<size_t>(dim)] = l;
        parts.push_back(full(s, value, y.dtype()));
      }
      parts.push_back(y);
      if (r > 0) {
        s[static_cast<size_t>(dim)] = r;
        parts.push_back(full(s, value, y.dtype()));
      }
      y = cat(parts, dim);
    }
    return y;
  }
  EMBER_CHECK(mode == "reflect", "pad: mode must be 'constant' or 'reflect', got '", mode, "'");
  EMBER_CHECK(n == 1 || n == 2, "pad: mode 'reflect' pads the last 1 or 2 dims (2 or 4 values), ",
              "got ", p.size(), " values");
  EMBER_CHECK_SHAPE(x.dim() == n + 1 || x.dim() == n + 2, "pad: mode 'reflect' with ", p.size(),
                    " values expects a ", n + 1, "-d or ", n + 2, "-d input, got ", x.shape_str());
  for (int64_t i = 0; i < n; ++i) {
    const int64_t dim = x.dim() - 1 - i, l = p[2 * i], r = p[2 * i + 1], in = x.size(dim);
    EMBER_CHECK_SHAPE(l < in && r < in, "pad: reflect padding (", l, ", ", r,
                      ") must be less than the size ", in, " of dim ", dim, " of input ",
                      x.shape_str());
    const int64_t out = in + l + r;
    EMBER_CHECK_SHAPE(out > 0, "pad: padding (", l, ", ", r, ") of dim ", dim, " of input ",
                      x.shape_str(), " gives size ", out);
    std::vector<int64_t> idx(static_cast<size_t>(out));
    for (int64_t j = 0; j < out; ++j) {
      int64_t k = j - l;
      if (k < 0) k = -k;
      if (k >= in) k = 2 * (in - 1) - k;
      idx[static_cast<size_t>(j)] = k;
    }
    y = index_select(y, dim, index_tensor(idx));
  }
  return y;
}

}  // namespace ember
