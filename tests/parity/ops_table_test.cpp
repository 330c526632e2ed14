// The op-table runner: forward/gradient parity with libtorch, float64 gradchecks, coverage of
// EMBER_OP_LIST, and second-order gradients against torch double backward.
#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "ember/ops/op_list.h"
#include "parity/ops_table.h"

namespace ember::optest {

using ember::testing::ember_dtype;
using ember::testing::to_torch;

std::vector<OpRow> all_rows() {
  std::vector<OpRow> rows = elementwise_rows();
  for (auto family : {reduce_linalg_nn_rows, shape_index_creation_rows, conv_rows, vision_rows,
                      attention_norm_rows, recsys_op_rows}) {
    std::vector<OpRow> more = family();
    rows.insert(rows.end(), more.begin(), more.end());
  }
  return rows;
}

std::vector<OpRow> differentiable(const std::vector<OpRow>& rows) {
  std::vector<OpRow> out;
  for (const OpRow& r : rows)
    if (r.differentiable) out.push_back(r);
  return out;
}

std::string row_test_name(const ::testing::TestParamInfo<OpRow>& info) {
  std::string s = info.param.name + (info.param.variant.empty() ? "" : "_" + info.param.variant);
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

namespace {

constexpr double kRtol = 1e-5;

// Note [Parity tolerance]: each element of an Ember float32 result must be within 1e-5
// relative error of torch's float32 result or of torch's float64 result on the same inputs (the
// exact answer, up to float64 rounding). The first accepts Ember reproducing torch's float32
// roundings (the same formula, e.g. sigmoid' = y (1 - y), which loses the tail where y ~ 1); the
// second accepts Ember being more accurate than torch (wider accumulators). Errors are relative
// to max(|expected|, floor), floor = max(1e-3, 1e-2 * max|expected|): where a result cancels to
// near zero, float32 rounding is relative to the size of the terms, not of the result. A wrong
// formula misses both references by orders of magnitude.
void expect_close(const Tensor& got, const torch::Tensor& want, const std::string& what) {
  ember::testing::expect_parity(got, want, kRtol, what);
}

uint64_t seed_for(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

Shape base_shape(const Arg& a) {
  Shape s = a.shape;
  switch (a.layout) {
    case Layout::Contig:
      break;
    case Layout::Transposed:
      std::swap(s[s.size() - 1], s[s.size() - 2]);
      break;
    case Layout::Stepped:
      s.back() *= 2;
      break;
    case Layout::Expanded:
      s[0] = 1;
      break;
  }
  return s;
}

Tensor generate(const Arg& a, Generator& gen, DType float_dtype) {
  NoGradGuard no_grad;
  const Shape s = base_shape(a);
  const int64_t n = detail::shape_numel(s);
  Tensor t;
  switch (a.gen) {
    case Gen::Normal:
      t = randn(s, kFloat32, &gen);
      break;
    case Gen::Large:
      t = randn(s, kFloat32, &gen) * 30.0;
      break;
    case Gen::Positive:
      t = rand(s, kFloat32, &gen) * 2.0 + 0.5;
      break;
    case Gen::Unit:
      t = rand(s, kFloat32, &gen) * 1.8 - 0.9;
      break;
    case Gen::AwayFromZero: {
      Tensor sign = where(rand(s, kFloat32, &gen) < 0.5, full({}, -1.0), full({}, 1.0));
      t = (rand(s, kFloat32, &gen) * 1.5 + 0.25) * sign;
      break;
    }
    case Gen::WithZeros:
      t = where(rand(s, kFloat32, &gen) < 0.33, zeros({}), rand(s, kFloat32, &gen) * 1.8 - 0.9);
      break;
    case Gen::Distinct:
      t = reshape(randperm(n, &gen).to(kFloat32) * 0.25 - 0.125 * static_cast<double>(n), s);
      break;
    case Gen::SmallIntF:
      t = randint(-2, 3, s, kInt64, &gen).to(kFloat32);
      break;
    case Gen::Special: {
      std::vector<float> v = randn({n}, kFloat32, &gen).to_vector<float>();
      const float special[] = {std::numeric_limits<float>::quiet_NaN(),
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity()};
      for (size_t i = 0; i < v.size(); ++i)
        if (i % 4 != 0) v[i] = special[(i / 4 + i) % 3];
      t = reshape(from_vector(v), s);
      break;
    }
    case Gen::Index:
      t = randint(0, a.hi, s, kInt64, &gen);
      break;
    case Gen::IndexNeg:
    case Gen::Int:
      t = randint(-a.hi, a.hi, s, kInt64, &gen);
      break;
    case Gen::Bool:
      t = rand(s, kFloat32, &gen) < 0.5;
      break;
  }
  if (a.is_float() && float_dtype != kFloat32) t = t.to(float_dtype);
  return t.detach();
}

Tensor apply_layout(const Tensor& t, const Arg& a) {
  switch (a.layout) {
    case Layout::Contig:
      return t;
    case Layout::Transposed:
      return transpose(t, -1, -2);
    case Layout::Stepped:
      return slice(t, -1, 0, t.size(-1), 2);
    case Layout::Expanded:
      return expand(t, a.shape);
  }
  return t;
}

torch::Tensor apply_layout(const torch::Tensor& t, const Arg& a) {
  switch (a.layout) {
    case Layout::Contig:
      return t;
    case Layout::Transposed:
      return t.transpose(-1, -2);
    case Layout::Stepped:
      return t.slice(-1, 0, t.size(-1), 2);
    case Layout::Expanded:
      return t.expand(a.shape);
  }
  return t;
}

// Note [Float64 oracle]: every case runs torch twice on the same float32 values: in float32
// (the semantics: result shapes, dtypes, requires_grad; and a reference value) and with the float
// inputs widened to float64 (the exact value for those inputs); see Note [Parity tolerance].
struct Prepared {
  std::vector<Tensor> leaves, inputs;
  std::vector<torch::Tensor> tleaves, tinputs;      // float32, as Ember's
  std::vector<torch::Tensor> tleaves64, tinputs64;  // float args widened to float64
};

Prepared prepare(const OpRow& row, const Case& c, bool grad) {
  Generator gen(seed_for(row.name + "/" + row.variant + "/" + c.label));
  Prepared p;
  for (const Arg& a : c.args) {
    Tensor base = generate(a, gen, kFloat32);
    torch::Tensor tb = to_torch(base);
    torch::Tensor tb64 = a.is_float() ? tb.to(torch::kFloat64) : tb.clone();
    if (grad && a.is_float()) {
      base.requires_grad_();
      tb.requires_grad_();
      tb64.requires_grad_();
    }
    p.leaves.push_back(base);
    p.tleaves.push_back(tb);
    p.tleaves64.push_back(tb64);
    p.inputs.push_back(apply_layout(base, a));
    p.tinputs.push_back(apply_layout(tb, a));
    p.tinputs64.push_back(apply_layout(tb64, a));
  }
  return p;
}

bool all_zero(const torch::Tensor& t) {
  return t.numel() == 0 || t.eq(0).all().item<bool>();
}

// Largest errors seen by the current row, printed when it finishes.
struct MaxErrors {
  double forward = 0, gradient = 0;
} g_max;

// Elementwise |got - want| with equal values (infinities included) and NaN in both at 0, and
// NaN in only one at infinity.
torch::Tensor abs_error(const torch::Tensor& got, const torch::Tensor& want) {
  torch::Tensor err = (got - want).abs();
  err = torch::where(got.isnan() & want.isnan(), torch::zeros_like(err), err);
  err = torch::where(got.isnan() ^ want.isnan(), torch::full_like(err, INFINITY), err);
  return torch::where(got == want, torch::zeros_like(err), err);
}

// Largest error of got against the float32 and float64 torch results (Note [Parity tolerance]).
double table_error(const Tensor& got, const torch::Tensor& want32, const torch::Tensor& want64) {
  if (got.numel() == 0) return 0;
  torch::Tensor a = to_torch(got).to(torch::kFloat64);
  torch::Tensor b32 = want32.detach().to(torch::kFloat64);
  torch::Tensor b64 = want64.detach().to(torch::kFloat64);
  torch::Tensor scale = torch::where(b64.isfinite(), b64.abs(), b32.abs());
  scale = torch::where(scale.isfinite(), scale, torch::zeros_like(scale));
  const double floor = std::max(1e-3, 1e-2 * scale.max().item<double>());
  torch::Tensor err = torch::minimum(abs_error(a, b32), abs_error(a, b64)) / scale.clamp_min(floor);
  return err.max().item<double>();
}

void compare(const Tensor& got, const torch::Tensor& want32, const torch::Tensor& want64,
             const std::string& what, double& worst) {
  const Shape want_shape(want32.sizes().begin(), want32.sizes().end());
  ASSERT_EQ(Shape(got.shape()), want_shape) << what << ": shape";
  ASSERT_EQ(want_shape, Shape(want64.sizes().begin(), want64.sizes().end())) << what;
  const double e = table_error(got, want32, want64);
  EXPECT_LE(e, kRtol) << what << ": max relative error " << e;
  worst = std::max(worst, e);
}

void check_gradients(const OpRow& row, const Case& c, const Prepared& p,
                     const std::vector<Tensor>& out, const std::vector<torch::Tensor>& tout,
                     const std::vector<torch::Tensor>& tref) {
  Generator wgen(seed_for(row.name + "/" + row.variant + "/" + c.label + "/w"));
  Tensor loss;
  torch::Tensor tloss, tloss64;
  for (size_t k = 0; k < out.size(); ++k) {
    if (!tout[k].requires_grad() || !out[k].requires_grad()) continue;
    Tensor w = randn(out[k].shape(), out[k].dtype(), &wgen);
    const torch::Tensor tw = to_torch(w);
    Tensor term = sum(out[k] * w);
    torch::Tensor tterm = (tout[k] * tw).sum();
    torch::Tensor tterm64 = (tref[k] * tw.to(tref[k].scalar_type())).sum();
    loss = loss.defined() ? loss + term : term;
    tloss = tloss.defined() ? tloss + tterm : tterm;
    tloss64 = tloss64.defined() ? tloss64 + tterm64 : tterm64;
  }
  if (!loss.defined()) return;
  std::vector<Tensor> leaves;
  std::vector<torch::Tensor> tleaves, tleaves64;
  for (size_t i = 0; i < p.leaves.size(); ++i)
    if (p.leaves[i].requires_grad()) {
      leaves.push_back(p.leaves[i]);
      tleaves.push_back(p.tleaves[i]);
      tleaves64.push_back(p.tleaves64[i]);
    }
  std::vector<Tensor> g;
  try {
    g = autograd::grad({loss}, leaves, {}, false, false, /*allow_unused=*/true);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "ember backward threw: " << e.what();
    return;
  }
  const auto torch_grad = [](const torch::Tensor& l, const std::vector<torch::Tensor>& in) {
    return torch::autograd::grad({l}, in, {}, c10::nullopt, false, /*allow_unused=*/true);
  };
  std::vector<torch::Tensor> tg = torch_grad(tloss, tleaves);
  std::vector<torch::Tensor> tg64 = torch_grad(tloss64, tleaves64);
  for (size_t i = 0; i < g.size(); ++i) {
    const std::string what = "gradient of input " + std::to_string(i);
    if (!tg[i].defined()) {
      if (g[i].defined()) {
        EXPECT_TRUE(all_zero(to_torch(g[i]))) << what << ": torch has none";
      }
    } else if (!g[i].defined()) {
      EXPECT_TRUE(all_zero(tg[i])) << what << ": ember has none, torch's is not zero";
    } else {
      EXPECT_EQ(g[i].dtype(), ember_dtype(tg[i].scalar_type())) << what << ": dtype";
      compare(g[i], tg[i], tg64[i].defined() ? tg64[i] : torch::zeros_like(tg[i]), what,
              g_max.gradient);
    }
  }
}

void check_case(const OpRow& row, const Case& c) {
  SCOPED_TRACE("op " + row.name + (row.variant.empty() ? "" : " [" + row.variant + "]") +
               ", case " + c.label);
  Prepared p = prepare(row, c, row.differentiable);
  std::vector<torch::Tensor> tout = row.torch(p.tinputs);
  std::vector<torch::Tensor> tref = row.torch(p.tinputs64);
  std::vector<Tensor> out;
  try {
    out = row.ember(p.inputs);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "ember threw: " << e.what();
    return;
  }
  ASSERT_EQ(out.size(), tout.size()) << "number of outputs";
  for (size_t k = 0; k < out.size(); ++k) {
    const std::string what = "output " + std::to_string(k);
    ASSERT_TRUE(out[k].defined()) << what << " is undefined";
    ASSERT_EQ(Shape(out[k].shape()), Shape(tout[k].sizes().begin(), tout[k].sizes().end()))
        << what << ": shape";
    EXPECT_EQ(out[k].dtype(), ember_dtype(tout[k].scalar_type())) << what << ": dtype";
    if (row.compare_values) compare(out[k], tout[k], tref[k], what, g_max.forward);
    EXPECT_EQ(out[k].requires_grad(), tout[k].requires_grad()) << what << ": requires_grad";
  }
  if (row.differentiable) check_gradients(row, c, p, out, tout, tref);
  for (size_t i = 0; i < p.leaves.size(); ++i) {  // ops never write into their inputs
    EXPECT_EQ(p.leaves[i].version(), 0u) << "input " << i << " was modified in place";
    EXPECT_TRUE(abs_error(to_torch(p.leaves[i]).to(torch::kFloat64),
                          p.tleaves64[i].detach().to(torch::kFloat64))
                    .eq(0)
                    .all()
                    .item<bool>())
        << "input " << i << " changed";
  }
}

}  // namespace

TEST_P(OpParity, MatchesTorch) {
  const OpRow& row = GetParam();
  g_max = {};
  for (const Case& c : row.cases) check_case(row, c);
  std::printf("  %s%s: max relative error %.2e (forward), %.2e (gradients)\n", row.name.c_str(),
              row.variant.empty() ? "" : (" [" + row.variant + "]").c_str(), g_max.forward,
              g_max.gradient);
}

TEST_P(OpGradcheck, Float64) {
  const OpRow& row = GetParam();
  for (const Case& c : row.cases) {
    SCOPED_TRACE("case " + c.label);
    Generator gen(seed_for(row.name + "/" + row.variant + "/" + c.label));
    std::vector<Tensor> leaves, floats;
    bool empty = false;
    for (const Arg& a : c.args) {
      leaves.push_back(generate(a, gen, kFloat64));
      if (a.is_float()) floats.push_back(leaves.back().requires_grad_());
      empty = empty || leaves.back().numel() == 0;
    }
    if (empty || floats.empty() || !c.gradcheck) continue;
    auto f = [&](const std::vector<Tensor>& fl) {
      std::vector<Tensor> in;
      size_t j = 0;
      for (size_t i = 0; i < c.args.size(); ++i)
        in.push_back(apply_layout(c.args[i].is_float() ? fl[j++] : leaves[i], c.args[i]));
      std::vector<Tensor> parts;
      for (const Tensor& o : row.ember(in))
        if (o.is_floating_point()) parts.push_back(reshape(o, {-1}));
      return cat(parts);
    };
    try {
      const autograd::GradcheckResult r = autograd::gradcheck(f, floats);
      EXPECT_TRUE(r.ok) << r.detail << " (max abs error " << r.max_abs_error << ")";
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw: " << e.what();
    }
  }
}

TEST(OpTable, EveryOpHasARow) {
  std::set<std::string> listed;
#define EMBER_OPTEST_NAME(n) listed.insert(#n);
  EMBER_OP_LIST(EMBER_OPTEST_NAME)
#undef EMBER_OPTEST_NAME
  std::set<std::string> have;
  for (const OpRow& r : all_rows()) {
    have.insert(r.name);
    EXPECT_TRUE(listed.count(r.name)) << "row '" << r.name << "' names no op in EMBER_OP_LIST";
    EXPECT_FALSE(r.cases.empty()) << "row '" << r.name << "' has no cases";
  }
  for (const std::string& n : listed)
    EXPECT_TRUE(have.count(n)) << "op '" << n << "' has no row in the op table";
}

// ---- second-order gradients: grad(create_graph) then grad again, against torch ----

namespace {

struct Grad2Op {
  std::string name;
  std::function<Tensor(const Tensor&, const Tensor&)> ember;
  std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)> torch;
  bool binary = false;
};

std::vector<Grad2Op> grad2_ops() {
  return {
      {"tanh", [](auto& x, auto&) { return tanh(x); }, [](auto& x, auto&) { return x.tanh(); }},
      {"sigmoid", [](auto& x, auto&) { return sigmoid(x); },
       [](auto& x, auto&) { return x.sigmoid(); }},
      {"exp", [](auto& x, auto&) { return exp(x); }, [](auto& x, auto&) { return x.exp(); }},
      {"mul", [](auto& x, auto& y) { return mul(x, y); }, [](auto& x, auto& y) { return x * y; },
       true},
      {"matmul", [](auto& x, auto& y) { return matmul(x, y); },
       [](auto& x, auto& y) { return x.matmul(y); }, true},
      {"softmax", [](auto& x, auto&) { return softmax(x, 1); },
       [](auto& x, auto&) { return x.softmax(1); }},
      {"log_softmax", [](auto& x, auto&) { return log_softmax(x, 1); },
       [](auto& x, auto&) { return x.log_softmax(1); }},
      {"gelu", [](auto& x, auto&) { return gelu(x); },
       [](auto& x, auto&) { return torch::gelu(x); }},
      {"gelu_tanh", [](auto& x, auto&) { return gelu(x, "tanh"); },
       [](auto& x, auto&) { return torch::gelu(x, "tanh"); }},
      {"silu", [](auto& x, auto&) { return silu(x); },
       [](auto& x, auto&) { return torch::silu(x); }},
      {"log", [](auto& x, auto&) { return log(abs(x) + 0.5); },
       [](auto& x, auto&) { return (x.abs() + 0.5).log(); }},
      {"div", [](auto& x, auto& y) { return div(x, y * y + 0.5); },
       [](auto& x, auto& y) { return x / (y * y + 0.5); }, true},
  };
}

void PrintTo(const Grad2Op& op, std::ostream* os) {
  *os << op.name;
}

class SecondOrder : public ::testing::TestWithParam<Grad2Op> {};

TEST_P(SecondOrder, MatchesTorchDoubleBackward) {
  const Grad2Op& op = GetParam();
  Generator gen(seed_for("grad2/" + op.name));
  Tensor x = randn({3, 4}, kFloat64, &gen).requires_grad_();
  Tensor y = randn({4, 4}, kFloat64, &gen).requires_grad_();
  if (op.name == "mul" || op.name == "div") y = randn({3, 4}, kFloat64, &gen).requires_grad_();
  torch::Tensor tx = to_torch(x).requires_grad_(), ty = to_torch(y).requires_grad_();
  std::vector<Tensor> in = op.binary ? std::vector<Tensor>{x, y} : std::vector<Tensor>{x};
  std::vector<torch::Tensor> tin =
      op.binary ? std::vector<torch::Tensor>{tx, ty} : std::vector<torch::Tensor>{tx};

  Tensor out = op.ember(x, y);
  torch::Tensor tout = op.torch(tx, ty);
  Tensor w = randn(out.shape(), kFloat64, &gen);
  std::vector<Tensor> g = autograd::grad({sum(out * w)}, in, {}, false, /*create_graph=*/true);
  std::vector<torch::Tensor> tg =
      torch::autograd::grad({(tout * to_torch(w)).sum()}, tin, {}, c10::nullopt, true);
  Tensor l2;
  torch::Tensor tl2;
  for (size_t i = 0; i < g.size(); ++i) {
    expect_close(g[i], tg[i], "first-order gradient " + std::to_string(i));
    ASSERT_TRUE(g[i].requires_grad()) << "create_graph gave a gradient without history";
    Tensor v = randn(g[i].shape(), kFloat64, &gen);
    l2 = l2.defined() ? l2 + sum(g[i] * v) : sum(g[i] * v);
    tl2 = tl2.defined() ? tl2 + (tg[i] * to_torch(v)).sum() : (tg[i] * to_torch(v)).sum();
  }
  std::vector<Tensor> gg = autograd::grad({l2}, in, {}, false, false, /*allow_unused=*/true);
  std::vector<torch::Tensor> tgg =
      torch::autograd::grad({tl2}, tin, {}, c10::nullopt, false, /*allow_unused=*/true);
  for (size_t i = 0; i < gg.size(); ++i) {
    const std::string what = "second-order gradient " + std::to_string(i);
    if (!tgg[i].defined()) {
      if (gg[i].defined()) {
        EXPECT_TRUE(all_zero(to_torch(gg[i]))) << what;
      }
    } else if (!gg[i].defined()) {
      EXPECT_TRUE(all_zero(tgg[i])) << what << ": ember has none";
    } else {
      expect_close(gg[i], tgg[i], what);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, SecondOrder, ::testing::ValuesIn(grad2_ops()),
                         [](const ::testing::TestParamInfo<Grad2Op>& info) {
                           return info.param.name;
                         });

}  // namespace

}  // namespace ember::optest

// ---- in-place ops on non-leaf tensors: values and gradients against torch ----

namespace ember::optest {
namespace {

struct InPlaceOp {
  std::string name;
  std::function<void(Tensor&, const Tensor&)> ember;
  std::function<void(torch::Tensor&, const torch::Tensor&)> torch;
};

std::vector<InPlaceOp> inplace_ops() {
  return {
      {"add_", [](Tensor& y, const Tensor& w) { y.add_(w, 0.5); },
       [](torch::Tensor& y, const torch::Tensor& w) { y.add_(w, 0.5); }},
      {"sub_", [](Tensor& y, const Tensor& w) { y.sub_(w); },
       [](torch::Tensor& y, const torch::Tensor& w) { y.sub_(w); }},
      {"mul_", [](Tensor& y, const Tensor& w) { y.mul_(w); },
       [](torch::Tensor& y, const torch::Tensor& w) { y.mul_(w); }},
      {"div_", [](Tensor& y, const Tensor& w) { y.div_(w * w + 0.5); },
       [](torch::Tensor& y, const torch::Tensor& w) { y.div_(w * w + 0.5); }},
      {"scalars", [](Tensor& y, const Tensor&) { y.add_(1.5).mul_(-2.0).sub_(0.25).div_(3.0); },
       [](torch::Tensor& y, const torch::Tensor&) { y.add_(1.5).mul_(-2.0).sub_(0.25).div_(3.0); }},
      {"zero_", [](Tensor& y, const Tensor&) { y.zero_(); },
       [](torch::Tensor& y, const torch::Tensor&) { y.zero_(); }},
      {"fill_", [](Tensor& y, const Tensor&) { y.fill_(0.75); },
       [](torch::Tensor& y, const torch::Tensor&) { y.fill_(0.75); }},
      {"copy_", [](Tensor& y, const Tensor& w) { y.copy_(w.select(0, 1)); },
       [](torch::Tensor& y, const torch::Tensor& w) { y.copy_(w.select(0, 1)); }},
      {"clamp_", [](Tensor& y, const Tensor&) { y.clamp_(-0.5, 0.8); },
       [](torch::Tensor& y, const torch::Tensor&) { y.clamp_(-0.5, 0.8); }},
      {"clamp_min_", [](Tensor& y, const Tensor&) { y.clamp_(-0.5, std::nullopt); },
       [](torch::Tensor& y, const torch::Tensor&) { y.clamp_min_(-0.5); }},
  };
}

void PrintTo(const InPlaceOp& op, std::ostream* os) {
  *os << op.name;
}

class InPlaceParity : public ::testing::TestWithParam<InPlaceOp> {};

TEST_P(InPlaceParity, ValuesAndGradients) {
  const InPlaceOp& op = GetParam();
  Generator gen(seed_for("inplace/" + op.name));
  Tensor x = randn({3, 4}, kFloat32, &gen).requires_grad_();
  Tensor w = randn({3, 4}, kFloat32, &gen).requires_grad_();
  const Tensor c = randn({3, 4}, kFloat32, &gen);
  torch::Tensor tx = to_torch(x).requires_grad_(), tw = to_torch(w).requires_grad_();
  Tensor y = x * 2.0;  // non-leaf
  torch::Tensor ty = tx * 2.0;
  op.ember(y, w);
  op.torch(ty, tw);
  expect_close(y, ty, "value");
  EXPECT_EQ(y.requires_grad(), ty.requires_grad());
  sum(y * c).backward();
  (ty * to_torch(c)).sum().backward();
  for (auto [g, tg, what] : {std::tuple{x.grad(), tx.grad(), "x"}, {w.grad(), tw.grad(), "w"}}) {
    if (!tg.defined()) {
      EXPECT_TRUE(!g.defined() || all_zero(to_torch(g))) << what;
    } else if (!g.defined()) {
      EXPECT_TRUE(all_zero(tg)) << what << ": ember has no gradient";
    } else {
      expect_close(g, tg, std::string("gradient of ") + what);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, InPlaceParity, ::testing::ValuesIn(inplace_ops()),
                         [](const ::testing::TestParamInfo<InPlaceOp>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace ember::optest
