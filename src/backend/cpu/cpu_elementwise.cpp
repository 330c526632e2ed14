// CPU elementwise kernels: copy/convert, fill, unary and binary math, where.
#include <cstring>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/loops.h"
#include "backend/cpu/vec_math.h"

namespace ember::cpu {

namespace {
CpuBackend g_cpu_backend;
const bool g_registered = [] {
  backend::register_backend(DeviceType::CPU, &g_cpu_backend);
  return true;
}();

template <class T>
inline T& at(char* p, int64_t i, int64_t stride) {
  return *reinterpret_cast<T*>(p + i * stride);
}

template <class To, class From>
inline To convert(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return static_cast<float>(v) != 0.0f;
  } else if constexpr (std::is_same_v<From, BFloat16>) {
    return static_cast<To>(static_cast<float>(v));
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return BFloat16(static_cast<float>(v));
  } else {
    return static_cast<To>(v);
  }
}

// out = f(x): one run of n elements.
template <class TOut, class T, class F>
void unary_run(const F& f, char** p, int64_t n, const std::array<int64_t, 2>& s, double a,
               double b) {
  if (s[0] == sizeof(TOut) && s[1] == sizeof(T)) {
    TOut* out = reinterpret_cast<TOut*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    int64_t i = 0;
#ifdef EMBER_VEC_MATH
    if constexpr (std::is_same_v<F, math::GeluTanh> && std::is_same_v<T, float>)
      i = vec::gelu_tanh(x, out, n);
    if constexpr (std::is_same_v<F, math::Tanh> && std::is_same_v<T, float>)
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, vec::tanh(_mm256_loadu_ps(x + i)));
#endif
    for (; i < n; ++i) out[i] = f(x[i], a, b);
  } else {
    for (int64_t i = 0; i < n; ++i) at<TOut>(p[0], i, s[0]) = f(at<T>(p[1], i, s[1]), a, b);
  }
}

template <class TOut, class T, class F>
void binary_run(const F& f, char** p, int64_t n, const std::array<int64_t, 3>& s, double alpha) {
  TOut* out = reinterpret_cast<TOut*>(p[0]);
  const T* x = reinterpret_cast<const T*>(p[1]);
  const T* y = reinterpret_cast<const T*>(p[2]);
  if (s[0] == sizeof(TOut) && s[1] == sizeof(T) && s[2] == sizeof(T)) {
    int64_t i = 0;
#ifdef EMBER_VEC_MATH
    if constexpr (std::is_same_v<F, math::GeluTanhBackward> && std::is_same_v<T, float>)
      i = vec::gelu_tanh_backward(x, y, out, n);
#endif
    for (; i < n; ++i) out[i] = f(x[i], y[i], alpha);
  } else if (s[0] == sizeof(TOut) && s[1] == sizeof(T) && s[2] == 0) {
    const T yv = *y;
    for (int64_t i = 0; i < n; ++i) out[i] = f(x[i], yv, alpha);
  } else if (s[0] == sizeof(TOut) && s[1] == 0 && s[2] == sizeof(T)) {
    const T xv = *x;
    for (int64_t i = 0; i < n; ++i) out[i] = f(xv, y[i], alpha);
  } else {
    for (int64_t i = 0; i < n; ++i)
      at<TOut>(p[0], i, s[0]) = f(at<T>(p[1], i, s[1]), at<T>(p[2], i, s[2]), alpha);
  }
}

template <class F>
void unary_dispatch(const F& f, bool bool_out, const Tensor& x, const Tensor& out, double a,
                    double b) {
  StridedLoop<2> loop({&out, &x});
  if constexpr (std::is_same_v<decltype(f(1.0f, 0.0, 0.0)), bool>) {
    if (x.dtype() == kBool) {
      loop.for_each_run([&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> s) {
        unary_run<bool, bool>(f, p.data(), n, s, a, b);
      });
      return;
    }
  }
  EMBER_DISPATCH_NUMERIC(x.dtype(), "unary op", [&] {
    if constexpr (std::is_same_v<decltype(f(scalar_t{}, 0.0, 0.0)), bool>) {
      EMBER_ASSERT(bool_out);
      loop.for_each_run([&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> s) {
        unary_run<bool, scalar_t>(f, p.data(), n, s, a, b);
      });
    } else {
      EMBER_ASSERT(!bool_out);
      loop.for_each_run([&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> s) {
        unary_run<scalar_t, scalar_t>(f, p.data(), n, s, a, b);
      });
    }
  });
}

template <class F>
void binary_dispatch(const F& f, const Tensor& x, const Tensor& y, const Tensor& out,
                     double alpha) {
  StridedLoop<3> loop({&out, &x, &y});
  auto body = [&]<class T>(T*) {
    using R = decltype(f(T{}, T{}, 0.0));
    loop.for_each_run([&](std::array<char*, 3> p, int64_t n, std::array<int64_t, 3> s) {
      binary_run<R, T>(f, p.data(), n, s, alpha);
    });
  };
  if (x.dtype() == kBool) {
    if constexpr (std::is_same_v<decltype(f(1.0f, 1.0f, 0.0)), bool>) {
      body(static_cast<bool*>(nullptr));
      return;
    }
  }
  EMBER_DISPATCH_NUMERIC(x.dtype(), "binary op", [&] { body(static_cast<scalar_t*>(nullptr)); });
}
}  // namespace

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    std::memcpy(dst.raw_data(), src.raw_data(),
                static_cast<size_t>(src.numel()) * src.element_size());
    return;
  }
  StridedLoop<2> loop({&dst, &src});
  EMBER_DISPATCH_ALL(dst.dtype(), "copy", [&] {
    using To = scalar_t;
    EMBER_DISPATCH_ALL(src.dtype(), "copy", [&] {
      using From = scalar_t;
      loop.for_each_run([&](std::array<char*, 2> p, int64_t n, std::array<int64_t, 2> s) {
        for (int64_t i = 0; i < n; ++i)
          at<To>(p[0], i, s[0]) = convert<To>(at<From>(p[1], i, s[1]));
      });
    });
  });
}

void CpuBackend::fill(const Tensor& dst, double value) {
  StridedLoop<1> loop({&dst});
  EMBER_DISPATCH_ALL(dst.dtype(), "fill", [&] {
    const scalar_t v = convert<scalar_t>(value);
    loop.for_each_run([&](std::array<char*, 1> p, int64_t n, std::array<int64_t, 1> s) {
      if (s[0] == sizeof(scalar_t)) {
        scalar_t* o = reinterpret_cast<scalar_t*>(p[0]);
        for (int64_t i = 0; i < n; ++i) o[i] = v;
      } else {
        for (int64_t i = 0; i < n; ++i) at<scalar_t>(p[0], i, s[0]) = v;
      }
    });
  });
}

void CpuBackend::unary(math::UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) {
  switch (op) {
#define EMBER_CASE(name)    \
  case math::UnaryOp::name: \
    return unary_dispatch(math::name{}, false, x, out, a, b);
    EMBER_UNARY_OPS(EMBER_CASE)
#undef EMBER_CASE
#define EMBER_CASE(name)    \
  case math::UnaryOp::name: \
    return unary_dispatch(math::name{}, true, x, out, a, b);
    EMBER_UNARY_BOOL_OPS(EMBER_CASE)
#undef EMBER_CASE
  }
}

void CpuBackend::binary(math::BinaryOp op, const Tensor& x, const Tensor& y, const Tensor& out,
                        double alpha) {
  switch (op) {
#define EMBER_CASE(name)     \
  case math::BinaryOp::name: \
    return binary_dispatch(math::name{}, x, y, out, alpha);
    EMBER_BINARY_OPS(EMBER_CASE)
    EMBER_BINARY_BOOL_OPS(EMBER_CASE)
#undef EMBER_CASE
  }
}

void CpuBackend::where(const Tensor& cond, const Tensor& x, const Tensor& y, const Tensor& out) {
  StridedLoop<4> loop({&out, &cond, &x, &y});
  EMBER_DISPATCH_ALL(out.dtype(), "where", [&] {
    loop.for_each_run([&](std::array<char*, 4> p, int64_t n, std::array<int64_t, 4> s) {
      for (int64_t i = 0; i < n; ++i)
        at<scalar_t>(p[0], i, s[0]) =
            at<bool>(p[1], i, s[1]) ? at<scalar_t>(p[2], i, s[2]) : at<scalar_t>(p[3], i, s[3]);
    });
  });
}

}  // namespace ember::cpu
