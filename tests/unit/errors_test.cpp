// Bad input: every op raises an ember::Error subtype whose message names the op and the
// offending shapes, dtypes, dims or indices; nothing crashes or aborts.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "ember/ember.h"
#include "support/expect.h"

using namespace ember;
using ember::testing::expect_error;
using ember::testing::expect_values;

namespace {


Tensor f32(IntList shape) {
  return zeros(shape);
}

}  // namespace

TEST(Errors, ShapeMismatch) {
  expect_error<ShapeError>([] { add(f32({2, 3}), f32({4, 5})); }, {"add", "(2, 3)", "(4, 5)"});
  expect_error<ShapeError>([] { f32({2, 3}) * f32({4}); }, {"mul", "(2, 3)", "(4,)"});
  expect_error<ShapeError>([] { where(ones({3}, kBool), f32({2}), f32({3})); }, {"where"});
  expect_error<ShapeError>(
      [] {
        matmul(f32({2, 3}), f32({4, 5}));
      },
      {"matmul", "(2, 3)", "(4, 5)", "3 != 4"});
  expect_error<ShapeError>(
      [] {
        matmul(f32({2, 2, 3}), f32({3, 3, 2}));
      },
      {"matmul", "(2,)", "(3,)"});
  expect_error<ShapeError>([] { matmul(f32({}), f32({3})); }, {"matmul", "at least 1 dim"});
  expect_error<ShapeError>([] { mm(f32({3}), f32({3, 2})); }, {"mm", "(3,)"});
  expect_error<ShapeError>(
      [] {
        linear(f32({2, 3}), f32({4, 5}));
      },
      {"linear", "(2, 3)", "(4, 5)"});
  expect_error<ShapeError>(
      [] {
        linear(f32({2, 5}), f32({4, 5}), f32({3}));
      },
      {"linear", "bias", "(3,)"});
  expect_error<ShapeError>(
      [] {
        cat({f32({2, 3}), f32({2, 4})}, 0);
      },
      {"cat", "(2, 3)", "(2, 4)", "dim 0"});
  expect_error<ShapeError>([] { cat({f32({2, 3}), f32({3})}, 0); }, {"cat", "(3,)"});
  expect_error<ShapeError>([] { stack({f32({2, 3}), f32({3, 2})}); }, {"stack", "(3, 2)"});
  expect_error<ShapeError>(
      [] {
        split_with_sizes(f32({3, 2}), {1, 1});
      },
      {"split_with_sizes", "(1, 1)", "3"});
  expect_error<ShapeError>([] { reshape(f32({2, 3}), {5}); }, {"reshape", "(5,)", "6"});
  expect_error<ShapeError>([] { reshape(f32({2, 3}), {-1, -1}); }, {"reshape", "-1"});
  expect_error<ShapeError>([] { view(f32({3, 4}).t(), {12}); }, {"view", "(4, 3)", "reshape"});
  expect_error<ShapeError>([] { expand(f32({2, 3}), {4, 3, 4}); }, {"expand", "(2, 3)"});
  expect_error<ShapeError>([] { expand(f32({2, 3}), {3}); }, {"expand", "fewer dims"});
  expect_error<ShapeError>([] { permute(f32({2, 3}), {0}); }, {"permute", "(2, 3)"});
  expect_error<ShapeError>([] { permute(f32({2, 3}), {0, 0}); }, {"permute", "repeated"});
  expect_error<ShapeError>([] { tril(f32({3})); }, {"tril", "(3,)"});
  expect_error<ShapeError>(
      [] {
        masked_fill(f32({3}), ones({2, 3}, kBool), 1);
      },
      {"masked_fill", "(2, 3)", "(3,)"});
  expect_error<ShapeError>(
      [] {
        gather(f32({3, 4}), 1, zeros({3}, kInt64));
      },
      {"gather", "(3,)", "(3, 4)"});
  expect_error<ShapeError>(
      [] {
        scatter_add(f32({3, 4}), 1, zeros({3, 2}, kInt64), f32({3, 3}));
      },
      {"scatter_add", "(3, 2)", "(3, 3)"});
  expect_error<ShapeError>(
      [] {
        index_add(f32({3, 4}), 0, zeros({2}, kInt64), f32({3, 4}));
      },
      {"index_add", "(3, 4)", "(2, 4)"});
  expect_error<ShapeError>([] { embedding(f32({10}), zeros({2}, kInt64)); },
                           {"embedding", "(10,)"});
  expect_error<ShapeError>([] { sum(f32({2, 3}), {1, 1}); }, {"sum", "more than once"});
  expect_error<ShapeError>([] { sum_to(f32({2, 3}), {4}); }, {"sum_to", "(2, 3)", "(4,)"});
  expect_error<ShapeError>([] { zeros({2, -1}); }, {"negative", "(2, -1)"});
}

TEST(Errors, DtypeMismatch) {
  expect_error<DTypeError>(
      [] {
        matmul(f32({2, 2}), zeros({2, 2}, kFloat64));
      },
      {"matmul", "float32", "float64"});
  expect_error<DTypeError>(
      [] {
        matmul(arange(4).view({2, 2}), arange(4).view({2, 2}));
      },
      {"matmul", "int64"});
  expect_error<DTypeError>([] { where(f32({2}), f32({2}), f32({2})); }, {"where", "bool"});
  expect_error<DTypeError>([] { mean(arange(3)); }, {"mean", "int64"});
  expect_error<DTypeError>([] { var(arange(3)); }, {"var", "int64"});
  expect_error<DTypeError>([] { gather(f32({3}), 0, f32({2})); }, {"gather", "index", "float32"});
  expect_error<DTypeError>([] { index_select(f32({3}), 0, ones({2}, kBool)); },
                           {"index_select", "bool"});
  expect_error<DTypeError>([] { embedding(f32({4, 2}), f32({2})); }, {"embedding", "float32"});
  expect_error<DTypeError>([] { masked_fill(f32({3}), f32({3}), 1); }, {"masked_fill", "bool"});
  expect_error<DTypeError>([] { scatter_add(f32({3}), 0, arange(3), zeros({3}, kFloat64)); },
                           {"scatter_add", "float64", "float32"});
  expect_error<DTypeError>([] { sub(ones({2}, kBool), ones({2}, kBool)); }, {"sub", "bool"});
  expect_error<DTypeError>([] { neg(ones({2}, kBool)); }, {"neg", "bool"});
  expect_error<DTypeError>([] { arange(3).requires_grad_(); }, {"requires_grad_", "int64"});
  expect_error<DTypeError>([] { f32({2}).data_ptr<double>(); }, {"data_ptr", "float32"});
}

TEST(Errors, IndexOutOfRange) {
  expect_error<IndexError>([] { select(f32({3, 4}), 0, 5); }, {"select", "index 5", "size 3"});
  expect_error<IndexError>([] { select(f32({3, 4}), 1, -5); }, {"select", "index -5", "size 4"});
  expect_error<IndexError>([] { f32({3})[3]; }, {"select", "index 3", "size 3"});
  expect_error<IndexError>([] { select(f32({}), 0, 0); }, {"select", "0-d"});
  expect_error<IndexError>(
      [] {
        gather(f32({3, 5}), 1, full({3, 2}, 7, kInt64));
      },
      {"gather", "index 7", "size 5"});
  expect_error<IndexError>(
      [] {
        gather(f32({3, 5}), 1, full({3, 2}, -1, kInt64));
      },
      {"gather", "index -1"});
  expect_error<IndexError>(
      [] {
        scatter_add(f32({3, 5}), 0, full({2, 5}, 3, kInt64), f32({2, 5}));
      },
      {"scatter_add", "index 3", "size 3"});
  expect_error<IndexError>(
      [] {
        index_select(f32({5, 2}), 0, tensor({1, 9}, kInt64));
      },
      {"index_select", "index 9", "size 5"});
  expect_error<IndexError>(
      [] {
        index_add(f32({5, 2}), 0, tensor({6}, kInt64), f32({1, 2}));
      },
      {"index_add", "index 6", "size 5"});
  expect_error<IndexError>([] { index(f32({5, 2}), tensor({2, 7}, kInt64)); }, {"index 7", "5"});
  expect_error<IndexError>([] { index(f32({5, 2}), ones({3}, kBool)); }, {"index", "mask", "(3,)"});
  expect_error<IndexError>(
      [] {
        embedding(f32({10, 4}), tensor({{1, 12}}, kInt64));
      },
      {"embedding", "index 12", "10"});
  expect_error<IndexError>(
      [] {
        embedding(f32({10, 4}), tensor({-1}, kInt64));
      },
      {"embedding", "index -1"});
  expect_error<IndexError>(
      [] {
        one_hot(tensor({1, 7}, kInt64), 5);
      },
      {"one_hot", "7", "num_classes 5"});
  expect_error<IndexError>([] { one_hot(tensor({-1}, kInt64), 5); }, {"one_hot", "-1"});
  expect_error<IndexError>([] { narrow(f32({3}), 0, 2, 5); },
                           {"narrow", "start 2", "length 5", "size 3"});
  expect_error<IndexError>([] { topk(f32({2, 3}), 5); }, {"topk", "k (5)", "size 3"});
  expect_error<IndexError>([] { f32({2, 3}).at<float>({0, 3}); }, {"at()", "index 3", "size 3"});
  expect_error<IndexError>([] { max(f32({0, 3})); }, {"max", "size 0", "(0, 3)"});
  expect_error<IndexError>([] { argmax(f32({0})); }, {"argmax", "(0,)"});
}

TEST(Errors, BadDims) {
  expect_error<IndexError>([] { sum(f32({2, 3}), {3}); }, {"sum", "dimension 3", "2 dims"});
  expect_error<IndexError>([] { transpose(f32({2, 3}), 0, 5); }, {"transpose", "dimension 5"});
  expect_error<IndexError>([] { softmax(f32({2, 3}), 2); }, {"softmax", "dimension 2"});
  expect_error<IndexError>([] { log_softmax(f32({2, 3}), -3); }, {"log_softmax", "-3"});
  expect_error<IndexError>([] { cat({f32({2}), f32({2})}, 1); }, {"cat", "dimension 1"});
  expect_error<IndexError>([] { unsqueeze(f32({2}), 3); }, {"unsqueeze", "dimension 3"});
  expect_error<IndexError>([] { squeeze(f32({2}), 1); }, {"squeeze", "dimension 1"});
  expect_error<IndexError>([] { max(f32({2}), 1); }, {"max", "dimension 1"});
  expect_error<IndexError>([] { cumsum(f32({2}), -2); }, {"cumsum", "-2"});
  expect_error<IndexError>([] { gather(f32({2}), 1, zeros({2}, kInt64)); }, {"gather"});
  expect_error<IndexError>([] { f32({}).size(0); }, {"size", "0-d"});
  expect_error<IndexError>([] { f32({2}).size(1); }, {"size", "dimension 1"});
  expect_error<ShapeError>([] { flatten(f32({2, 3, 4}), 2, 1); }, {"flatten", "start_dim"});
}

TEST(Errors, BadArguments) {
  expect_error<ValueError>([] { clamp(f32({2}), std::nullopt, std::nullopt); }, {"clamp"});
  expect_error<ValueError>([] { gelu(f32({2}), "fast"); }, {"gelu", "fast"});
  expect_error<ValueError>([] { dropout(f32({2}), 1.5); }, {"dropout", "1.5"});
  expect_error<ValueError>([] { chunk(f32({4}), 0); }, {"chunk", "0"});
  expect_error<ValueError>([] { split(f32({4}), 0); }, {"split", "0"});
  expect_error<ValueError>([] { slice(f32({4}), 0, 0, 4, 0); }, {"slice", "step"});
  expect_error<ValueError>([] { cat({}); }, {"cat", "non-empty"});
  expect_error<ValueError>([] { arange(0, 5, 0); }, {"arange", "step"});
  expect_error<ValueError>([] { arange(5, 0, 1); }, {"arange"});
  expect_error<ValueError>([] { f32({2}).item(); }, {"item", "2 elements"});
  expect_error<ValueError>([] { randint(3, 3, {2}); }, {"randint", "high"});
  expect_error<ValueError>([] { eye(-1); }, {"eye", "-1"});
}

TEST(Errors, Autograd) {
  Tensor x = f32({3}).requires_grad_();
  expect_error<ValueError>([&] { (x * 2.0).backward(); }, {"backward", "scalar", "(3,)"});
  expect_error<ValueError>([] { sum(f32({3})).backward(); }, {"backward", "does not require grad"});
  expect_error<ValueError>([&] { autograd::grad({sum(x)}, {f32({3})}); },
                           {"grad", "input 0", "does not require grad"});
  expect_error<ValueError>(
      [&] {
        autograd::backward({sum(x)}, {f32({}), f32({})});
      },
      {"backward", "2 gradients", "1 outputs"});
  expect_error<ValueError>([] { Tensor().backward(); }, {"backward"});
  expect_error<DTypeError>([] { autograd::gradcheck([](auto& v) { return v[0]; }, {f32({2})}); },
                           {"gradcheck", "float64"});
}

TEST(Errors, UndefinedTensors) {
  const Tensor u;
  const Tensor x = f32({2});
  expect_error<ValueError>([&] { add(u, x); }, {"add", "undefined"});
  expect_error<ValueError>([&] { add(x, u); }, {"add", "undefined"});
  expect_error<ValueError>([&] { mul(u, x); }, {"mul", "undefined"});
  expect_error<ValueError>([&] { exp(u); }, {"exp", "undefined"});
  expect_error<ValueError>([&] { relu(u); }, {"relu", "undefined"});
  expect_error<ValueError>([&] { sum(u); }, {"sum", "undefined"});
  expect_error<ValueError>([&] { softmax(u, 0); }, {"softmax", "undefined"});
  expect_error<ValueError>([&] { matmul(u, x); }, {"matmul", "undefined"});
  expect_error<ValueError>([&] { reshape(u, {2}); }, {"reshape", "undefined"});
  expect_error<ValueError>([&] { cat({x, u}); }, {"cat", "undefined"});
  expect_error<ValueError>([&] { gather(x, 0, u); }, {"gather", "undefined"});
  expect_error<ValueError>([&] { where(u, x, x); }, {"where", "undefined"});
  expect_error<ValueError>([&] { u.shape(); }, {"undefined"});
  expect_error<ValueError>(
      [&] {
        Tensor v;
        v.add_(1.0);
      },
      {"add_", "undefined"});
  expect_error<ValueError>(
      [&] {
        Tensor v = f32({2});
        v.copy_(u);
      },
      {"copy_", "undefined"});
}

TEST(Errors, DeviceErrors) {
  expect_error<DeviceError>([] { f32({2}).to(Device::cuda(0)); }, {"to", "cuda"});
}

TEST(Errors, MessageWithoutLocation) {
  try {
    add(f32({2, 3}), f32({4, 5}));
    FAIL() << "expected ShapeError";
  } catch (const Error& e) {
    EXPECT_EQ(e.message().find(".cpp"), std::string::npos);
    EXPECT_EQ(e.message().rfind("add:", 0), 0u) << e.message();
  }
}

TEST(Errors, InPlaceOnBroadcastViewAndIntegerPowers) {
  Tensor e = zeros({1, 3}).expand({4, 3});
  expect_error<ValueError>([&] { e.add_(1.0); }, {"add_", "single memory location", "(4, 3)"});
  expect_error<ValueError>([&] { e.fill_(1.0); }, {"fill_", "single memory location"});
  expect_error<ValueError>([] { pow(arange(3), -1); }, {"pow", "negative", "int64"});
}

TEST(Errors, OneHotOfEmptyNeedsNumClasses) {
  expect_error<ValueError>([] { one_hot(zeros({0}, kInt64)); }, {"one_hot", "num_classes"});
  EXPECT_EQ(one_hot(zeros({0}, kInt64), 3).shape(), (Shape{0, 3}));
}
