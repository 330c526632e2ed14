// The op registry: every public op of include/ember/ops/*.h named once (see "One op, few places").
#pragma once

/// X(name) for every public op. Names follow the functional API; overloads that differ in
/// meaning get their own name (pow_tensor: tensor ** tensor, rpow: scalar ** tensor, max_dim:
/// max(x, dim), index_tensor / index_mask: x[int tensor] / x[bool mask]). The op test table
/// (tests/parity/ops_*_test.cpp) must have a row for each name; a test fails when one is missing.
/// Adding an op: declare it, define it, add it here, add its table row.
// clang-format off
#define EMBER_OP_LIST(X)                                                                       \
  /* elementwise arithmetic */                                                                 \
  X(add) X(sub) X(mul) X(div) X(neg) X(pow) X(pow_tensor) X(rpow) X(maximum) X(minimum)        \
  X(where) X(where_scalar)                                                                     \
  /* elementwise math and activations */                                                       \
  X(exp) X(log) X(log1p) X(sqrt) X(rsqrt) X(abs) X(erf) X(sin) X(cos) X(tanh) X(sigmoid)       \
  X(relu) X(leaky_relu) X(elu) X(gelu) X(gelu_tanh) X(silu) X(softplus) X(clamp) X(sign)       \
  /* comparisons and logic */                                                                  \
  X(eq) X(ne) X(lt) X(le) X(gt) X(ge) X(logical_and) X(logical_or) X(logical_xor)              \
  X(logical_not) X(isnan) X(isfinite) X(allclose) X(broadcast_shapes)                          \
  /* reductions and scans */                                                                   \
  X(sum) X(mean) X(prod) X(max) X(min) X(max_dim) X(min_dim) X(amax) X(amin) X(argmax)         \
  X(argmin) X(argmax_dim) X(argmin_dim) X(var) X(std) X(logsumexp) X(cumsum) X(any) X(all)     \
  X(sum_to)                                                                                    \
  /* linear algebra */                                                                         \
  X(matmul) X(mm) X(bmm) X(dot) X(linear) X(lstsq)                                             \
  /* neural-network primitives */                                                              \
  X(softmax) X(log_softmax) X(dropout)                                                         \
  /* vision: convolution (ops/conv.h) */                                                       \
  X(conv2d) X(conv_transpose2d)                                                                \
  /* vision: pooling, normalization, resampling (ops/vision.h) */                              \
  X(max_pool2d) X(max_pool2d_with_indices) X(avg_pool2d) X(adaptive_avg_pool2d) X(batch_norm)  \
  X(group_norm) X(interpolate) X(pad)                                                          \
  /* attention and the Transformer's norms (ops/attention.h) */                                \
  X(scaled_dot_product_attention) X(layer_norm) X(rms_norm)                                    \
  /* shape: views */                                                                           \
  X(reshape) X(view) X(permute) X(transpose) X(squeeze) X(squeeze_dim) X(unsqueeze) X(expand)  \
  X(narrow) X(slice) X(select) X(flatten) X(unflatten) X(contiguous)                           \
  /* shape: joins and splits */                                                                \
  X(cat) X(stack) X(split) X(split_with_sizes) X(chunk) X(tril) X(triu)                        \
  /* indexing */                                                                               \
  X(gather) X(scatter_add) X(index_select) X(index_add) X(index_tensor) X(index_mask)          \
  X(masked_select) X(masked_fill) X(embedding) X(one_hot) X(topk) X(sort) X(argsort)           \
  /* creation */                                                                               \
  X(empty) X(zeros) X(ones) X(full) X(scalar_tensor) X(empty_like) X(zeros_like) X(ones_like)  \
  X(full_like) X(arange) X(linspace) X(eye) X(rand) X(randn) X(randint) X(normal)              \
  X(rand_like) X(randn_like) X(randperm) X(tensor) X(from_vector) X(from_blob)                 \
  /* recommendation (ops/recsys.h) */                                                          \
  X(embedding_bag) X(fm_interaction)
// clang-format on
