// Recommendation ops: embedding_bag (fused bag kernels, dense or row-sparse weight gradient) and
// the factorization-machine interaction.
#include "ember/ops/recsys.h"

#include "ember/autograd/sparse_grad.h"
#include "ember/ops/creation.h"
#include "ember/ops/elementwise.h"
#include "ember/ops/index.h"
#include "ember/ops/reduce.h"
#include "ember/ops/shape.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;
using BagMode = backend::Backend::BagMode;

namespace {

constexpr const char* kOp = "embedding_bag";

BagMode parse_mode(const std::string& mode) {
  if (mode == "sum") return BagMode::Sum;
  if (mode == "mean") return BagMode::Mean;
  EMBER_CHECK(mode == "max", kOp, ": mode must be \"sum\", \"mean\" or \"max\", got \"", mode,
              "\"");
  return BagMode::Max;
}

// The bags in kernel form: flat int64 indices (N) and B + 1 bag boundaries.
struct Bags {
  Tensor indices;  // (N) int64 contiguous
  Tensor bounds;   // (B + 1) int64 contiguous
  int64_t B = 0;
};

Tensor as_int64(const Tensor& t, const char* what) {
  EMBER_CHECK_DTYPE(t.dtype() == kInt64 || t.dtype() == kInt32, kOp, ": ", what,
                    " must be int64 or int32, got ", t.dtype());
  Tensor c = t.dtype() == kInt64 ? t.detach() : t.detach().to(kInt64);
  return c.is_contiguous() ? c : c.contiguous();
}

Bags make_bags(const Tensor& indices, const Tensor& offsets, bool include_last_offset, int64_t V) {
  ops::check_defined(indices, kOp, "indices");
  Bags bags;
  const Tensor idx = as_int64(indices, "indices");
  std::vector<int64_t> bounds;
  int64_t N = idx.numel();
  if (idx.dim() == 2) {
    EMBER_CHECK(!offsets.defined(), kOp, ": offsets must be undefined when indices are 2-d (",
                idx.shape_str(), "): each row is one bag");
    const int64_t rows = idx.size(0), L = idx.size(1);
    for (int64_t b = 0; b < rows; ++b) bounds.push_back(b * L);  // torch: arange(0, N, L)
  } else {
    EMBER_CHECK_SHAPE(idx.dim() == 1, kOp, ": indices must be 1-d (with offsets) or 2-d (B, L), ",
                      "got shape ", idx.shape_str());
    EMBER_CHECK(offsets.defined(), kOp, ": 1-d indices (shape ", idx.shape_str(),
                ") need offsets (the start of each bag)");
    EMBER_CHECK_SHAPE(offsets.dim() == 1, kOp, ": offsets must be 1-d, got shape ",
                      offsets.shape_str());
    bounds = as_int64(offsets, "offsets").to_vector<int64_t>();
  }
  if (!bounds.empty()) {
    EMBER_CHECK(bounds[0] == 0, kOp, ": offsets[0] must be 0 (the first bag starts at index 0), ",
                "got ", bounds[0]);
  }
  for (size_t b = 1; b < bounds.size(); ++b)
    EMBER_CHECK(bounds[b] >= bounds[b - 1], kOp, ": offsets must be non-decreasing, but offsets[",
                b - 1, "] = ", bounds[b - 1], " > offsets[", b, "] = ", bounds[b]);
  if (!bounds.empty()) {
    EMBER_CHECK(bounds.back() <= N, kOp, ": offsets[-1] = ", bounds.back(),
                " is beyond the end of indices (", N, " entries)");
  }
  if (include_last_offset) {
    EMBER_CHECK(!bounds.empty() || idx.dim() == 2, kOp,
                ": include_last_offset needs at least one offset (the end of the last bag)");
    if (!bounds.empty()) N = bounds.back();  // entries after the last offset belong to no bag
  } else {
    bounds.push_back(N);
  }
  if (bounds.empty()) bounds.push_back(0);
  bags.B = static_cast<int64_t>(bounds.size()) - 1;
  bags.indices = reshape(idx, {-1});
  const int64_t* p = bags.indices.data_ptr<int64_t>();
  for (int64_t i = 0; i < N; ++i) {
    if (p[i] < 0 || p[i] >= V) {
      EMBER_THROW(IndexError, kOp, ": index ", p[i], " (at position ", i,
                  ") is out of range for a weight with ", V, " rows");
    }
  }
  bags.bounds = from_vector(bounds);
  return bags;
}

// Entry i's bag, for the composite (create_graph) backward: (N) int64, B for unused entries.
Tensor bag_ids(const Bags& bags) {
  const int64_t N = bags.indices.numel();
  std::vector<int64_t> ids(static_cast<size_t>(N), bags.B);
  const std::vector<int64_t> bounds = bags.bounds.to_vector<int64_t>();
  for (int64_t b = 0; b < bags.B; ++b)
    for (int64_t i = bounds[b]; i < bounds[b + 1]; ++i) ids[i] = b;
  return from_vector(ids);
}

// The weight gradient written with ember ops (differentiable; used under create_graph).
// g: (B, D); entries of padding or of no bag contribute nothing.
Tensor composite_weight_grad(const Tensor& g, const Bags& bags, const Tensor& psw,
                             const Tensor& argmax, BagMode mode, int64_t padding_idx,
                             const Shape& wshape) {
  const int64_t V = wshape[0], D = wshape[1], N = bags.indices.numel();
  if (mode == BagMode::Max) {
    Tensor col = arange(static_cast<double>(D)).view({1, D});
    const Tensor stride = full({}, static_cast<double>(D), kInt64);
    Tensor flat =
        where(argmax >= 0, argmax * stride + col, full({}, static_cast<double>(V * D), kInt64));
    Tensor gw = index_add(zeros({V * D + 1}, g.dtype()), 0, reshape(flat, {-1}), reshape(g, {-1}));
    return narrow(gw, 0, 0, V * D).view({V, D});
  }
  const Tensor ids = bag_ids(bags);
  Tensor gpad = cat({g, zeros({1, D}, g.dtype())});  // row B: entries of no bag
  Tensor rows = index_select(gpad, 0, ids);          // (N, D)
  std::vector<double> scale(static_cast<size_t>(N), 1.0);
  const std::vector<int64_t> bounds = bags.bounds.to_vector<int64_t>();
  const int64_t* ix = bags.indices.data_ptr<int64_t>();
  for (int64_t b = 0; b < bags.B; ++b) {
    int64_t count = 0;
    for (int64_t i = bounds[b]; i < bounds[b + 1]; ++i) count += ix[i] != padding_idx;
    for (int64_t i = bounds[b]; i < bounds[b + 1]; ++i)
      if (mode == BagMode::Mean && count > 0) scale[i] = 1.0 / static_cast<double>(count);
  }
  for (int64_t i = 0; i < N; ++i)
    if (ix[i] == padding_idx) scale[i] = 0;
  Tensor s = from_vector(scale).to(g.dtype()).view({N, 1});
  if (psw.defined()) s = s * reshape(psw, {N, 1});
  return index_add(zeros({V, D}, g.dtype()), 0, bags.indices, rows * s);
}

// d out / d per_sample_weights: <g[bag(i)], weight[indices[i]]>, 0 at padding; composite form.
Tensor composite_psw_grad(const Tensor& g, const Tensor& weight, const Bags& bags,
                          int64_t padding_idx) {
  const int64_t D = weight.size(1);
  Tensor gpad = cat({g, zeros({1, D}, g.dtype())});
  Tensor prod =
      sum(index_select(gpad, 0, bag_ids(bags)) * index_select(weight, 0, bags.indices), {1});
  return padding_idx >= 0
             ? prod * (bags.indices != full({}, static_cast<double>(padding_idx), kInt64))
                          .to(g.dtype())
             : prod;
}

}  // namespace

Tensor embedding_bag(const Tensor& weight, const Tensor& indices, const Tensor& offsets,
                     const std::string& mode_name, const Tensor& per_sample_weights,
                     int64_t padding_idx, bool include_last_offset, bool sparse) {
  ops::check_defined(weight, kOp, "weight");
  EMBER_CHECK_SHAPE(weight.dim() == 2, kOp, ": weight must be 2-d (num_embeddings, dim), got ",
                    "shape ", weight.shape_str());
  EMBER_CHECK_DTYPE(weight.is_floating_point(), kOp, ": weight must be floating point, got ",
                    weight.dtype());
  const BagMode mode = parse_mode(mode_name);
  const int64_t V = weight.size(0), D = weight.size(1);
  EMBER_CHECK(padding_idx < V, kOp, ": padding_idx ", padding_idx, " is out of range for ", V,
              " rows");
  if (padding_idx < 0) padding_idx = -1;
  const Tensor& psw_in = per_sample_weights;
  if (psw_in.defined()) {
    EMBER_CHECK(mode == BagMode::Sum, kOp, ": per_sample_weights is only supported for mode ",
                "\"sum\", got mode \"", mode_name, "\"");
    EMBER_CHECK_SHAPE(psw_in.shape() == indices.shape(), kOp, ": per_sample_weights has shape ",
                      psw_in.shape_str(), " but indices have shape ", indices.shape_str());
    EMBER_CHECK_DTYPE(psw_in.dtype() == weight.dtype(), kOp, ": per_sample_weights has dtype ",
                      psw_in.dtype(), " but weight has ", weight.dtype());
    ops::check_same_device(weight, psw_in, kOp);
  }
  const Bags bags = make_bags(indices, offsets, include_last_offset, V);
  const Tensor w = weight.is_contiguous() ? weight.detach() : weight.detach().contiguous();
  const Tensor psw = !psw_in.defined() ? Tensor() : reshape(psw_in.detach(), {-1}).contiguous();
  Tensor out = detail::make_tensor({bags.B, D}, weight.dtype(), weight.device());
  Tensor argmax;
  if (mode == BagMode::Max) argmax = detail::make_tensor({bags.B, D}, kInt64, weight.device());
  ops::kernels(weight).embedding_bag_forward(w, bags.indices, bags.bounds, psw, mode, padding_idx,
                                             out, argmax);
  autograd::record(
      "EmbeddingBagBackward", out, {weight, psw_in},
      [leaf = weight, sw = SavedTensor(w), spsw = SavedTensor(psw), psw_in, bags, argmax, mode,
       padding_idx, sparse, want_psw = psw_in.defined() && psw_in.requires_grad(),
       wshape = weight.shape()](const Tensor& g_in) {
        const Tensor wv = sw.get("EmbeddingBagBackward");
        const Tensor pv = spsw.get("EmbeddingBagBackward");
        const bool want_w = leaf.requires_grad();
        const bool sparse_leaf = sparse && want_w && leaf.is_leaf();
        std::vector<Tensor> grads(2);
        if (GradMode::is_enabled()) {
          if (sparse_leaf) autograd::sparse_grad_buffer(leaf, kOp);  // throws
          // create_graph: the same gradients written with ember ops, on the inputs with history.
          if (want_w)
            grads[0] = composite_weight_grad(g_in, bags, psw_in, argmax, mode, padding_idx, wshape);
          if (want_psw)
            grads[1] = reshape(composite_psw_grad(g_in, leaf, bags, padding_idx), psw_in.shape());
          return grads;
        }
        const Tensor g = g_in.is_contiguous() ? g_in : g_in.contiguous();
        backend::Backend& k = ops::kernels(g);
        if (sparse_leaf) {
          Tensor buf = autograd::sparse_grad_buffer(leaf, kOp);
          k.embedding_bag_backward(g, bags.indices, bags.bounds, pv, mode, padding_idx, argmax,
                                   buf);
          const std::vector<int64_t> bounds = bags.bounds.to_vector<int64_t>();
          const int64_t* ix = bags.indices.data_ptr<int64_t>();
          std::vector<int64_t> rows;
          rows.reserve(static_cast<size_t>(bounds.back()));
          for (int64_t i = 0; i < bounds.back(); ++i)
            if (ix[i] != padding_idx) rows.push_back(ix[i]);
          autograd::append_grad_rows(leaf, rows);
        } else if (want_w) {
          grads[0] = zeros(wshape, Options(g.dtype(), g.device()));
          k.embedding_bag_backward(g, bags.indices, bags.bounds, pv, mode, padding_idx, argmax,
                                   grads[0]);
        }
        if (want_psw) {
          grads[1] = detail::make_tensor({bags.indices.numel()}, g.dtype(), g.device());
          k.embedding_bag_psw_backward(g, wv, bags.indices, bags.bounds, padding_idx, grads[1]);
          grads[1] = grads[1].view(psw_in.shape());
        }
        return grads;
      });
  return out;
}

Tensor fm_interaction(const Tensor& v) {
  ops::check_defined(v, "fm_interaction");
  EMBER_CHECK_SHAPE(v.dim() == 3, "fm_interaction: v must be (B, F, K) field embeddings, got ",
                    "shape ", v.shape_str());
  EMBER_CHECK_DTYPE(v.is_floating_point(), "fm_interaction: v must be floating point, got ",
                    v.dtype());
  const Tensor vc = v.is_contiguous() ? v.detach() : v.detach().contiguous();
  Tensor out = detail::make_tensor({v.size(0)}, v.dtype(), v.device());
  ops::kernels(v).fm_interaction_forward(vc, out);
  autograd::record(
      "FmInteractionBackward", out, {v}, [sv = SavedTensor(vc), vin = v](const Tensor& g) {
        if (GradMode::is_enabled()) {  // create_graph: the same formula with history
          return std::vector<Tensor>{reshape(g, {-1, 1, 1}) * (sum(vin, {1}, true) - vin)};
        }
        const Tensor x = sv.get("FmInteractionBackward");
        Tensor gv = detail::make_tensor(x.shape(), x.dtype(), x.device());
        ops::kernels(x).fm_interaction_backward(x, g.contiguous(), gv);
        return std::vector<Tensor>{gv};
      });
  return out;
}

}  // namespace ember
