// Op-table rows: pooling, batch/group norm, interpolate and pad, against libtorch.
#include "ember/ops/vision.h"
#include "parity/ops_table.h"

namespace ember::optest {

namespace {

namespace F = torch::nn::functional;

OpRow row(std::string name, std::string variant, EmberFn e, TorchFn t, std::vector<Case> cases,
          bool differentiable = true) {
  return {std::move(name), std::move(variant), std::move(e),
          std::move(t),    std::move(cases),   differentiable};
}

const Gen N = Gen::Normal, D = Gen::Distinct, P = Gen::Positive;
const Layout T = Layout::Transposed, S = Layout::Stepped;
using IO = InterpolateOptions;

// Pooling inputs: batched, unbatched, transposed and stepped (no ties: Distinct values).
std::vector<Case> pool_cases(Shape batched, Shape unbatched, Gen g = D) {
  return {{"4d", {arg(batched, g)}},
          {"unbatched", {arg(unbatched, g)}},
          {"transposed", {arg(batched, g, T)}},
          {"stepped", {arg(batched, g, S)}}};
}

// Batch-norm inputs: x of 2, 3 and 4 dims (also non-contiguous) plus `extra` (C)-vectors.
std::vector<Case> bn_cases(const std::vector<Gen>& extra) {
  const auto with = [&](Arg x, int64_t c) {
    std::vector<Arg> a = {std::move(x)};
    for (Gen g : extra) a.push_back(arg({c}, g));
    return a;
  };
  return {{"4d", with(arg({4, 3, 5, 6}), 3)},
          {"2d", with(arg({8, 5}), 5)},
          {"3d", with(arg({4, 3, 7}), 3)},
          {"transposed", with(arg({3, 2, 5, 4}, N, T), 2)},
          {"stepped", with(arg({2, 3, 4, 3}, N, S), 3)}};
}

// A running statistic for x's channels: evenly spaced in [lo, hi], x's dtype.
Tensor running(const Tensor& x, double lo, double hi) {
  return linspace(lo, hi, x.size(1), x.dtype());
}
torch::Tensor running(const torch::Tensor& x, double lo, double hi) {
  return torch::linspace(lo, hi, x.size(1), x.options().requires_grad(false));
}

std::vector<OpRow> pool_rows() {
  std::vector<OpRow> r;
  r.push_back(row("max_pool2d", "k2", EF(max_pool2d(x[0], {2})), TF(torch::max_pool2d(x[0], {2})),
                  {{"4d", {arg({2, 3, 6, 8}, D)}},
                   {"odd", {arg({2, 2, 7, 5}, D)}},
                   {"unbatched", {arg({3, 5, 7}, D)}},
                   {"transposed", {arg({2, 2, 6, 5}, D, T)}},
                   {"stepped", {arg({2, 3, 4, 4}, D, S)}},
                   {"ties", {arg({2, 3, 6, 6}, Gen::SmallIntF)}, false},
                   {"nan_inf", {arg({1, 2, 4, 4}, Gen::Special)}, false}}));
  r.push_back(row("max_pool2d", "k3_s2_p1", EF(max_pool2d(x[0], {3}, {2}, {1})),
                  TF(torch::max_pool2d(x[0], {3}, {2}, {1})), pool_cases({2, 3, 7, 8}, {2, 6, 5})));
  r.push_back(row("max_pool2d", "rect_dilated_ceil",
                  EF(max_pool2d(x[0], {3, 2}, {2, 3}, {1, 0}, {2, 1}, true)),
                  TF(torch::max_pool2d(x[0], {3, 2}, {2, 3}, {1, 0}, {2, 1}, true)),
                  pool_cases({2, 2, 9, 8}, {3, 8, 7})));
  r.push_back(row("max_pool2d", "ceil_s2", EF(max_pool2d(x[0], {2}, {2}, {0}, {1}, true)),
                  TF(torch::max_pool2d(x[0], {2}, {2}, {0}, {1}, true)),
                  pool_cases({2, 3, 7, 5}, {2, 5, 5})));
  r.push_back(row("max_pool2d_with_indices", "k3_s2_p1",
                  EFV(vec(max_pool2d_with_indices(x[0], {3}, {2}, {1}))),
                  TFV(vec(torch::max_pool2d_with_indices(x[0], {3}, {2}, {1}))),
                  pool_cases({2, 3, 7, 6}, {2, 5, 6})));
  r.push_back(row("max_pool2d_with_indices", "k2_ceil",
                  EFV(vec(max_pool2d_with_indices(x[0], {2}, {}, {0}, {1}, true))),
                  TFV(vec(torch::max_pool2d_with_indices(x[0], {2}, {2}, {0}, {1}, true))),
                  pool_cases({2, 2, 5, 7}, {3, 5, 3})));

  r.push_back(row("avg_pool2d", "k2", EF(avg_pool2d(x[0], {2})), TF(torch::avg_pool2d(x[0], {2})),
                  pool_cases({2, 3, 6, 8}, {3, 5, 7}, N)));
  r.push_back(row("avg_pool2d", "k3_s2_p1_include_pad", EF(avg_pool2d(x[0], {3}, {2}, {1})),
                  TF(torch::avg_pool2d(x[0], {3}, {2}, {1})),
                  pool_cases({2, 3, 7, 8}, {2, 6, 5}, N)));
  r.push_back(row("avg_pool2d", "k3_s2_p1_exclude_pad_ceil",
                  EF(avg_pool2d(x[0], {3}, {2}, {1}, true, false)),
                  TF(torch::avg_pool2d(x[0], {3}, {2}, {1}, true, false)),
                  pool_cases({2, 3, 8, 6}, {2, 6, 5}, N)));
  r.push_back(row("avg_pool2d", "rect_ceil_include_pad",
                  EF(avg_pool2d(x[0], {3, 2}, {2, 1}, {1, 1}, true, true)),
                  TF(torch::avg_pool2d(x[0], {3, 2}, {2, 1}, {1, 1}, true, true)),
                  pool_cases({2, 2, 6, 5}, {2, 6, 4}, N)));
  r.push_back(row("avg_pool2d", "divisor_override",
                  EF(avg_pool2d(x[0], {3}, {2}, {1}, false, true, 5)),
                  TF(torch::avg_pool2d(x[0], {3}, {2}, {1}, false, true, 5)),
                  pool_cases({2, 3, 7, 7}, {2, 5, 6}, N)));

  r.push_back(row("adaptive_avg_pool2d", "non_dividing", EF(adaptive_avg_pool2d(x[0], {3, 4})),
                  TF(torch::adaptive_avg_pool2d(x[0], {3, 4})),
                  pool_cases({2, 3, 7, 10}, {2, 5, 6}, N)));
  r.push_back(row("adaptive_avg_pool2d", "global", EF(adaptive_avg_pool2d(x[0], {1})),
                  TF(torch::adaptive_avg_pool2d(x[0], {1, 1})),
                  pool_cases({2, 3, 5, 6}, {4, 3, 3}, N)));
  r.push_back(row("adaptive_avg_pool2d", "upsampling", EF(adaptive_avg_pool2d(x[0], {7, 5})),
                  TF(torch::adaptive_avg_pool2d(x[0], {7, 5})),
                  pool_cases({1, 2, 4, 3}, {2, 3, 4}, N)));
  return r;
}

std::vector<OpRow> norm_rows() {
  std::vector<OpRow> r;
  r.push_back(row(
      "batch_norm", "train_affine", EF(batch_norm(x[0], {}, {}, x[1], x[2], true, 0.1, 1e-5)),
      TF(torch::batch_norm(x[0], x[1], x[2], {}, {}, true, 0.1, 1e-5, false)), bn_cases({N, N})));
  r.push_back(row("batch_norm", "train_plain", EF(batch_norm(x[0], {}, {}, {}, {}, true)),
                  TF(torch::batch_norm(x[0], {}, {}, {}, {}, true, 0.1, 1e-5, false)),
                  bn_cases({})));
  // Eval mode: fixed running statistics (constants, not inputs of the gradcheck).
  r.push_back(row("batch_norm", "eval_affine",
                  EF(batch_norm(x[0], running(x[0], -0.5, 0.5), running(x[0], 0.5, 1.5), x[1], x[2],
                                false, 0.1, 1e-3)),
                  TF(torch::batch_norm(x[0], x[1], x[2], running(x[0], -0.5, 0.5),
                                       running(x[0], 0.5, 1.5), false, 0.1, 1e-3, false)),
                  bn_cases({N, N})));
  r.push_back(row("batch_norm", "eval_plain",
                  EF(batch_norm(x[0], running(x[0], -0.5, 0.5), running(x[0], 0.5, 1.5))),
                  TF(torch::batch_norm(x[0], {}, {}, running(x[0], -0.5, 0.5),
                                       running(x[0], 0.5, 1.5), false, 0.1, 1e-5, false)),
                  bn_cases({})));

  r.push_back(row("group_norm", "affine", EF(group_norm(x[0], 3, x[1], x[2])),
                  TF(torch::group_norm(x[0], 3, x[1], x[2])),
                  {{"4d", {arg({2, 6, 4, 5}), arg({6}), arg({6})}},
                   {"transposed", {arg({3, 6, 3, 4}, N, T), arg({6}), arg({6})}},
                   {"3d", {arg({2, 6, 7}), arg({6}), arg({6})}}}));
  r.push_back(row("group_norm", "plain_eps", EF(group_norm(x[0], 2, {}, {}, 1e-3)),
                  TF(torch::group_norm(x[0], 2, {}, {}, 1e-3)),
                  {{"4d", {arg({2, 4, 3, 5})}},
                   {"2d", {arg({5, 4})}},
                   {"stepped", {arg({2, 4, 3, 3}, N, S)}}}));
  r.push_back(row("group_norm", "one_group", EF(group_norm(x[0], 1, x[1], x[2])),
                  TF(torch::group_norm(x[0], 1, x[1], x[2])),
                  {{"4d", {arg({3, 4, 3, 3}), arg({4}), arg({4})}}}));
  return r;
}

// interpolate: Ember options and the same torch options.
OpRow interp_row(const std::string& variant, InterpolateOptions o, std::vector<Case> cases,
                 int64_t n_spatial = 2) {
  F::InterpolateFuncOptions t;
  if (!o.size.empty()) t.size(std::vector<int64_t>(o.size));
  if (!o.scale_factor.empty()) {  // torch's C++ API wants one value per spatial dim
    std::vector<double> sf = o.scale_factor;
    if (sf.size() == 1 && n_spatial == 2) sf.push_back(sf[0]);
    t.scale_factor(sf);
  }
  if (o.mode == "bilinear") {
    t.mode(torch::kBilinear).align_corners(o.align_corners);
  } else {
    t.mode(torch::kNearest);
  }
  return row(
      "interpolate", variant,
      [o](const std::vector<Tensor>& x) -> std::vector<Tensor> { return {interpolate(x[0], o)}; },
      [t](const std::vector<torch::Tensor>& x) -> std::vector<torch::Tensor> {
        return {F::interpolate(x[0], t)};
      },
      std::move(cases));
}

std::vector<OpRow> resample_rows() {
  std::vector<OpRow> r;
  const std::vector<Case> c4 = {{"4d", {arg({2, 3, 4, 5})}},
                                {"transposed", {arg({2, 2, 5, 4}, N, T)}},
                                {"stepped", {arg({1, 2, 3, 4}, N, S)}}};
  r.push_back(interp_row("nearest_size", IO::sized({7, 9}), c4));
  r.push_back(interp_row("nearest_down", IO::sized({3, 2}), c4));
  r.push_back(interp_row("nearest_scale2", IO::scaled({2.0}), c4));
  r.push_back(interp_row("nearest_scale_1_7", IO::scaled({1.7, 2.5}), c4));
  r.push_back(interp_row("nearest_1d", IO::sized({9}), {{"3d", {arg({2, 3, 4})}}}));
  r.push_back(interp_row("bilinear_size", IO::sized({7, 9}, "bilinear"), c4));
  r.push_back(interp_row("bilinear_down", IO::sized({3, 2}, "bilinear"), c4));
  r.push_back(interp_row("bilinear_align", IO::sized({7, 9}, "bilinear", true), c4));
  r.push_back(interp_row("bilinear_scale", IO::scaled({1.5, 2.25}, "bilinear"), c4));
  r.push_back(interp_row("bilinear_scale_align", IO::scaled({2.0}, "bilinear", true), c4));

  r.push_back(
      row("pad", "constant", EF(pad(x[0], {1, 2})), TF(torch::constant_pad_nd(x[0], IV{1, 2})),
          {{"3d", {arg({2, 3, 4})}}, {"1d", {arg({5})}}, {"transposed", {arg({3, 4}, N, T)}}}));
  r.push_back(row("pad", "constant_value_2d", EF(pad(x[0], {1, 2, 0, 3}, "constant", 1.5)),
                  TF(torch::constant_pad_nd(x[0], IV{1, 2, 0, 3}, 1.5)),
                  {{"4d", {arg({2, 3, 4, 5})}}, {"stepped", {arg({2, 3, 4}, N, S)}}}));
  r.push_back(row("pad", "constant_negative", EF(pad(x[0], {-1, 2, 1, -2})),
                  TF(torch::constant_pad_nd(x[0], IV{-1, 2, 1, -2})),
                  {{"4d", {arg({2, 3, 4, 5})}}, {"2d", {arg({4, 3})}}}));
  r.push_back(row("pad", "constant_3dims", EF(pad(x[0], {1, 1, 0, 2, 1, 0})),
                  TF(torch::constant_pad_nd(x[0], IV{1, 1, 0, 2, 1, 0})),
                  {{"3d", {arg({2, 3, 4})}}}));
  const auto reflect = [](IV p) { return F::PadFuncOptions(p).mode(torch::kReflect); };
  r.push_back(row("pad", "reflect_1d", EF(pad(x[0], {2, 1}, "reflect")),
                  [reflect](const std::vector<torch::Tensor>& x) -> std::vector<torch::Tensor> {
                    return {F::pad(x[0], reflect({2, 1}))};
                  },
                  {{"3d", {arg({2, 3, 5})}},
                   {"unbatched", {arg({3, 5})}},
                   {"transposed", {arg({2, 4, 5}, N, T)}}}));
  r.push_back(row("pad", "reflect_2d", EF(pad(x[0], {2, 1, 1, 3}, "reflect")),
                  [reflect](const std::vector<torch::Tensor>& x) -> std::vector<torch::Tensor> {
                    return {F::pad(x[0], reflect({2, 1, 1, 3}))};
                  },
                  {{"4d", {arg({2, 3, 4, 5})}},
                   {"unbatched", {arg({3, 4, 5})}},
                   {"stepped", {arg({1, 2, 5, 4}, N, S)}}}));
  r.push_back(row("pad", "reflect_negative", EF(pad(x[0], {-1, 2}, "reflect")),
                  [reflect](const std::vector<torch::Tensor>& x) -> std::vector<torch::Tensor> {
                    return {F::pad(x[0], reflect({-1, 2}))};
                  },
                  {{"3d", {arg({2, 3, 5})}}}));
  return r;
}

}  // namespace

std::vector<OpRow> vision_rows() {
  std::vector<OpRow> r = pool_rows();
  for (auto family : {norm_rows, resample_rows}) {
    std::vector<OpRow> more = family();
    r.insert(r.end(), more.begin(), more.end());
  }
  return r;
}

EMBER_INSTANTIATE_OP_TABLE(Vision, vision_rows);

}  // namespace ember::optest
