// Elementwise math written once: functors shared by the CPU loops and (later) the CUDA kernels.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#if defined(__CUDACC__)
#define EMBER_HD __host__ __device__
#else
#define EMBER_HD
#endif

namespace ember::math {

// Note [Unary op list]: X(name, Functor). Params a, b carry op arguments (slope, alpha, bounds).
// Ops marked bool-out produce kBool. Every op here has a CPU kernel by construction.
#define EMBER_UNARY_OPS(X) \
  X(Neg)                   \
  X(Exp)                   \
  X(Log)                   \
  X(Log1p)                 \
  X(Sqrt)                  \
  X(Rsqrt)                 \
  X(Abs)                   \
  X(Erf)                   \
  X(Sin)                   \
  X(Cos)                   \
  X(Tanh)                  \
  X(Sigmoid)               \
  X(Relu)                  \
  X(LeakyRelu)             \
  X(Elu)                   \
  X(Gelu)                  \
  X(GeluTanh)              \
  X(Silu)                  \
  X(Softplus)              \
  X(Clamp)                 \
  X(PowScalar)             \
  X(RPowScalar)            \
  X(AddScalar)             \
  X(MulScalar)             \
  X(Sign)

#define EMBER_UNARY_BOOL_OPS(X) \
  X(LogicalNot)                 \
  X(IsNan)                      \
  X(IsFinite)

#define EMBER_BINARY_OPS(X) \
  X(Add)                    \
  X(Sub)                    \
  X(Mul)                    \
  X(Div)                    \
  X(Pow)                    \
  X(Maximum)                \
  X(Minimum)                \
  X(ReluBackward)           \
  X(SigmoidBackward)        \
  X(TanhBackward)           \
  X(GeluBackward)           \
  X(GeluTanhBackward)       \
  X(SiluBackward)

#define EMBER_BINARY_BOOL_OPS(X) \
  X(Eq)                          \
  X(Ne)                          \
  X(Lt)                          \
  X(Le)                          \
  X(Gt)                          \
  X(Ge)                          \
  X(LogicalAnd)                  \
  X(LogicalOr)                   \
  X(LogicalXor)

#define EMBER_ENUM_ENTRY(name) name,
enum class UnaryOp { EMBER_UNARY_OPS(EMBER_ENUM_ENTRY) EMBER_UNARY_BOOL_OPS(EMBER_ENUM_ENTRY) };
enum class BinaryOp { EMBER_BINARY_OPS(EMBER_ENUM_ENTRY) EMBER_BINARY_BOOL_OPS(EMBER_ENUM_ENTRY) };
#undef EMBER_ENUM_ENTRY

constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;

template <class T>
EMBER_HD inline T sigmoid_of(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// ---- unary functors: y = f(x; a, b) ----
struct Neg { template <class T> EMBER_HD T operator()(T x, double, double) const { return -x; } };
struct Exp { template <class T> EMBER_HD T operator()(T x, double, double) const { return std::exp(x); } };
struct Log { template <class T> EMBER_HD T operator()(T x, double, double) const { return std::log(x); } };
struct Log1p { template <class T> EMBER_HD T operator()(T x, double, double) const { return std::log1p(x); } };
struct Sqrt { template <class T> EMBER_HD T operator()(T x, double, double) const { return std::sqrt(x); } };
struct Rsqrt { template <class T> EMBER_HD T operator()(T x, double, double) const { return T(1) / std::sqrt(x); } };
struct Abs { template <class T> EMBER_HD T operator()(T x, double, double) const { return x < T(0) ? -x : x; } };
struct Erf { template <class T> EMBER_HD T operator()(T x, double, double) const { return std::erf(x); } };
struct Sin { template <class T> EMBER_HD T operator()(T x, double, double) const { return std::sin(x); } };
struct Cos { template <class T> EMBER_HD T operator()(T x, double, double) const { return std::cos(x); } };
struct Tanh { template <class T> EMBER_HD T operator()(T x, double, double) const { return std::tanh(x); } };
struct Sigmoid { template <class T> EMBER_HD T operator()(T x, double, double) const { return sigmoid_of(x); } };
// NaN propagates through relu (as in PyTorch): compare with <= so that NaN takes the x branch.
struct Relu { template <class T> EMBER_HD T operator()(T x, double, double) const { return x <= T(0) ? T(0) : x; } };
struct LeakyRelu {
  template <class T> EMBER_HD T operator()(T x, double a, double) const { return x > T(0) ? x : x * T(a); }
};
struct Elu {
  template <class T> EMBER_HD T operator()(T x, double a, double) const {
    return x > T(0) ? x : T(a) * std::expm1(x);
  }
};
struct Gelu {
  template <class T> EMBER_HD T operator()(T x, double, double) const {
    return T(0.5) * x * (T(1) + std::erf(x / T(kSqrt2)));
  }
};
struct GeluTanh {
  template <class T> EMBER_HD T operator()(T x, double, double) const {
    T inner = T(kSqrt2OverPi) * (x + T(0.044715) * x * x * x);
    return T(0.5) * x * (T(1) + std::tanh(inner));
  }
};
struct Silu { template <class T> EMBER_HD T operator()(T x, double, double) const { return x * sigmoid_of(x); } };
/// a = beta, b = threshold
struct Softplus {
  template <class T> EMBER_HD T operator()(T x, double a, double b) const {
    T bx = x * T(a);
    return bx > T(b) ? x : std::log1p(std::exp(bx)) / T(a);
  }
};
/// a = min, b = max (±inf when absent); NaN propagates.
struct Clamp {
  template <class T> EMBER_HD T operator()(T x, double a, double b) const {
    if (x != x) return x;
    if constexpr (std::is_integral_v<T>) {
      double v = static_cast<double>(x);
      v = v < a ? a : v;
      v = v > b ? b : v;
      return static_cast<T>(v);
    } else {
      T lo = static_cast<T>(a), hi = static_cast<T>(b);
      x = x < lo ? lo : x;
      return x > hi ? hi : x;
    }
  }
};
struct PowScalar {
  template <class T> EMBER_HD T operator()(T x, double a, double) const {
    if (a == 2.0) return x * x;
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(std::pow(static_cast<double>(x), a));
    } else {
      return std::pow(x, static_cast<T>(a));
    }
  }
};
/// a ** x
struct RPowScalar {
  template <class T> EMBER_HD T operator()(T x, double a, double) const {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(std::pow(a, static_cast<double>(x)));
    } else {
      return std::pow(static_cast<T>(a), x);
    }
  }
};
struct AddScalar { template <class T> EMBER_HD T operator()(T x, double a, double) const { return x + static_cast<T>(a); } };
struct MulScalar { template <class T> EMBER_HD T operator()(T x, double a, double) const { return x * static_cast<T>(a); } };
struct Sign {
  template <class T> EMBER_HD T operator()(T x, double, double) const { return T((T(0) < x) - (x < T(0))); }
};
struct LogicalNot { template <class T> EMBER_HD bool operator()(T x, double, double) const { return !(x != T(0)); } };
struct IsNan { template <class T> EMBER_HD bool operator()(T x, double, double) const { return x != x; } };
struct IsFinite {
  template <class T> EMBER_HD bool operator()(T x, double, double) const {
    if constexpr (std::is_integral_v<T>) return true; else return std::isfinite(x);
  }
};

// ---- binary functors: y = f(a, b; alpha) ----
struct Add { template <class T> EMBER_HD T operator()(T a, T b, double alpha) const { return alpha == 1 ? a + b : a + static_cast<T>(alpha) * b; } };
struct Sub { template <class T> EMBER_HD T operator()(T a, T b, double alpha) const { return alpha == 1 ? a - b : a - static_cast<T>(alpha) * b; } };
struct Mul { template <class T> EMBER_HD T operator()(T a, T b, double) const { return a * b; } };
struct Div { template <class T> EMBER_HD T operator()(T a, T b, double) const { return a / b; } };
struct Pow {
  template <class T> EMBER_HD T operator()(T a, T b, double) const {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(std::pow(static_cast<double>(a), static_cast<double>(b)));
    } else {
      return std::pow(a, b);
    }
  }
};
struct Maximum {
  template <class T> EMBER_HD T operator()(T a, T b, double) const { return (a != a || a > b) ? a : b; }
};
struct Minimum {
  template <class T> EMBER_HD T operator()(T a, T b, double) const { return (a != a || a < b) ? a : b; }
};
/// (grad, y = relu(x)) -> grad where y > 0 or y is NaN, else 0 (PyTorch's threshold_backward)
struct ReluBackward { template <class T> EMBER_HD T operator()(T g, T x, double) const { return x <= T(0) ? T(0) : g; } };
/// (grad, y = sigmoid(x)) -> grad * y * (1 - y)
struct SigmoidBackward { template <class T> EMBER_HD T operator()(T g, T y, double) const { return g * y * (T(1) - y); } };
/// (grad, y = tanh(x)) -> grad * (1 - y²)
struct TanhBackward { template <class T> EMBER_HD T operator()(T g, T y, double) const { return g * (T(1) - y * y); } };
/// (grad, x) -> grad * d/dx gelu(x)
struct GeluBackward {
  template <class T> EMBER_HD T operator()(T g, T x, double) const {
    T cdf = T(0.5) * (T(1) + std::erf(x / T(kSqrt2)));
    T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
    return g * (cdf + x * pdf);
  }
};
struct GeluTanhBackward {
  template <class T> EMBER_HD T operator()(T g, T x, double) const {
    T x2 = x * x;
    T inner = T(kSqrt2OverPi) * (x + T(0.044715) * x2 * x);
    T th = std::tanh(inner);
    T dinner = T(kSqrt2OverPi) * (T(1) + T(3 * 0.044715) * x2);
    return g * (T(0.5) * (T(1) + th) + T(0.5) * x * (T(1) - th * th) * dinner);
  }
};
struct SiluBackward {
  template <class T> EMBER_HD T operator()(T g, T x, double) const {
    T s = sigmoid_of(x);
    return g * s * (T(1) + x * (T(1) - s));
  }
};
struct Eq { template <class T> EMBER_HD bool operator()(T a, T b, double) const { return a == b; } };
struct Ne { template <class T> EMBER_HD bool operator()(T a, T b, double) const { return a != b; } };
struct Lt { template <class T> EMBER_HD bool operator()(T a, T b, double) const { return a < b; } };
struct Le { template <class T> EMBER_HD bool operator()(T a, T b, double) const { return a <= b; } };
struct Gt { template <class T> EMBER_HD bool operator()(T a, T b, double) const { return a > b; } };
struct Ge { template <class T> EMBER_HD bool operator()(T a, T b, double) const { return a >= b; } };
struct LogicalAnd { template <class T> EMBER_HD bool operator()(T a, T b, double) const { return (a != T(0)) && (b != T(0)); } };
struct LogicalOr { template <class T> EMBER_HD bool operator()(T a, T b, double) const { return (a != T(0)) || (b != T(0)); } };
struct LogicalXor { template <class T> EMBER_HD bool operator()(T a, T b, double) const { return (a != T(0)) != (b != T(0)); } };

}  // namespace ember::math
