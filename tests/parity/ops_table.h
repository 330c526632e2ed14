// The op test table: one row per op (Ember lambda, libtorch lambda, input cases, differentiable),
// run forward and backward against PyTorch and through a float64 gradcheck.
#pragma once

#include <functional>
#include <string>
#include <tuple>
#include <vector>

#include "support/torch_bridge.h"

namespace ember::optest {

/// How an input's values are drawn.
enum class Gen {
  Normal,        ///< standard normal
  Large,         ///< normal times 30: overflow in exp, saturation in sigmoid and softmax
  Positive,      ///< uniform [0.5, 2.5): log, sqrt, rsqrt, pow bases
  Unit,          ///< uniform (-0.9, 0.9)
  AwayFromZero,  ///< |x| in [0.25, 1.75), random sign: divisors, kinks at 0
  WithZeros,     ///< small values with about a third exact zeros (prod)
  Distinct,      ///< a shuffled arithmetic sequence: no ties, gaps of 0.25 (sort, max)
  SmallIntF,     ///< floats in {-2, ..., 2}: equalities for comparisons
  Special,       ///< normal values mixed with nan, inf and -inf
  Index,         ///< int64 in [0, hi)
  IndexNeg,      ///< int64 in [-hi, hi)
  Int,           ///< int64 in [-hi, hi)
  Bool,          ///< random bools
};

/// How the op sees an input made from its leaf ("base") tensor.
enum class Layout {
  Contig,      ///< the leaf itself
  Transposed,  ///< the leaf has the last two dims swapped and is transposed back
  Stepped,     ///< the leaf's last dim is twice as long and sliced with step 2
  Expanded,    ///< the leaf has size 1 in dim 0 and is expanded
};

struct Arg {
  Shape shape;
  Gen gen = Gen::Normal;
  Layout layout = Layout::Contig;
  int64_t hi = 3;
  bool is_float() const { return gen < Gen::Index; }
};

inline Arg arg(Shape s, Gen g = Gen::Normal, Layout l = Layout::Contig) {
  return {s, g, l};
}
inline Arg idx_arg(Shape s, int64_t hi, Gen g = Gen::Index) {
  return {s, g, Layout::Contig, hi};
}
inline Arg bool_arg(Shape s) {
  return {s, Gen::Bool};
}
inline Arg int_arg(Shape s, int64_t hi = 3) {
  return {s, Gen::Int, Layout::Contig, hi};
}

struct Case {
  std::string label;
  std::vector<Arg> args;
  bool gradcheck = true;  ///< false at kinks (ties), where finite differences are meaningless
};

using EmberFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;
using TorchFn = std::function<std::vector<torch::Tensor>(const std::vector<torch::Tensor>&)>;

struct OpRow {
  std::string name;     ///< its name in EMBER_OP_LIST
  std::string variant;  ///< tells several rows of one op apart
  EmberFn ember;
  TorchFn torch;
  std::vector<Case> cases;
  bool differentiable = true;
  bool compare_values =
      true;  ///< false for random and uninitialised results (shape and dtype only)
};

/// Rows of each family (one source file each).
std::vector<OpRow> elementwise_rows();
std::vector<OpRow> reduce_linalg_nn_rows();
std::vector<OpRow> shape_index_creation_rows();
std::vector<OpRow> conv_rows();    // ops_conv_test.cpp
std::vector<OpRow> vision_rows();  // ops_vision_test.cpp: pooling, normalization, resampling
std::vector<OpRow> attention_norm_rows();  // ops_attention_test.cpp: attention, layer/rms norm
std::vector<OpRow> recsys_op_rows();       // ops_recsys_test.cpp: embedding_bag, fm_interaction
std::vector<OpRow> all_rows();

inline std::vector<Tensor> vec(std::tuple<Tensor, Tensor> t) {
  return {std::get<0>(t), std::get<1>(t)};
}
inline std::vector<torch::Tensor> vec(std::tuple<torch::Tensor, torch::Tensor> t) {
  return {std::get<0>(t), std::get<1>(t)};
}
inline std::vector<int64_t> ivec(IntList s) {
  return s;
}
/// Dim lists for torch calls whose overloads make a braced list ambiguous.
using IV = std::vector<int64_t>;

// ---- standard case lists ----

/// 3-d, 1-d, 0-d, empty, transposed, stepped and expanded inputs.
inline std::vector<Case> unary_cases(Gen g = Gen::Normal) {
  return {{"3d", {arg({2, 3, 4}, g)}},
          {"1d", {arg({7}, g)}},
          {"0d", {arg({}, g)}},
          {"empty", {arg({0, 3}, g)}},
          {"transposed", {arg({3, 4}, g, Layout::Transposed)}},
          {"stepped", {arg({2, 5}, g, Layout::Stepped)}},
          {"expanded", {arg({3, 4}, g, Layout::Expanded)}}};
}

/// Same shapes, broadcasting, 0-d operands, empty, non-contiguous and expanded operands.
inline std::vector<Case> binary_cases(Gen a = Gen::Normal, Gen b = Gen::Normal) {
  return {{"same", {arg({2, 3, 4}, a), arg({2, 3, 4}, b)}},
          {"broadcast", {arg({3, 1, 5}, a), arg({4, 5}, b)}},
          {"broadcast_lhs", {arg({5}, a), arg({2, 3, 1}, b)}},
          {"scalar_rhs", {arg({2, 3}, a), arg({}, b)}},
          {"scalar_lhs", {arg({}, a), arg({2, 3}, b)}},
          {"both_0d", {arg({}, a), arg({}, b)}},
          {"empty", {arg({0, 3}, a), arg({3}, b)}},
          {"noncontig", {arg({3, 4}, a, Layout::Transposed), arg({3, 4}, b, Layout::Stepped)}},
          {"expanded", {arg({3, 4}, a, Layout::Expanded), arg({4}, b)}}};
}

/// binary_cases plus int64 operands (type promotion).
inline std::vector<Case> arith_cases(Gen a = Gen::Normal, Gen b = Gen::Normal) {
  std::vector<Case> c = binary_cases(a, b);
  c.push_back({"int_int", {int_arg({2, 3}), int_arg({3})}});
  c.push_back({"float_int", {arg({2, 3}, a), int_arg({2, 3})}});
  c.push_back({"float_int0d", {arg({2, 3}, a), int_arg({})}});
  return c;
}

}  // namespace ember::optest

/// Row lambdas: `x` is the input list. EF/TF return one or more tensors, EFV/TFV a vector.
#define EF(...)                                                                                \
  []([[maybe_unused]] const std::vector<::ember::Tensor>& x) -> std::vector<::ember::Tensor> { \
    return {__VA_ARGS__};                                                                      \
  }
#define TF(...)                                                                            \
  []([[maybe_unused]] const std::vector<torch::Tensor>& x) -> std::vector<torch::Tensor> { \
    return {__VA_ARGS__};                                                                  \
  }
#define EFV(...)                                                                               \
  []([[maybe_unused]] const std::vector<::ember::Tensor>& x) -> std::vector<::ember::Tensor> { \
    return __VA_ARGS__;                                                                        \
  }
#define TFV(...)                                                                           \
  []([[maybe_unused]] const std::vector<torch::Tensor>& x) -> std::vector<torch::Tensor> { \
    return __VA_ARGS__;                                                                    \
  }

namespace ember::optest {

inline void PrintTo(const OpRow& r, std::ostream* os) {
  *os << r.name << "/" << r.variant;
}

/// Forward and gradient parity with libtorch over every case of a row.
class OpParity : public ::testing::TestWithParam<OpRow> {};
/// float64 central-difference gradient check of a differentiable row's Ember lambda.
class OpGradcheck : public ::testing::TestWithParam<OpRow> {};

std::string row_test_name(const ::testing::TestParamInfo<OpRow>& info);
/// The differentiable rows of a list.
std::vector<OpRow> differentiable(const std::vector<OpRow>& rows);

}  // namespace ember::optest

/// Runs the parity test and the gradcheck over the rows a family function returns.
#define EMBER_INSTANTIATE_OP_TABLE(Family, rows_fn)                                             \
  INSTANTIATE_TEST_SUITE_P(Family, OpParity, ::testing::ValuesIn(rows_fn()), row_test_name);    \
  INSTANTIATE_TEST_SUITE_P(Family, OpGradcheck, ::testing::ValuesIn(differentiable(rows_fn())), \
                           row_test_name)
