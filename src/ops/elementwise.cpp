// Elementwise ops: forward through the backend's unary/binary kernels, backward with ember ops.
#include "ember/ops/elementwise.h"

#include <cmath>
#include <limits>

#include "ember/ops/creation.h"
#include "ember/ops/reduce.h"
#include "ops/op_utils.h"

namespace ember {

using autograd::SavedTensor;
using ops::BinaryOp;
using ops::UnaryOp;

Shape broadcast_shapes(IntList a, IntList b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    EMBER_CHECK_SHAPE(da == db || da == 1 || db == 1, op, ": shapes ",
                      detail::shape_to_string(a), " and ", detail::shape_to_string(b),
                      " cannot be broadcast together (dim ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

namespace {

// Backward of a fused activation: the fused kernel when no higher-order graph is needed,
// otherwise the composite formula, which is itself differentiable.
template <class Composite>
Tensor act_backward(BinaryOp fused, const Tensor& g, const Tensor& saved, const Composite& f) {
  if (GradMode::is_enabled()) return f();
  return ops::binary_kernel(fused, g, saved, 1, "activation backward", g.dtype(), g.dtype());
}

Tensor float_input(const Tensor& x, const char* op) {
  ops::check_defined(x, op);
  return ops::cast(x, ops::float_result(x.dtype()));
}

}  // namespace

// ---- binary arithmetic ----

Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  const DType t = ops::result_type(a, b);
  Tensor out = ops::binary_kernel(BinaryOp::Add, a, b, alpha, "add", t, t);
  autograd::record("AddBackward", out, {a, b}, [alpha](const Tensor& g) -> std::vector<Tensor> {
    return {g, alpha == 1 ? g : g * alpha};
  });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  const DType t = ops::result_type(a, b);
  EMBER_CHECK_DTYPE(t != kBool, "sub: subtraction of bool tensors is not supported; use "
                    "logical_xor");
  Tensor out = ops::binary_kernel(BinaryOp::Sub, a, b, alpha, "sub", t, t);
  autograd::record("SubBackward", out, {a, b}, [alpha](const Tensor& g) -> std::vector<Tensor> {
    return {g, g * (-alpha)};
  });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  const DType t = ops::result_type(a, b);
  Tensor out = ops::binary_kernel(BinaryOp::Mul, a, b, 1, "mul", t, t);
  if (autograd::any_requires_grad({&a, &b})) {
    autograd::record("MulBackward", out, {a, b},
                     [sa = SavedTensor(a), sb = SavedTensor(b), ga = a.requires_grad(),
                      gb = b.requires_grad()](const Tensor& g) -> std::vector<Tensor> {
                       return {ga ? g * sb.get("MulBackward") : Tensor(),
                               gb ? g * sa.get("MulBackward") : Tensor()};
                     });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  DType t = ops::result_type(a, b);
  t = ops::float_result(t);  // true division, as torch.div
  Tensor out = ops::binary_kernel(BinaryOp::Div, a, b, 1, "div", t, t);
  if (autograd::any_requires_grad({&a, &b})) {
    autograd::record("DivBackward", out, {a, b},
                     [sa = SavedTensor(a), sb = SavedTensor(b), gb = b.requires_grad()](
                         const Tensor& g) -> std::vector<Tensor> {
                       Tensor bv = sb.get("DivBackward");
                       Tensor ga = g / bv;
                       if (!gb) return {ga, Tensor()};
                       return {ga, -ga * sa.get("DivBackward") / bv};
                     });
  }
  return out;
}

Tensor pow(const Tensor& a_in, double p) {
  ops::check_defined(a_in, "pow");
  // An integer tensor to a fractional power is computed in float, as torch.pow(int, 0.5).
  const Tensor a = std::floor(p) == p ? a_in : float_input(a_in, "pow");
  EMBER_CHECK(is_floating(a.dtype()) || p >= 0, "pow: integers to negative integer powers are ",
              "not allowed (", a.dtype(), " tensor, exponent ", p, ")");
  Tensor out = ops::unary_kernel(UnaryOp::PowScalar, a, p);
  autograd::record("PowBackward", out, {a}, [sa = SavedTensor(a), p](const Tensor& g) {
    if (p == 0) return std::vector<Tensor>{zeros_like(g)};
    return std::vector<Tensor>{g * p * pow(sa.get("PowBackward"), p - 1)};
  });
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  const DType t = ops::result_type(a, b);
  Tensor out = ops::binary_kernel(BinaryOp::Pow, a, b, 1, "pow", t, t);
  if (autograd::any_requires_grad({&a, &b})) {
    autograd::record(
        "PowBackward", out, {a, b},
        [sa = SavedTensor(a), sb = SavedTensor(b), so = SavedTensor(out.detach()),
         gb = b.requires_grad()](const Tensor& g) -> std::vector<Tensor> {
          Tensor av = sa.get("PowBackward"), bv = sb.get("PowBackward");
          Tensor ga = g * bv * pow(av, bv - 1.0);
          if (!gb) return {ga, Tensor()};
          Tensor y = GradMode::is_enabled() ? pow(av, bv) : so.get("PowBackward");
          // d/db a^b = a^b log a, taken as 0 where a == 0 (as PyTorch does)
          return {ga, where(av == 0.0, zeros_like(g), g * y * log(av))};
        });
  }
  return out;
}

Tensor pow(double base, const Tensor& e) {
  Tensor x = float_input(e, "pow");
  Tensor out = ops::unary_kernel(UnaryOp::RPowScalar, x, base);
  autograd::record("PowBackward", out, {e}, [so = SavedTensor(out.detach()), base, sx = SavedTensor(x)](
                                                 const Tensor& g) {
    Tensor y = GradMode::is_enabled() ? pow(base, sx.get("PowBackward")) : so.get("PowBackward");
    return std::vector<Tensor>{g * y * std::log(base)};
  });
  return out;
}

namespace {
// max/min backward: the gradient goes to the larger (smaller) input, split evenly on ties.
std::vector<Tensor> extreme_backward(const Tensor& g, const Tensor& a, const Tensor& b,
                                     bool is_max) {
  Tensor tie = a == b;
  Tensor half = where(tie, g / 2.0, g);
  Tensor a_wins = is_max ? a > b : a < b;
  Tensor b_wins = is_max ? a < b : a > b;
  return {where(b_wins, zeros_like(half), half), where(a_wins, zeros_like(half), half)};
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  const DType t = ops::result_type(a, b);
  Tensor out = ops::binary_kernel(BinaryOp::Maximum, a, b, 1, "maximum", t, t);
  autograd::record("MaximumBackward", out, {a, b},
                   [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g) {
                     return extreme_backward(g, sa.get("MaximumBackward"),
                                             sb.get("MaximumBackward"), true);
                   });
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  const DType t = ops::result_type(a, b);
  Tensor out = ops::binary_kernel(BinaryOp::Minimum, a, b, 1, "minimum", t, t);
  autograd::record("MinimumBackward", out, {a, b},
                   [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g) {
                     return extreme_backward(g, sa.get("MinimumBackward"),
                                             sb.get("MinimumBackward"), false);
                   });
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  ops::check_defined(cond, "where", "condition");
  ops::check_defined(a, "where", "first value");
  ops::check_defined(b, "where", "second value");
  EMBER_CHECK_DTYPE(cond.dtype() == kBool, "where: condition must be bool, got ", cond.dtype());
  ops::check_same_device(cond, a, "where");
  ops::check_same_device(a, b, "where");
  const DType t = ops::result_type(a, b);
  const Shape shape =
      broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = detail::make_tensor(shape, t, a.device());
  ops::kernels(a).where(ops::broadcast_view(cond, shape), ops::broadcast_view(ops::cast(a, t), shape),
                        ops::broadcast_view(ops::cast(b, t), shape), out);
  autograd::record("WhereBackward", out, {a, b}, [c = SavedTensor(cond)](const Tensor& g) {
    Tensor cv = c.get("WhereBackward");
    Tensor z = zeros_like(g);
    return std::vector<Tensor>{where(cv, g, z), where(cv, z, g)};
  });
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, double b) {
  return where(cond, a, ops::scalar_like(b, a.dtype(), a.device()));
}

// ---- unary math ----

#define EMBER_SIMPLE_UNARY(fn, OP, NAME, BACKWARD)                                          \
  Tensor fn(const Tensor& x_in) {                                                          \
    Tensor x = float_input(x_in, #fn);                                                     \
    Tensor out = ops::unary_kernel(UnaryOp::OP, x);                                        \
    autograd::record(NAME, out, {x_in},                                                    \
                     [sx = SavedTensor(x_in.requires_grad() ? x : Tensor()),               \
                      sy = SavedTensor(x_in.requires_grad() ? out.detach() : Tensor())](   \
                         const Tensor& g) {                                                \
                       Tensor x = sx.get(NAME);                                            \
                       Tensor y = GradMode::is_enabled() ? fn(x) : sy.get(NAME);           \
                       (void)y;                                                            \
                       return std::vector<Tensor>{BACKWARD};                               \
                     });                                                                   \
    return out;                                                                            \
  }

EMBER_SIMPLE_UNARY(exp, Exp, "ExpBackward", g * y)
EMBER_SIMPLE_UNARY(log, Log, "LogBackward", g / x)
EMBER_SIMPLE_UNARY(log1p, Log1p, "Log1pBackward", g / (x + 1.0))
EMBER_SIMPLE_UNARY(sqrt, Sqrt, "SqrtBackward", g / (y * 2.0))
EMBER_SIMPLE_UNARY(rsqrt, Rsqrt, "RsqrtBackward", g * pow(y, 3) * -0.5)
EMBER_SIMPLE_UNARY(erf, Erf, "ErfBackward", g * exp(-(x * x)) * (2.0 / std::sqrt(M_PI)))
EMBER_SIMPLE_UNARY(sin, Sin, "SinBackward", g * cos(x))
EMBER_SIMPLE_UNARY(cos, Cos, "CosBackward", -(g * sin(x)))
EMBER_SIMPLE_UNARY(tanh, Tanh, "TanhBackward",
                   act_backward(BinaryOp::TanhBackward, g, y, [&] { return g * (1.0 - y * y); }))
EMBER_SIMPLE_UNARY(sigmoid, Sigmoid, "SigmoidBackward",
                   act_backward(BinaryOp::SigmoidBackward, g, y,
                                [&] { return g * y * (1.0 - y); }))
EMBER_SIMPLE_UNARY(silu, Silu, "SiluBackward",
                   act_backward(BinaryOp::SiluBackward, g, x, [&] {
                     Tensor s = sigmoid(x);
                     return g * s * (1.0 + x * (1.0 - s));
                   }))
#undef EMBER_SIMPLE_UNARY

Tensor neg(const Tensor& x) {
  ops::check_defined(x, "neg");
  EMBER_CHECK_DTYPE(x.dtype() != kBool, "neg: negation of a bool tensor is not supported; use "
                    "logical_not");
  Tensor out = ops::unary_kernel(UnaryOp::Neg, x);
  autograd::record("NegBackward", out, {x}, [](const Tensor& g) {
    return std::vector<Tensor>{-g};
  });
  return out;
}

Tensor abs(const Tensor& x) {
  ops::check_defined(x, "abs");
  Tensor out = ops::unary_kernel(UnaryOp::Abs, x);
  autograd::record("AbsBackward", out, {x}, [sx = SavedTensor(x)](const Tensor& g) {
    return std::vector<Tensor>{g * sign(sx.get("AbsBackward"))};
  });
  return out;
}

Tensor sign(const Tensor& x) {
  ops::check_defined(x, "sign");
  Tensor out = ops::unary_kernel(UnaryOp::Sign, x);
  autograd::record("SignBackward", out, {x}, [](const Tensor& g) {
    return std::vector<Tensor>{zeros_like(g)};
  });
  return out;
}

Tensor relu(const Tensor& x) {
  ops::check_defined(x, "relu");
  Tensor out = ops::unary_kernel(UnaryOp::Relu, x);
  autograd::record("ReluBackward", out, {x}, [sy = SavedTensor(out.detach())](const Tensor& g) {
    Tensor y = sy.get("ReluBackward");
    return std::vector<Tensor>{act_backward(BinaryOp::ReluBackward, g, y, [&] {
      return where(y <= 0.0, zeros_like(g), g);
    })};
  });
  return out;
}

Tensor leaky_relu(const Tensor& x_in, double slope) {
  Tensor x = float_input(x_in, "leaky_relu");
  Tensor out = ops::unary_kernel(UnaryOp::LeakyRelu, x, slope);
  autograd::record("LeakyReluBackward", out, {x_in}, [sx = SavedTensor(x), slope](const Tensor& g) {
    return std::vector<Tensor>{where(sx.get("LeakyReluBackward") > 0.0, g, g * slope)};
  });
  return out;
}

Tensor elu(const Tensor& x_in, double alpha) {
  Tensor x = float_input(x_in, "elu");
  Tensor out = ops::unary_kernel(UnaryOp::Elu, x, alpha);
  autograd::record("EluBackward", out, {x_in}, [sx = SavedTensor(x), alpha](const Tensor& g) {
    Tensor xv = sx.get("EluBackward");
    // NaN takes g, as torch; exp of min(x, 0) keeps the unused branch finite for double backward
    return std::vector<Tensor>{where(xv <= 0.0, g * alpha * exp(clamp(xv, std::nullopt, 0.0)), g)};
  });
  return out;
}

Tensor gelu(const Tensor& x_in, const std::string& approximate) {
  EMBER_CHECK(approximate == "none" || approximate == "tanh",
              "gelu: approximate must be 'none' or 'tanh', got '", approximate, "'");
  const bool tanh_approx = approximate == "tanh";
  Tensor x = float_input(x_in, "gelu");
  Tensor out = ops::unary_kernel(tanh_approx ? UnaryOp::GeluTanh : UnaryOp::Gelu, x);
  autograd::record("GeluBackward", out, {x_in}, [sx = SavedTensor(x), tanh_approx](const Tensor& g) {
    Tensor xv = sx.get("GeluBackward");
    if (tanh_approx) {
      return std::vector<Tensor>{act_backward(BinaryOp::GeluTanhBackward, g, xv, [&] {
        const double k = math::kSqrt2OverPi;
        Tensor th = tanh((xv + pow(xv, 3) * 0.044715) * k);
        Tensor dinner = (1.0 + 3 * 0.044715 * xv * xv) * k;
        return g * (0.5 * (1.0 + th) + 0.5 * xv * (1.0 - th * th) * dinner);
      })};
    }
    return std::vector<Tensor>{act_backward(BinaryOp::GeluBackward, g, xv, [&] {
      Tensor cdf = 0.5 * (1.0 + erf(xv * (1.0 / math::kSqrt2)));
      Tensor pdf = exp(xv * xv * -0.5) * math::kInvSqrt2Pi;
      return g * (cdf + xv * pdf);
    })};
  });
  return out;
}

Tensor softplus(const Tensor& x_in, double beta, double threshold) {
  Tensor x = float_input(x_in, "softplus");
  Tensor out = ops::unary_kernel(UnaryOp::Softplus, x, beta, threshold);
  autograd::record("SoftplusBackward", out, {x_in},
                   [sx = SavedTensor(x), beta, threshold](const Tensor& g) {
                     Tensor xv = sx.get("SoftplusBackward");
                     return std::vector<Tensor>{
                         where(xv * beta > threshold, g, g * sigmoid(xv * beta))};
                   });
  return out;
}

Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max) {
  ops::check_defined(x, "clamp");
  EMBER_CHECK(min || max, "clamp: at least one of min and max must be given");
  const double lo = min.value_or(-std::numeric_limits<double>::infinity());
  const double hi = max.value_or(std::numeric_limits<double>::infinity());
  Tensor out = ops::unary_kernel(UnaryOp::Clamp, x, lo, hi);
  autograd::record("ClampBackward", out, {x}, [sx = SavedTensor(x), lo, hi](const Tensor& g) {
    Tensor xv = sx.get("ClampBackward");
    return std::vector<Tensor>{where(logical_and(xv >= lo, xv <= hi), g, zeros_like(g))};
  });
  return out;
}

// ---- comparisons and logic (no gradient) ----

#define EMBER_COMPARE(fn, OP)                                                     \
  Tensor fn(const Tensor& a, const Tensor& b) {                                  \
    return ops::binary_kernel(BinaryOp::OP, a, b, 1, #fn, ops::result_type(a, b), kBool); \
  }
EMBER_COMPARE(eq, Eq)
EMBER_COMPARE(ne, Ne)
EMBER_COMPARE(lt, Lt)
EMBER_COMPARE(le, Le)
EMBER_COMPARE(gt, Gt)
EMBER_COMPARE(ge, Ge)
EMBER_COMPARE(logical_and, LogicalAnd)
EMBER_COMPARE(logical_or, LogicalOr)
EMBER_COMPARE(logical_xor, LogicalXor)
#undef EMBER_COMPARE

Tensor logical_not(const Tensor& x) {
  ops::check_defined(x, "logical_not");
  return ops::unary_kernel(UnaryOp::LogicalNot, x, 0, 0, kBool, false);
}
Tensor isnan(const Tensor& x) {
  ops::check_defined(x, "isnan");
  return ops::unary_kernel(UnaryOp::IsNan, x, 0, 0, kBool, false);
}
Tensor isfinite(const Tensor& x) {
  ops::check_defined(x, "isfinite");
  return ops::unary_kernel(UnaryOp::IsFinite, x, 0, 0, kBool, false);
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
  NoGradGuard no_grad;
  Tensor ad = ops::cast(a, kFloat64), bd = ops::cast(b, kFloat64);
  Tensor diff = abs(ad - bd);
  Tensor tol = abs(bd) * rtol + atol;
  return all(le(diff, tol)).item<bool>();
}

// ---- operators ----

namespace {
Tensor scalar_for(const Tensor& t, double v) {
  // A Python-number-like 0-d tensor: float64 when v has a fraction, else int64; result_type
  // then keeps t's dtype the way PyTorch does for `t + 2` and `t * 0.5`.
  // It takes t's dtype when that keeps its value class (float tensor, or int tensor and an
  // integral v), so that a 0-d t isn't widened by it either: 2.0 / scalar_f32 stays float32.
  const bool integral = std::floor(v) == v && std::fabs(v) < 9e15;
  const DType t_dtype = t.dtype();
  const DType dtype = is_floating(t_dtype)                       ? t_dtype
                      : integral && t_dtype != kBool             ? t_dtype
                      : integral                                 ? kInt64
                                                                 : kFloat32;
  return ops::scalar_like(v, dtype, t.device());
}
}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double b) {
  ops::check_defined(a, "add");
  if (is_floating(a.dtype())) {
    Tensor out = ops::unary_kernel(UnaryOp::AddScalar, a, b);
    autograd::record("AddBackward", out, {a}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
    return out;
  }
  return add(a, scalar_for(a, b));
}
Tensor operator-(const Tensor& a, double b) { return a + (-b); }
Tensor operator*(const Tensor& a, double b) {
  ops::check_defined(a, "mul");
  if (is_floating(a.dtype())) {
    Tensor out = ops::unary_kernel(UnaryOp::MulScalar, a, b);
    autograd::record("MulBackward", out, {a}, [b](const Tensor& g) {
      return std::vector<Tensor>{g * b};
    });
    return out;
  }
  return mul(a, scalar_for(a, b));
}
Tensor operator/(const Tensor& a, double b) {
  ops::check_defined(a, "div");
  if (is_floating(a.dtype())) return a * (1.0 / b);
  return div(a, scalar_for(a, b));
}
Tensor operator+(double a, const Tensor& b) { return b + a; }
Tensor operator-(double a, const Tensor& b) { return (-b) + a; }
Tensor operator*(double a, const Tensor& b) { return b * a; }
Tensor operator/(double a, const Tensor& b) { return div(scalar_for(b, a), b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator==(const Tensor& a, double b) { return eq(a, scalar_for(a, b)); }
Tensor operator!=(const Tensor& a, double b) { return ne(a, scalar_for(a, b)); }
Tensor operator<(const Tensor& a, double b) { return lt(a, scalar_for(a, b)); }
Tensor operator<=(const Tensor& a, double b) { return le(a, scalar_for(a, b)); }
Tensor operator>(const Tensor& a, double b) { return gt(a, scalar_for(a, b)); }
Tensor operator>=(const Tensor& a, double b) { return ge(a, scalar_for(a, b)); }
Tensor operator&&(const Tensor& a, const Tensor& b) { return logical_and(a, b); }
Tensor operator||(const Tensor& a, const Tensor& b) { return logical_or(a, b); }
Tensor operator!(const Tensor& a) { return logical_not(a); }
Tensor& operator+=(Tensor& a, const Tensor& b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, const Tensor& b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, const Tensor& b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, const Tensor& b) { return a.div_(b); }
Tensor& operator+=(Tensor& a, double b) { return a.add_(b); }
Tensor& operator-=(Tensor& a, double b) { return a.sub_(b); }
Tensor& operator*=(Tensor& a, double b) { return a.mul_(b); }
Tensor& operator/=(Tensor& a, double b) { return a.div_(b); }

}  // namespace ember
