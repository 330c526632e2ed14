// Indexing ops: gather/scatter_add, index_select, masks, embedding, one_hot, sort/topk.
#include "ember/ops/index.h"

#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;

namespace {

Tensor contig(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor c = detail::make_tensor(t.shape(), t.dtype(), t.device());
  ops::kernels(t).copy(t, c);
  return c;
}

Tensor index_tensor(const Tensor& index, const char* op) {
  ops::check_defined(index, op, "index");
  EMBER_CHECK_DTYPE(index.dtype() == kInt64 || index.dtype() == kInt32, op,
                    ": index must be int64 or int32, got ", index.dtype());
  return contig(ops::cast(index, kInt64));
}

// (A, N, B) split of x's shape around dim.
void split_around(const Shape& shape, int64_t d, int64_t& A, int64_t& B) {
  A = 1;
  B = 1;
  for (int64_t k = 0; k < static_cast<int64_t>(shape.size()); ++k) {
    if (k < d) A *= shape[k];
    if (k > d) B *= shape[k];
  }
}

void check_gather_shapes(const Tensor& x, int64_t d, const Tensor& index, const char* op) {
  EMBER_CHECK_SHAPE(index.dim() == x.dim(), op, ": index has ", index.dim(),
                    " dims but input has ", x.dim(), " (shapes ", index.shape_str(), " and ",
                    x.shape_str(), ")");
  for (int64_t k = 0; k < x.dim(); ++k)
    EMBER_CHECK_SHAPE(k == d || index.size(k) == x.size(k), op,
                      ": index shape ", index.shape_str(), " must match input shape ",
                      x.shape_str(), " except in dim ", d);
}

}  // namespace

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index_in) {
  ops::check_defined(x, "gather");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "gather");
  Tensor index = index_tensor(index_in, "gather");
  if (x.dim() > 0) {
    // As torch.gather: the index may be smaller than x in the other dims; gather from the
    // leading part of x there.
    EMBER_CHECK_SHAPE(index.dim() == x.dim(), "gather: index has ", index.dim(),
                      " dims but input has ", x.dim(), " (shapes ", index.shape_str(), " and ",
                      x.shape_str(), ")");
    Tensor part = x;
    for (int64_t k = 0; k < x.dim(); ++k) {
      if (k == d || index.size(k) == x.size(k)) continue;
      EMBER_CHECK_SHAPE(index.size(k) < x.size(k), "gather: index shape ", index.shape_str(),
                        " is larger than input shape ", x.shape_str(), " in dim ", k);
      part = narrow(part, k, 0, index.size(k));
    }
    if (!part.is_same(x)) return gather(part, d, index);
  }
  Tensor xc = contig(x);
  Tensor out = detail::make_tensor(index.shape(), x.dtype(), x.device());
  int64_t A, B;
  split_around(x.shape(), d, A, B);
  ops::kernels(x).gather(xc, index, A, x.dim() ? x.size(d) : 1, B, out);
  autograd::record("GatherBackward", out, {x}, [si = SavedTensor(index), d, shape = x.shape()](
                                                   const Tensor& g) {
    return std::vector<Tensor>{
        scatter_add(zeros(shape, {g.dtype(), g.device()}), d, si.get("GatherBackward"), g)};
  });
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index_in, const Tensor& src) {
  ops::check_defined(x, "scatter_add");
  ops::check_defined(src, "scatter_add", "src");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "scatter_add");
  Tensor index = index_tensor(index_in, "scatter_add");
  EMBER_CHECK_SHAPE(index.shape() == src.shape(), "scatter_add: index shape ", index.shape_str(),
                    " must equal src shape ", src.shape_str());
  if (x.dim() > 0) check_gather_shapes(x, d, index, "scatter_add");
  EMBER_CHECK_DTYPE(src.dtype() == x.dtype(), "scatter_add: src dtype ", src.dtype(),
                    " must equal self dtype ", x.dtype());
  Tensor out = x.clone().detach();
  int64_t A, B;
  split_around(x.shape(), d, A, B);
  ops::kernels(x).scatter_add(out, index, contig(src), A, x.dim() ? x.size(d) : 1, B);
  autograd::record("ScatterAddBackward", out, {x, src},
                   [si = SavedTensor(index), d](const Tensor& g) {
                     return std::vector<Tensor>{g, gather(g, d, si.get("ScatterAddBackward"))};
                   });
  return out;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index_in) {
  ops::check_defined(x, "index_select");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "index_select");
  Tensor index = index_tensor(index_in, "index_select");
  EMBER_CHECK_SHAPE(index.dim() <= 1, "index_select: index must be 1-d, got shape ",
                    index.shape_str());
  Shape shape = x.shape();
  if (x.dim() > 0) shape[d] = index.numel();
  Tensor out = detail::make_tensor(shape, x.dtype(), x.device());
  int64_t A, B;
  split_around(x.shape(), d, A, B);
  ops::kernels(x).index_select(contig(x), index, A, x.dim() ? x.size(d) : 1, B, out);
  autograd::record("IndexSelectBackward", out, {x},
                   [si = SavedTensor(index), d, shape = x.shape()](const Tensor& g) {
                     return std::vector<Tensor>{index_add(zeros(shape, {g.dtype(), g.device()}), d,
                                                          si.get("IndexSelectBackward"), g)};
                   });
  return out;
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index_in, const Tensor& src) {
  ops::check_defined(x, "index_add");
  ops::check_defined(src, "index_add", "src");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "index_add");
  Tensor index = index_tensor(index_in, "index_add");
  Shape expect = x.shape();
  if (x.dim() > 0) expect[d] = index.numel();
  EMBER_CHECK_SHAPE(src.shape() == expect, "index_add: src shape ", src.shape_str(),
                    " must be ", detail::shape_to_string(expect), " for input ", x.shape_str(),
                    " and ", index.numel(), " indices");
  EMBER_CHECK_DTYPE(src.dtype() == x.dtype(), "index_add: src dtype ", src.dtype(),
                    " must equal self dtype ", x.dtype());
  Tensor out = x.clone().detach();
  int64_t A, B;
  split_around(x.shape(), d, A, B);
  ops::kernels(x).index_add(out, index, contig(src), A, x.dim() ? x.size(d) : 1, B);
  autograd::record("IndexAddBackward", out, {x, src}, [si = SavedTensor(index), d](const Tensor& g) {
    return std::vector<Tensor>{g, index_select(g, d, si.get("IndexAddBackward"))};
  });
  return out;
}

Tensor index(const Tensor& x, const Tensor& idx) {
  ops::check_defined(x, "index");
  ops::check_defined(idx, "index", "index");
  if (idx.dtype() == kBool) {
    // x[mask]: mask covers x's leading dims (all of them: the selected elements, 1-d);
    // the result stacks the selected slices: (count, x.shape[mask.dim():]).
    EMBER_CHECK_INDEX(idx.dim() <= x.dim(), "index: mask of shape ", idx.shape_str(),
                      " has more dims than the indexed tensor of shape ", x.shape_str());
    for (int64_t k = 0; k < idx.dim(); ++k)
      EMBER_CHECK_INDEX(idx.size(k) == x.size(k), "index: mask of shape ", idx.shape_str(),
                        " does not match the indexed tensor of shape ", x.shape_str(),
                        " at dim ", k);
    if (idx.dim() == x.dim()) return masked_select(x, idx);
    Shape rows_shape{detail::shape_numel(idx.shape())};
    rows_shape.insert(rows_shape.end(), x.shape().begin() + idx.dim(), x.shape().end());
    return index_select(reshape(x, rows_shape), 0, ops::kernels(x).nonzero_flat(contig(idx)));
  }
  EMBER_CHECK_INDEX(x.dim() > 0, "index: cannot index a 0-d tensor");
  Tensor flat = reshape(index_tensor(idx, "index"), {-1});
  // Negative indices count from the end, as in Python.
  flat = where(flat < 0.0, flat + static_cast<double>(x.size(0)), flat);
  Tensor rows = index_select(x, 0, flat);
  Shape shape = idx.shape();
  shape.insert(shape.end(), x.shape().begin() + 1, x.shape().end());
  return reshape(rows, shape);
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  ops::check_defined(x, "masked_select");
  EMBER_CHECK_DTYPE(mask.dtype() == kBool, "masked_select: mask must be bool, got ", mask.dtype());
  const Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_select");
  Tensor m = contig(ops::broadcast_view(mask, shape));
  Tensor positions = ops::kernels(x).nonzero_flat(m);
  return index_select(reshape(expand(x, shape), {-1}), 0, positions);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  ops::check_defined(x, "masked_fill");
  ops::check_defined(mask, "masked_fill", "mask");
  EMBER_CHECK_DTYPE(mask.dtype() == kBool, "masked_fill: mask must be bool, got ", mask.dtype());
  const Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  EMBER_CHECK_SHAPE(shape == x.shape(), "masked_fill: mask of shape ", mask.shape_str(),
                    " does not broadcast to input shape ", x.shape_str());
  return where(mask, ops::scalar_like(value, x.dtype(), x.device()), x);
}

Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  ops::check_defined(weight, "embedding", "weight");
  EMBER_CHECK_SHAPE(weight.dim() == 2, "embedding: weight must be 2-d (num_embeddings, dim), got ",
                    weight.shape_str());
  Tensor idx = reshape(index_tensor(indices, "embedding"), {-1});
  const int64_t V = weight.size(0), D = weight.size(1);
  Tensor rows;
  try {
    rows = index_select(weight.detach(), 0, idx);
  } catch (const IndexError&) {  // name the op and the offending index
    const std::vector<int64_t> p = idx.to_vector<int64_t>();  // copies from a GPU first
    int64_t bad = 0;
    for (int64_t v : p)
      if (v < 0 || v >= V) {
        bad = v;
        break;
      }
    EMBER_THROW(IndexError, "embedding: index ", bad, " is out of range for a weight with ", V,
                " rows (num_embeddings; weight shape ", weight.shape_str(), ")");
  }
  Shape shape = indices.shape();
  shape.push_back(D);
  Tensor out = reshape(rows, shape);
  autograd::record("EmbeddingBackward", out, {weight},
                   [idx, padding_idx, V, D](const Tensor& g) {
                     Tensor g2 = reshape(g, {-1, D});
                     if (padding_idx >= 0) {
                       Tensor keep = (idx != static_cast<double>(padding_idx)).unsqueeze(1);
                       g2 = where(keep, g2, zeros({}, g2.dtype()));
                     }
                     Tensor gw = zeros({V, D}, {g.dtype(), g.device()});
                     return std::vector<Tensor>{index_add(gw, 0, idx, g2)};
                   });
  return out;
}

Tensor one_hot(const Tensor& indices, int64_t num_classes) {
  Tensor idx = index_tensor(indices, "one_hot");
  EMBER_CHECK(num_classes >= 0 || idx.numel() > 0, "one_hot: cannot infer the number of ",
              "classes from an empty tensor; pass num_classes");
  if (num_classes < 0) num_classes = max(idx).item<int64_t>() + 1;
  if (idx.numel()) {
    const int64_t lowest = min(idx).item<int64_t>();
    EMBER_CHECK_INDEX(lowest >= 0, "one_hot: class value ", lowest,
                      " is negative; class values must be in [0, num_classes)");
    EMBER_CHECK_INDEX(max(idx).item<int64_t>() < num_classes, "one_hot: class value ",
                      max(idx).item<int64_t>(), " is out of range for num_classes ", num_classes);
  }
  Tensor classes = arange(static_cast<double>(num_classes));
  return (unsqueeze(idx, -1) == classes).to(kInt64);
}

std::tuple<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending) {
  ops::check_defined(x, "sort");
  if (x.dim() == 0) return {x.clone(), zeros({}, kInt64)};
  const int64_t d = detail::wrap_dim(dim, x.dim(), "sort");
  Tensor xt = contig(transpose(x.detach(), d, -1));
  Tensor values = detail::make_tensor(xt.shape(), x.dtype(), x.device());
  Tensor indices = detail::make_tensor(xt.shape(), kInt64, x.device());
  if (xt.numel() > 0) ops::kernels(x).sort_rows(xt, descending, values, indices);
  indices = contig(transpose(indices, d, -1));
  Tensor v = gather(x, d, indices);  // differentiable through gather
  return {v, indices};
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending) {
  return std::get<1>(sort(x.detach(), dim, descending));
}

std::tuple<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  ops::check_defined(x, "topk");
  const int64_t d = detail::wrap_dim(dim, x.dim(), "topk");
  const int64_t n = x.dim() ? x.size(d) : 1;
  EMBER_CHECK_INDEX(k >= 0 && k <= n, "topk: k (", k, ") is out of range for dim ", d,
                    " of size ", n);
  if (x.dim() == 0) return sort(x, d, largest);
  auto [v, i] = sort(x.detach(), d, largest);
  Tensor idx = contig(narrow(i, d, 0, k));
  return {gather(x, d, idx), idx};
}

}  // namespace ember
