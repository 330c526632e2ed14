// CUDA elementwise kernels: copy/convert, fill, arange, unary and binary math, where (strided).
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_common.cuh"

namespace ember::cuda {

namespace {
CudaBackend g_cuda_backend;
const bool g_registered = [] {
  backend::register_backend(DeviceType::CUDA, &g_cuda_backend);
  return true;
}();

template <class To, class From>
__global__ void copy_kernel(To* dst, const From* src, Indexer<2> ix, int64_t n) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    int64_t off[2];
    ix.offsets(i, off);
    dst[off[0]] = convert<To>(src[off[1]]);
  }
}

template <class T>
__global__ void fill_kernel(T* dst, T value, Indexer<1> ix, int64_t n) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    int64_t off[1];
    ix.offsets(i, off);
    dst[off[0]] = value;
  }
}

template <class T>
__global__ void arange_kernel(T* out, double start, double step, int64_t n) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    out[i] = static_cast<T>(start + static_cast<double>(i) * step);
  }
}

template <class TOut, class T, class F>
__global__ void unary_kernel(F f, TOut* out, const T* x, Indexer<2> ix, int64_t n, double a,
                             double b) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    int64_t off[2];
    ix.offsets(i, off);
    out[off[0]] = f(x[off[1]], a, b);
  }
}

template <class TOut, class T, class F>
__global__ void binary_kernel(F f, TOut* out, const T* x, const T* y, Indexer<3> ix, int64_t n,
                              double alpha) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    int64_t off[3];
    ix.offsets(i, off);
    out[off[0]] = f(x[off[1]], y[off[2]], alpha);
  }
}

template <class T>
__global__ void where_kernel(T* out, const bool* cond, const T* x, const T* y, Indexer<4> ix,
                             int64_t n) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    int64_t off[4];
    ix.offsets(i, off);
    out[off[0]] = cond[off[1]] ? x[off[2]] : y[off[3]];
  }
}

// Note [Integer math on CUDA]: functors that call <cmath> functions (exp, erf, tanh, ...) would
// call libstdc++'s host-only integer overloads when instantiated for int32/int64. On the CPU those
// overloads compute in double, so on the device the same ops run in double and cast back.
template <class F>
constexpr bool kFloatMath =
    std::is_same_v<F, math::Exp> || std::is_same_v<F, math::Log> ||
    std::is_same_v<F, math::Log1p> || std::is_same_v<F, math::Sqrt> ||
    std::is_same_v<F, math::Rsqrt> || std::is_same_v<F, math::Erf> ||
    std::is_same_v<F, math::Sin> || std::is_same_v<F, math::Cos> || std::is_same_v<F, math::Tanh> ||
    std::is_same_v<F, math::Sigmoid> || std::is_same_v<F, math::Elu> ||
    std::is_same_v<F, math::Gelu> || std::is_same_v<F, math::GeluTanh> ||
    std::is_same_v<F, math::Silu> || std::is_same_v<F, math::Softplus> ||
    std::is_same_v<F, math::GeluBackward> || std::is_same_v<F, math::GeluTanhBackward> ||
    std::is_same_v<F, math::SiluBackward>;

template <class F>
struct UnaryViaDouble {
  template <class T>
  __device__ T operator()(T x, double a, double b) const {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(F{}(static_cast<double>(x), a, b));
    } else {
      return F{}(x, a, b);
    }
  }
};

template <class F>
struct BinaryViaDouble {
  template <class T>
  __device__ T operator()(T x, T y, double alpha) const {
    if constexpr (std::is_integral_v<T>) {
      return static_cast<T>(F{}(static_cast<double>(x), static_cast<double>(y), alpha));
    } else {
      return F{}(x, y, alpha);
    }
  }
};

// A fill value converted on the host as the CPU backend converts it.
template <class T>
T host_value(double value) {
  if constexpr (std::is_same_v<T, Bf16>) {
    return float_to_bf16(static_cast<float>(value));
  } else if constexpr (std::is_same_v<T, bool>) {
    return static_cast<float>(value) != 0.0f;
  } else {
    return static_cast<T>(value);
  }
}

template <class T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw_data());
}

// Runs f on x's dtype: float, double, int32, int64 (and bool when f returns bool), as on CPU.
template <class F>
void unary_dispatch(const F& f, const Tensor& x, const Tensor& out, double a, double b,
                    cudaStream_t s) {
  const int64_t n = out.numel();
  const Tensor* ts[2] = {&out, &x};
  const auto ix = make_indexer(ts, "unary op");
  auto launch = [&]<class TOut, class T>(TOut*, T*) {
    unary_kernel<TOut, T, F><<<detail::blocks_for(n), detail::kThreads, 0, s>>>(
        f, ptr<TOut>(out), ptr<const T>(x), ix, n, a, b);
    EMBER_CUDA_CHECK_LAUNCH("unary_kernel");
  };
  using BoolOut = decltype(f(1.0f, 0.0, 0.0));
  if constexpr (std::is_same_v<BoolOut, bool>) {
    if (x.dtype() == kBool) return launch(static_cast<bool*>(nullptr), static_cast<bool*>(nullptr));
  }
  EMBER_DISPATCH_NUMERIC(x.dtype(), "unary op", [&] {
    using R = decltype(f(scalar_t{}, 0.0, 0.0));
    launch(static_cast<R*>(nullptr), static_cast<scalar_t*>(nullptr));
  });
}

template <class F>
void binary_dispatch(const F& f, const Tensor& x, const Tensor& y, const Tensor& out, double alpha,
                     cudaStream_t s) {
  const int64_t n = out.numel();
  const Tensor* ts[3] = {&out, &x, &y};
  const auto ix = make_indexer(ts, "binary op");
  auto launch = [&]<class T>(T*) {
    using R = decltype(f(T{}, T{}, 0.0));
    binary_kernel<R, T, F><<<detail::blocks_for(n), detail::kThreads, 0, s>>>(
        f, ptr<R>(out), ptr<const T>(x), ptr<const T>(y), ix, n, alpha);
    EMBER_CUDA_CHECK_LAUNCH("binary_kernel");
  };
  if constexpr (std::is_same_v<decltype(f(1.0f, 1.0f, 0.0)), bool>) {
    if (x.dtype() == kBool) return launch(static_cast<bool*>(nullptr));
  }
  EMBER_DISPATCH_NUMERIC(x.dtype(), "binary op", [&] { launch(static_cast<scalar_t*>(nullptr)); });
}
template <class F, bool kBinary>
auto device_functor() {
  if constexpr (kFloatMath<F> && kBinary) {
    return BinaryViaDouble<F>{};
  } else if constexpr (kFloatMath<F>) {
    return UnaryViaDouble<F>{};
  } else {
    return F{};
  }
}
}  // namespace

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
  KernelContext ctx({&dst, &src}, "copy");
  const int64_t n = dst.numel();
  if (n == 0) return;
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    EMBER_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(),
                                     static_cast<size_t>(n) * src.element_size(),
                                     cudaMemcpyDeviceToDevice, ctx.stream));
    return;
  }
  const Tensor* ts[2] = {&dst, &src};
  const auto ix = make_indexer(ts, "copy");
  EMBER_CUDA_DISPATCH_ALL(dst.dtype(), "copy", [&] {
    using To = scalar_t;
    EMBER_CUDA_DISPATCH_ALL(src.dtype(), "copy", [&] {
      using From = scalar_t;
      copy_kernel<To, From><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
          ptr<To>(dst), ptr<const From>(src), ix, n);
      EMBER_CUDA_CHECK_LAUNCH("copy_kernel");
    });
  });
}

void CudaBackend::fill(const Tensor& dst, double value) {
  KernelContext ctx({&dst}, "fill");
  const int64_t n = dst.numel();
  if (n == 0) return;
  const Tensor* ts[1] = {&dst};
  const auto ix = make_indexer(ts, "fill");
  EMBER_CUDA_DISPATCH_ALL(dst.dtype(), "fill", [&] {
    const scalar_t v = host_value<scalar_t>(value);
    fill_kernel<scalar_t>
        <<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(ptr<scalar_t>(dst), v, ix, n);
    EMBER_CUDA_CHECK_LAUNCH("fill_kernel");
  });
}

void CudaBackend::arange(const Tensor& out, double start, double step) {
  KernelContext ctx({&out}, "arange");
  const int64_t n = out.numel();
  if (n == 0) return;
  EMBER_CHECK(out.is_contiguous(), "arange on CUDA: expected a contiguous output");
  EMBER_DISPATCH_NUMERIC(out.dtype(), "arange", [&] {
    arange_kernel<scalar_t><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        ptr<scalar_t>(out), start, step, n);
    EMBER_CUDA_CHECK_LAUNCH("arange_kernel");
  });
}

void CudaBackend::unary(math::UnaryOp op, const Tensor& x, const Tensor& out, double a, double b) {
  KernelContext ctx({&out, &x}, "unary op");
  if (out.numel() == 0) return;
  switch (op) {
#define EMBER_CASE(name)    \
  case math::UnaryOp::name: \
    return unary_dispatch(device_functor<math::name, false>(), x, out, a, b, ctx.stream);
    EMBER_UNARY_OPS(EMBER_CASE)
    EMBER_UNARY_BOOL_OPS(EMBER_CASE)
#undef EMBER_CASE
  }
}

void CudaBackend::binary(math::BinaryOp op, const Tensor& x, const Tensor& y, const Tensor& out,
                         double alpha) {
  KernelContext ctx({&out, &x, &y}, "binary op");
  if (out.numel() == 0) return;
  switch (op) {
#define EMBER_CASE(name)     \
  case math::BinaryOp::name: \
    return binary_dispatch(device_functor<math::name, true>(), x, y, out, alpha, ctx.stream);
    EMBER_BINARY_OPS(EMBER_CASE)
    EMBER_BINARY_BOOL_OPS(EMBER_CASE)
#undef EMBER_CASE
  }
}

void CudaBackend::where(const Tensor& cond, const Tensor& x, const Tensor& y, const Tensor& out) {
  KernelContext ctx({&out, &cond, &x, &y}, "where");
  const int64_t n = out.numel();
  if (n == 0) return;
  const Tensor* ts[4] = {&out, &cond, &x, &y};
  const auto ix = make_indexer(ts, "where");
  EMBER_CUDA_DISPATCH_ALL(out.dtype(), "where", [&] {
    where_kernel<scalar_t><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        ptr<scalar_t>(out), ptr<const bool>(cond), ptr<const scalar_t>(x), ptr<const scalar_t>(y),
        ix, n);
    EMBER_CUDA_CHECK_LAUNCH("where_kernel");
  });
}

}  // namespace ember::cuda
