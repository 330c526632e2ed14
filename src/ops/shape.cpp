// Shape ops: views (share storage, backward reshapes or scatters the gradient) and joins.
#include "ember/ops/shape.h"

#include <numeric>

#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"
#include "ops/op_utils.h"

namespace ember {

namespace {

Shape infer_shape(IntList shape, int64_t numel, const char* op) {
  Shape out = shape;
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      EMBER_CHECK_SHAPE(infer < 0, op, ": only one dimension can be -1 in shape ",
                        detail::shape_to_string(shape));
      infer = static_cast<int64_t>(i);
    } else {
      EMBER_CHECK_SHAPE(out[i] >= 0, op, ": invalid size ", out[i], " in shape ",
                        detail::shape_to_string(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    EMBER_CHECK_SHAPE(known != 0 && numel % known == 0, op, ": shape ",
                      detail::shape_to_string(shape), " is invalid for input of size ", numel);
    out[infer] = numel / known;
  } else {
    EMBER_CHECK_SHAPE(known == numel, op, ": shape ", detail::shape_to_string(shape),
                      " is invalid for input of size ", numel);
  }
  return out;
}

// Strides that let `x` be viewed with `shape` without copying, if any (PyTorch's computeStride).
std::optional<Shape> view_strides(const Tensor& x, IntList shape) {
  const Shape& old_shape = x.shape();
  const Shape& old_strides = x.strides();
  Shape strides(shape.size());
  if (x.numel() == 0 || x.dim() == 0 || x.is_contiguous()) return detail::contiguous_strides(shape);
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.empty() ? 1 : old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    if (d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

// Gradient of a view that picks a subset of x's elements: zeros of x's shape with g written
// through the same view. Differentiable: its own backward applies the view to the gradient.
Tensor scatter_into_view(const Tensor& g, const Shape& base_shape,
                         const std::function<Tensor(const Tensor&)>& make_view) {
  Tensor out = zeros(base_shape, {g.dtype(), g.device()});
  {
    NoGradGuard no_grad;
    Tensor v = make_view(out);
    ops::kernels(g).copy(ops::broadcast_view(g, v.shape()), v);
  }
  autograd::record("ViewScatterBackward", out, {g}, [make_view](const Tensor& gg) {
    return std::vector<Tensor>{make_view(gg)};
  });
  return out;
}

// Records a subset view (narrow, select, slice, diagonal) for autograd.
Tensor record_subset_view(const Tensor& x, Tensor v, const char* name,
                          std::function<Tensor(const Tensor&)> make_view) {
  autograd::record(name, v, {x}, [shape = x.shape(), make_view](const Tensor& g) {
    return std::vector<Tensor>{scatter_into_view(g, shape, make_view)};
  });
  return v;
}

}  // namespace

Tensor view(const Tensor& x, IntList shape_in) {
  ops::check_defined(x, "view");
  const Shape shape = infer_shape(shape_in, x.numel(), "view");
  auto st = view_strides(x, shape);
  EMBER_CHECK_SHAPE(st.has_value(), "view: size ", detail::shape_to_string(shape),
                    " is not compatible with input of shape ", x.shape_str(), " and strides ",
                    detail::shape_to_string(x.strides()), "; use reshape() instead");
  Tensor out = detail::make_view(x, shape, *st, x.offset());
  autograd::record("ViewBackward", out, {x}, [in = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{reshape(g, in)};
  });
  return out;
}

Tensor reshape(const Tensor& x, IntList shape_in) {
  ops::check_defined(x, "reshape");
  const Shape shape = infer_shape(shape_in, x.numel(), "reshape");
  if (view_strides(x, shape)) return view(x, shape);
  return view(contiguous(x), shape);
}

Tensor contiguous(const Tensor& x) {
  ops::check_defined(x, "contiguous");
  return x.is_contiguous() ? x : x.clone();
}

Tensor permute(const Tensor& x, IntList dims) {
  ops::check_defined(x, "permute");
  const int64_t n = x.dim();
  EMBER_CHECK_SHAPE(static_cast<int64_t>(dims.size()) == n, "permute: got ", dims.size(),
                    " dims for a tensor of shape ", x.shape_str());
  Shape shape(n), strides(n), inverse(n);
  std::vector<bool> seen(static_cast<size_t>(n), false);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t d = detail::wrap_dim(dims[i], n, "permute");
    EMBER_CHECK_SHAPE(!seen[d], "permute: dim ", d, " repeated in ", detail::shape_to_string(dims));
    seen[d] = true;
    shape[i] = x.size(d);
    strides[i] = x.stride(d);
    inverse[d] = i;
  }
  Tensor out = detail::make_view(x, shape, strides, x.offset());
  autograd::record("PermuteBackward", out, {x}, [inverse](const Tensor& g) {
    return std::vector<Tensor>{permute(g, inverse)};
  });
  return out;
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  ops::check_defined(x, "transpose");
  if (x.dim() == 0) return x;
  Shape dims(static_cast<size_t>(x.dim()));
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[detail::wrap_dim(d0, x.dim(), "transpose")],
            dims[detail::wrap_dim(d1, x.dim(), "transpose")]);
  return permute(x, dims);
}

Tensor squeeze(const Tensor& x) {
  ops::check_defined(x, "squeeze");
  Shape shape;
  for (int64_t s : x.shape())
    if (s != 1) shape.push_back(s);
  return shape.size() == x.shape().size() ? x : view(x, shape);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  ops::check_defined(x, "squeeze");
  if (x.dim() == 0) return x;
  const int64_t d = detail::wrap_dim(dim, x.dim(), "squeeze");
  if (x.size(d) != 1) return x;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  Tensor out = detail::make_view(x, shape, strides, x.offset());
  autograd::record("SqueezeBackward", out, {x}, [in = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{reshape(g, in)};
  });
  return out;
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  ops::check_defined(x, "unsqueeze");
  const int64_t d = detail::wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  const int64_t st = d < x.dim() ? x.stride(d) * x.size(d) : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, st);
  Tensor out = detail::make_view(x, shape, strides, x.offset());
  autograd::record("UnsqueezeBackward", out, {x}, [in = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{reshape(g, in)};
  });
  return out;
}

Tensor expand(const Tensor& x, IntList shape_in) {
  ops::check_defined(x, "expand");
  const int64_t n = static_cast<int64_t>(shape_in.size());
  EMBER_CHECK_SHAPE(n >= x.dim(), "expand: cannot expand shape ", x.shape_str(), " to ",
                    detail::shape_to_string(shape_in), " (fewer dims)");
  Shape shape(shape_in);
  const int64_t off = n - x.dim();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t src = i >= off ? x.size(i - off) : 1;
    if (shape[i] == -1) {
      EMBER_CHECK_SHAPE(i >= off, "expand: -1 is not allowed for new leading dim ", i);
      shape[i] = src;
    }
    EMBER_CHECK_SHAPE(src == shape[i] || src == 1, "expand: the size of dim ", i, " (", src,
                      ") must match the target size ", shape[i], " or be 1; shape ",
                      x.shape_str(), " -> ", detail::shape_to_string(shape_in));
  }
  Tensor out = ops::broadcast_view(x, shape);
  if (out.is_same(x)) return x;
  autograd::record("ExpandBackward", out, {x}, [in = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{sum_to(g, in)};
  });
  return out;
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  ops::check_defined(x, "slice");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "slice");
  EMBER_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = x.size(d);
  auto clampi = [n](int64_t i) { return std::clamp<int64_t>(i < 0 ? i + n : i, 0, n); };
  const int64_t s = clampi(start), e = std::max(clampi(end), s);
  auto make = [d, s, e, step](const Tensor& t) {
    Shape shape = t.shape(), strides = t.strides();
    shape[d] = (e - s + step - 1) / step;
    strides[d] *= step;
    return detail::make_view(t, shape, strides, t.offset() + s * t.stride(d));
  };
  return record_subset_view(x, make(x), "SliceBackward", make);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  ops::check_defined(x, "narrow");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "narrow");
  const int64_t n = x.size(d);
  if (start < 0) start += n;
  EMBER_CHECK_INDEX(start >= 0 && length >= 0 && start + length <= n, "narrow: start ", start,
                    " + length ", length, " is out of range for dim ", d, " of size ", n);
  return slice(x, d, start, start + length);
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  ops::check_defined(x, "select");
  EMBER_CHECK_INDEX(x.dim() > 0, "select: cannot index a 0-d tensor");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "select");
  const int64_t n = x.size(d);
  EMBER_CHECK_INDEX(index >= -n && index < n, "select: index ", index,
                    " is out of range for dim ", d, " of size ", n, " (shape ", x.shape_str(), ")");
  const int64_t i = index < 0 ? index + n : index;
  auto make = [d, i](const Tensor& t) {
    Shape shape = t.shape(), strides = t.strides();
    const int64_t off = t.offset() + i * strides[d];
    shape.erase(shape.begin() + d);
    strides.erase(strides.begin() + d);
    return detail::make_view(t, shape, strides, off);
  };
  return record_subset_view(x, make(x), "SelectBackward", make);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  ops::check_defined(x, "flatten");
  if (x.dim() == 0) return reshape(x, {1});
  const int64_t s = detail::wrap_dim(start_dim, x.dim(), "flatten");
  const int64_t e = detail::wrap_dim(end_dim, x.dim(), "flatten");
  EMBER_CHECK_SHAPE(s <= e, "flatten: start_dim ", s, " is after end_dim ", e);
  Shape shape(x.shape().begin(), x.shape().begin() + s);
  int64_t n = 1;
  for (int64_t d = s; d <= e; ++d) n *= x.size(d);
  shape.push_back(n);
  shape.insert(shape.end(), x.shape().begin() + e + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor unflatten(const Tensor& x, int64_t dim, IntList sizes) {
  ops::check_defined(x, "unflatten");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "unflatten");
  Shape shape(x.shape().begin(), x.shape().begin() + d);
  const Shape inner = infer_shape(sizes, x.size(d), "unflatten");
  shape.insert(shape.end(), inner.begin(), inner.end());
  shape.insert(shape.end(), x.shape().begin() + d + 1, x.shape().end());
  return reshape(x, shape);
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  EMBER_CHECK(!tensors.empty(), "cat: expected a non-empty list of tensors");
  const Tensor& first = tensors[0];
  ops::check_defined(first, "cat");
  const int64_t d = detail::wrap_dim(dim, first.dim(), "cat");
  EMBER_CHECK_SHAPE(first.dim() > 0, "cat: zero-dimensional tensors cannot be concatenated");
  Shape shape = first.shape();
  DType t = first.dtype();
  int64_t total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& x = tensors[i];
    ops::check_defined(x, "cat");
    ops::check_same_device(first, x, "cat");
    EMBER_CHECK_SHAPE(x.dim() == first.dim(), "cat: tensor ", i, " has shape ", x.shape_str(),
                      " but tensor 0 has shape ", first.shape_str());
    for (int64_t k = 0; k < x.dim(); ++k)
      EMBER_CHECK_SHAPE(k == d || x.size(k) == first.size(k), "cat: sizes must match except in dim ",
                        d, "; tensor ", i, " has shape ", x.shape_str(), ", tensor 0 has ",
                        first.shape_str());
    total += x.size(d);
    t = promote_types(t, x.dtype());
  }
  shape[d] = total;
  Tensor out = detail::make_tensor(shape, t, first.device());
  int64_t pos = 0;
  Shape sizes;
  for (const Tensor& x : tensors) {
    Shape vs = out.shape();
    vs[d] = x.size(d);
    Tensor dst = detail::make_view(out, vs, out.strides(), pos * out.stride(d));
    if (x.numel() > 0) ops::kernels(out).copy(ops::cast(x, t), dst);
    pos += x.size(d);
    sizes.push_back(x.size(d));
  }
  autograd::record("CatBackward", out, tensors, [d, sizes](const Tensor& g) {
    return split_with_sizes(g, sizes, d);
  });
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  EMBER_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  const int64_t d = detail::wrap_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  for (size_t i = 0; i < tensors.size(); ++i) {
    EMBER_CHECK_SHAPE(tensors[i].shape() == tensors[0].shape(), "stack: tensor ", i, " has shape ",
                      tensors[i].shape_str(), " but tensor 0 has shape ", tensors[0].shape_str());
    parts.push_back(unsqueeze(tensors[i], d));
  }
  return cat(parts, d);
}

std::vector<Tensor> split_with_sizes(const Tensor& x, IntList sizes, int64_t dim) {
  ops::check_defined(x, "split");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  EMBER_CHECK_SHAPE(total == x.size(d), "split_with_sizes: sizes ",
                    detail::shape_to_string(sizes), " sum to ", total, " but dim ", d,
                    " has size ", x.size(d));
  std::vector<Tensor> out;
  int64_t pos = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(x, d, pos, s));
    pos += s;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim) {
  ops::check_defined(x, "split");
  EMBER_CHECK(split_size > 0, "split: split_size must be positive, got ", split_size);
  const int64_t d = detail::wrap_dim(dim, x.dim(), "split");
  Shape sizes;
  for (int64_t pos = 0; pos < x.size(d); pos += split_size)
    sizes.push_back(std::min(split_size, x.size(d) - pos));
  if (sizes.empty()) sizes.push_back(0);
  return split_with_sizes(x, sizes, d);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  ops::check_defined(x, "chunk");
  EMBER_CHECK(chunks > 0, "chunk: chunks must be positive, got ", chunks);
  const int64_t d = detail::wrap_dim(dim, x.dim(), "chunk");
  if (x.size(d) == 0) return split_with_sizes(x, Shape(chunks, 0), d);  // as torch: chunks empties
  const int64_t size = (x.size(d) + chunks - 1) / chunks;
  return split(x, std::max<int64_t>(size, 1), d);
}

namespace {
Tensor triangle(const Tensor& x, int64_t k, bool lower, const char* op) {
  ops::check_defined(x, op);
  EMBER_CHECK_SHAPE(x.dim() >= 2, op, ": expected a tensor with at least 2 dims, got shape ",
                    x.shape_str());
  const int64_t n = x.size(-2), m = x.size(-1);
  Tensor rows = unsqueeze(arange(n), 1);
  Tensor cols = arange(m);
  Tensor diff = cols - rows;  // (n, m): j - i
  Tensor mask = lower ? diff <= static_cast<double>(k) : diff >= static_cast<double>(k);
  return where(mask, x, zeros({}, x.dtype()));
}
}  // namespace

Tensor tril(const Tensor& x, int64_t diagonal) { return triangle(x, diagonal, true, "tril"); }
Tensor triu(const Tensor& x, int64_t diagonal) { return triangle(x, diagonal, false, "triu"); }

}  // namespace ember
