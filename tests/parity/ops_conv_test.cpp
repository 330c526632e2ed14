// Op-table rows: conv2d and conv_transpose2d, against libtorch.
#include "parity/ops_table.h"

namespace ember::optest {

namespace {

OpRow row(std::string name, std::string variant, EmberFn e, TorchFn t, std::vector<Case> cases) {
  return {std::move(name), std::move(variant), std::move(e), std::move(t), std::move(cases)};
}

const Layout T = Layout::Transposed, S = Layout::Stepped;

// Cases for a conv with bias: (x, weight, bias) of the given shapes, plus batch-1, unbatched and
// non-contiguous versions of x.
std::vector<Case> with_bias(Shape x, Shape w, int64_t out_channels) {
  Shape x1 = x, x3(x.begin() + 1, x.end());
  x1[0] = 1;
  return {{"batched", {arg(x), arg(w), arg({out_channels})}},
          {"batch1", {arg(x1), arg(w), arg({out_channels})}},
          {"unbatched", {arg(x3), arg(w), arg({out_channels})}},
          {"transposed_x", {arg(x, Gen::Normal, T), arg(w), arg({out_channels})}},
          {"stepped_x_w", {arg(x, Gen::Normal, S), arg(w, Gen::Normal, S), arg({out_channels})}}};
}

}  // namespace

std::vector<OpRow> conv_rows() {
  std::vector<OpRow> r;
  // ---- conv2d ----
  r.push_back(row("conv2d", "bias", EF(conv2d(x[0], x[1], x[2])),
                  TF(torch::conv2d(x[0], x[1], x[2])), with_bias({2, 3, 5, 6}, {4, 3, 3, 3}, 4)));
  r.push_back(row("conv2d", "no_bias_pad1", EF(conv2d(x[0], x[1], Tensor(), {1}, {1})),
                  TF(torch::conv2d(x[0], x[1], {}, 1, 1)),
                  {{"3x3", {arg({2, 3, 5, 5}), arg({4, 3, 3, 3})}},
                   {"1x1", {arg({2, 3, 4, 4}), arg({5, 3, 1, 1})}},
                   {"c_in_1", {arg({3, 1, 6, 6}), arg({4, 1, 3, 3})}},
                   {"kernel_eq_padded", {arg({1, 2, 3, 2}), arg({3, 2, 5, 4})}}}));
  r.push_back(row("conv2d", "pointwise", EF(conv2d(x[0], x[1])), TF(torch::conv2d(x[0], x[1])),
                  {{"1x1", {arg({2, 4, 3, 5}), arg({3, 4, 1, 1})}},
                   {"1x1_transposed", {arg({2, 4, 3, 5}, Gen::Normal, T), arg({3, 4, 1, 1})}}}));
  r.push_back(row("conv2d", "stride2_pad1", EF(conv2d(x[0], x[1], x[2], {2}, {1})),
                  TF(torch::conv2d(x[0], x[1], x[2], 2, 1)),
                  {{"odd", {arg({2, 3, 7, 7}), arg({4, 3, 3, 3}), arg({4})}},
                   {"even", {arg({2, 2, 6, 5}), arg({3, 2, 3, 3}), arg({3})}}}));
  r.push_back(row("conv2d", "stride3_pad1_1x1", EF(conv2d(x[0], x[1], Tensor(), {3}, {1})),
                  TF(torch::conv2d(x[0], x[1], {}, 3, 1)),
                  {{"1x1", {arg({2, 2, 7, 8}), arg({3, 2, 1, 1})}}}));
  r.push_back(row("conv2d", "dilation2_pad2", EF(conv2d(x[0], x[1], x[2], {1}, {2}, {2})),
                  TF(torch::conv2d(x[0], x[1], x[2], 1, 2, 2)),
                  {{"3x3", {arg({2, 2, 5, 6}), arg({3, 2, 3, 3}), arg({3})}}}));
  r.push_back(row("conv2d", "groups2", EF(conv2d(x[0], x[1], x[2], {1}, {1}, {1}, 2)),
                  TF(torch::conv2d(x[0], x[1], x[2], 1, 1, 1, 2)),
                  with_bias({2, 4, 5, 5}, {6, 2, 3, 3}, 6)));
  r.push_back(row("conv2d", "depthwise", EF(conv2d(x[0], x[1], x[2], {1}, {1}, {1}, 4)),
                  TF(torch::conv2d(x[0], x[1], x[2], 1, 1, 1, 4)),
                  {{"multiplier1", {arg({2, 4, 5, 5}), arg({4, 1, 3, 3}), arg({4})}},
                   {"multiplier2", {arg({2, 4, 5, 4}), arg({8, 1, 3, 3}), arg({8})}}}));
  r.push_back(row("conv2d", "asymmetric", EF(conv2d(x[0], x[1], x[2], {2, 1}, {1, 0}, {1, 2})),
                  TF(torch::conv2d(x[0], x[1], x[2], IV{2, 1}, IV{1, 0}, IV{1, 2})),
                  {{"2x3", {arg({2, 3, 6, 7}), arg({4, 3, 2, 3}), arg({4})}},
                   {"unbatched", {arg({3, 5, 8}), arg({2, 3, 3, 2}), arg({2})}}}));
  r.push_back(row("conv2d", "same", EF(conv2d(x[0], x[1], x[2], {1}, "same")),
                  TF(torch::conv2d(x[0], x[1], x[2], 1, "same")),
                  {{"3x3", {arg({2, 3, 5, 5}), arg({4, 3, 3, 3}), arg({4})}},
                   {"even_2x4", {arg({2, 3, 5, 6}), arg({4, 3, 2, 4}), arg({4})}},
                   {"unbatched_even", {arg({2, 4, 4}), arg({3, 2, 4, 1}), arg({3})}}}));
  r.push_back(row("conv2d", "same_dilated_groups",
                  EF(conv2d(x[0], x[1], Tensor(), {1}, "same", {2, 3}, 2)),
                  TF(torch::conv2d(x[0], x[1], {}, 1, "same", IV{2, 3}, 2)),
                  {{"2x3", {arg({2, 4, 6, 7}), arg({2, 2, 2, 3})}}}));
  r.push_back(row("conv2d", "valid", EF(conv2d(x[0], x[1], x[2], {1}, "valid")),
                  TF(torch::conv2d(x[0], x[1], x[2], 1, "valid")),
                  {{"3x3", {arg({2, 3, 5, 5}), arg({4, 3, 3, 3}), arg({4})}}}));
  // float32 3x3 stride-1 convs with >= 4 channels each way take the Winograd F(2x2, 3x3) path
  // (forward, input gradient, and conv_transpose2d); odd and even sizes, padding 0, 1 and 2.
  r.push_back(row("conv2d", "winograd_pad1", EF(conv2d(x[0], x[1], x[2], {1}, {1})),
                  TF(torch::conv2d(x[0], x[1], x[2], 1, 1)),
                  with_bias({3, 5, 7, 6}, {6, 5, 3, 3}, 6)));
  r.push_back(row("conv2d", "winograd_pad0", EF(conv2d(x[0], x[1])), TF(torch::conv2d(x[0], x[1])),
                  {{"odd", {arg({2, 4, 7, 9}), arg({5, 4, 3, 3})}},
                   {"even", {arg({3, 6, 8, 6}), arg({4, 6, 3, 3})}},
                   {"one_tile", {arg({2, 4, 3, 4}), arg({4, 4, 3, 3})}},
                   {"wide_channels", {arg({2, 16, 6, 5}), arg({12, 16, 3, 3})}}}));
  r.push_back(row("conv2d", "winograd_pad2", EF(conv2d(x[0], x[1], x[2], {1}, {2})),
                  TF(torch::conv2d(x[0], x[1], x[2], 1, 2)),
                  {{"odd", {arg({2, 5, 5, 3}), arg({4, 5, 3, 3}), arg({4})}},
                   {"even_h_odd_w", {arg({2, 4, 6, 7}), arg({6, 4, 3, 3}), arg({6})}}}));
  // ---- conv_transpose2d ----
  r.push_back(row("conv_transpose2d", "bias", EF(conv_transpose2d(x[0], x[1], x[2])),
                  TF(torch::conv_transpose2d(x[0], x[1], x[2])),
                  with_bias({2, 3, 4, 5}, {3, 4, 3, 3}, 4)));
  r.push_back(row("conv_transpose2d", "winograd_pad1",
                  EF(conv_transpose2d(x[0], x[1], x[2], {1}, {1})),
                  TF(torch::conv_transpose2d(x[0], x[1], x[2], 1, 1)),
                  with_bias({2, 6, 5, 4}, {6, 5, 3, 3}, 5)));
  r.push_back(row("conv_transpose2d", "stride2_pad1_outpad1",
                  EF(conv_transpose2d(x[0], x[1], x[2], {2}, {1}, {1})),
                  TF(torch::conv_transpose2d(x[0], x[1], x[2], 2, 1, 1)),
                  {{"3x3", {arg({2, 3, 4, 4}), arg({3, 2, 3, 3}), arg({2})}},
                   {"4x4", {arg({1, 2, 3, 5}), arg({2, 3, 4, 4}), arg({3})}}}));
  r.push_back(row("conv_transpose2d", "groups2_dilation2",
                  EF(conv_transpose2d(x[0], x[1], x[2], {1}, {1}, {0}, 2, {2})),
                  TF(torch::conv_transpose2d(x[0], x[1], x[2], 1, 1, 0, 2, 2)),
                  with_bias({2, 4, 4, 4}, {4, 3, 3, 3}, 6)));
  r.push_back(row("conv_transpose2d", "asymmetric_no_bias",
                  EF(conv_transpose2d(x[0], x[1], Tensor(), {2, 1}, {0, 1}, {1, 0})),
                  TF(torch::conv_transpose2d(x[0], x[1], {}, IV{2, 1}, IV{0, 1}, IV{1, 0})),
                  {{"2x3", {arg({2, 3, 3, 4}), arg({3, 2, 2, 3})}},
                   {"unbatched", {arg({3, 3, 4}), arg({3, 2, 2, 3})}}}));
  r.push_back(row("conv_transpose2d", "depthwise_stride2",
                  EF(conv_transpose2d(x[0], x[1], x[2], {2}, {0}, {0}, 3)),
                  TF(torch::conv_transpose2d(x[0], x[1], x[2], 2, 0, 0, 3)),
                  {{"3x3", {arg({2, 3, 3, 3}), arg({3, 1, 3, 3}), arg({3})}}}));
  r.push_back(row("conv_transpose2d", "outpad_below_dilation",
                  EF(conv_transpose2d(x[0], x[1], Tensor(), {1}, {0}, {1}, 1, {2})),
                  TF(torch::conv_transpose2d(x[0], x[1], {}, 1, 0, 1, 1, 2)),
                  {{"3x3", {arg({2, 2, 3, 3}), arg({2, 3, 3, 3})}}}));
  return r;
}

EMBER_INSTANTIATE_OP_TABLE(Conv, conv_rows);

}  // namespace ember::optest
