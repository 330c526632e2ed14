// CUDA fused optimizer kernels: one pass of Adam/AdamW, SGD, RMSprop or Adagrad (CPU formulas).
#include <cmath>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_common.cuh"

namespace ember::cuda {

namespace {
// The same update order and fused multiply-adds as the CPU kernels (Note [Fused optimizer
// rounding] in cpu_optim.cpp); device fma() is one rounding like std::fma there.
// Separately rounded operations: nvcc would otherwise contract a * b + c into one fma.
__device__ inline float mul_rn(float a, float b) {
  return __fmul_rn(a, b);
}
__device__ inline double mul_rn(double a, double b) {
  return __dmul_rn(a, b);
}
__device__ inline float add_rn(float a, float b) {
  return __fadd_rn(a, b);
}
__device__ inline double add_rn(double a, double b) {
  return __dadd_rn(a, b);
}
__device__ inline float div_rn(float a, float b) {
  return __fdiv_rn(a, b);
}
__device__ inline double div_rn(double a, double b) {
  return __ddiv_rn(a, b);
}

template <class T>
struct AdamCoefs {
  T sign, wd, decay, b1, b2, one_minus_b1, one_minus_b2, neg_step_size, sqrt_bc2, eps;
  bool coupled_wd, decoupled_wd, amsgrad;
};

template <class T>
__global__ void adam_kernel(T* p, const T* g, T* m, T* v, T* vmax, int64_t n, AdamCoefs<T> c) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    T gi = mul_rn(g[i], c.sign);
    const T pi = c.decoupled_wd ? mul_rn(p[i], c.decay) : p[i];
    gi = c.coupled_wd ? fma(pi, c.wd, gi) : gi;
    const T mi = fma(gi, c.one_minus_b1, mul_rn(m[i], c.b1));
    const T vi = fma(mul_rn(c.one_minus_b2, gi), gi, mul_rn(v[i], c.b2));
    m[i] = mi;
    v[i] = vi;
    T vhat = vi;
    if (c.amsgrad) {
      vhat = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = vhat;
    }
    const T denom = add_rn(div_rn(sqrt(vhat), c.sqrt_bc2), c.eps);
    p[i] = add_rn(pi, div_rn(mul_rn(c.neg_step_size, mi), denom));
  }
}

template <class T>
struct SgdCoefs {
  T sign, wd, momentum, keep, neg_lr;
  bool has_wd, nesterov, has_momentum, init_buf;
};

template <class T>
__global__ void sgd_kernel(T* p, const T* g, T* buf, int64_t n, SgdCoefs<T> c) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    T d = mul_rn(g[i], c.sign);
    d = c.has_wd ? fma(p[i], c.wd, d) : d;
    if (c.has_momentum) {
      const T b = c.init_buf ? d : fma(d, c.keep, mul_rn(buf[i], c.momentum));
      buf[i] = b;
      d = c.nesterov ? fma(b, c.momentum, d) : b;
    }
    p[i] = fma(d, c.neg_lr, p[i]);
  }
}
template <class T>
struct RmspropCoefs {
  T sign, wd, alpha, one_minus_alpha, eps, momentum, neg_lr;
  bool has_wd, centered, has_momentum;
};

template <class T>
__global__ void rmsprop_kernel(T* p, const T* g, T* sq, T* ga, T* buf, int64_t n,
                               RmspropCoefs<T> c) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    T gi = mul_rn(g[i], c.sign);
    gi = c.has_wd ? fma(p[i], c.wd, gi) : gi;
    const T si = fma(mul_rn(c.one_minus_alpha, gi), gi, mul_rn(sq[i], c.alpha));
    sq[i] = si;
    T avg;
    if (c.centered) {
      const T gai = fma(gi, c.one_minus_alpha, mul_rn(ga[i], c.alpha));
      ga[i] = gai;
      avg = add_rn(sqrt(fma(-gai, gai, si)), c.eps);
    } else {
      avg = add_rn(sqrt(si), c.eps);
    }
    if (c.has_momentum) {
      const T b = add_rn(mul_rn(buf[i], c.momentum), div_rn(gi, avg));
      buf[i] = b;
      p[i] = fma(b, c.neg_lr, p[i]);
    } else {
      p[i] = add_rn(p[i], div_rn(mul_rn(c.neg_lr, gi), avg));
    }
  }
}

template <class T>
struct AdagradCoefs {
  T sign, wd, neg_clr, eps;
  bool has_wd;
};

template <class T>
__global__ void adagrad_kernel(T* p, const T* g, T* sum, int64_t n, AdagradCoefs<T> c) {
  EMBER_CUDA_KERNEL_LOOP(i, n) {
    T gi = mul_rn(g[i], c.sign);
    gi = c.has_wd ? fma(p[i], c.wd, gi) : gi;
    const T si = fma(gi, gi, sum[i]);
    sum[i] = si;
    p[i] = add_rn(p[i], div_rn(mul_rn(c.neg_clr, gi), add_rn(sqrt(si), c.eps)));
  }
}
}  // namespace

void CudaBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& m,
                            const Tensor& v, const Tensor& vmax, double lr, double beta1,
                            double beta2, double eps, double weight_decay, bool decoupled,
                            int64_t step, bool amsgrad, bool maximize) {
  KernelContext ctx({&param, &grad, &m, &v, &vmax}, "adam_step");
  const int64_t n = param.numel();
  if (n == 0) return;
  EMBER_DISPATCH_FLOATING(param.dtype(), "adam_step", [&] {
    using T = scalar_t;
    const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
    const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
    const AdamCoefs<T> c{.sign = maximize ? T(-1) : T(1),
                         .wd = static_cast<T>(weight_decay),
                         .decay = static_cast<T>(1 - lr * weight_decay),
                         .b1 = static_cast<T>(beta1),
                         .b2 = static_cast<T>(beta2),
                         .one_minus_b1 = static_cast<T>(1 - beta1),
                         .one_minus_b2 = static_cast<T>(1 - beta2),
                         .neg_step_size = static_cast<T>(-(lr / bc1)),
                         .sqrt_bc2 = static_cast<T>(std::sqrt(bc2)),
                         .eps = static_cast<T>(eps),
                         .coupled_wd = weight_decay != 0 && !decoupled,
                         .decoupled_wd = weight_decay != 0 && decoupled,
                         .amsgrad = amsgrad};
    adam_kernel<T><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        static_cast<T*>(param.raw_data()), static_cast<const T*>(grad.raw_data()),
        static_cast<T*>(m.raw_data()), static_cast<T*>(v.raw_data()),
        amsgrad ? static_cast<T*>(vmax.raw_data()) : nullptr, n, c);
    EMBER_CUDA_CHECK_LAUNCH("adam_kernel");
  });
}

void CudaBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr,
                           double momentum, double dampening, double weight_decay, bool nesterov,
                           bool maximize, bool init_buf) {
  KernelContext ctx({&param, &grad, &buf}, "sgd_step");
  const int64_t n = param.numel();
  if (n == 0) return;
  EMBER_DISPATCH_FLOATING(param.dtype(), "sgd_step", [&] {
    using T = scalar_t;
    const SgdCoefs<T> c{.sign = maximize ? T(-1) : T(1),
                        .wd = static_cast<T>(weight_decay),
                        .momentum = static_cast<T>(momentum),
                        .keep = static_cast<T>(1 - dampening),
                        .neg_lr = static_cast<T>(-lr),
                        .has_wd = weight_decay != 0,
                        .nesterov = nesterov,
                        .has_momentum = momentum != 0,
                        .init_buf = init_buf};
    sgd_kernel<T><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        static_cast<T*>(param.raw_data()), static_cast<const T*>(grad.raw_data()),
        momentum != 0 ? static_cast<T*>(buf.raw_data()) : nullptr, n, c);
    EMBER_CUDA_CHECK_LAUNCH("sgd_kernel");
  });
}

void CudaBackend::rmsprop_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                               const Tensor& grad_avg, const Tensor& momentum_buf, double lr,
                               double alpha, double eps, double weight_decay, double momentum,
                               bool centered, bool maximize) {
  KernelContext ctx({&param, &grad, &square_avg, &grad_avg, &momentum_buf}, "rmsprop_step");
  const int64_t n = param.numel();
  if (n == 0) return;
  EMBER_DISPATCH_FLOATING(param.dtype(), "rmsprop_step", [&] {
    using T = scalar_t;
    const RmspropCoefs<T> c{.sign = maximize ? T(-1) : T(1),
                            .wd = static_cast<T>(weight_decay),
                            .alpha = static_cast<T>(alpha),
                            .one_minus_alpha = static_cast<T>(1 - alpha),
                            .eps = static_cast<T>(eps),
                            .momentum = static_cast<T>(momentum),
                            .neg_lr = static_cast<T>(-lr),
                            .has_wd = weight_decay != 0,
                            .centered = centered,
                            .has_momentum = momentum > 0};
    rmsprop_kernel<T><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        static_cast<T*>(param.raw_data()), static_cast<const T*>(grad.raw_data()),
        static_cast<T*>(square_avg.raw_data()),
        centered ? static_cast<T*>(grad_avg.raw_data()) : nullptr,
        momentum > 0 ? static_cast<T*>(momentum_buf.raw_data()) : nullptr, n, c);
    EMBER_CUDA_CHECK_LAUNCH("rmsprop_kernel");
  });
}

void CudaBackend::adagrad_step(const Tensor& param, const Tensor& grad, const Tensor& sum,
                               double clr, double weight_decay, double eps, bool maximize) {
  KernelContext ctx({&param, &grad, &sum}, "adagrad_step");
  const int64_t n = param.numel();
  if (n == 0) return;
  EMBER_DISPATCH_FLOATING(param.dtype(), "adagrad_step", [&] {
    using T = scalar_t;
    const AdagradCoefs<T> c{.sign = maximize ? T(-1) : T(1),
                            .wd = static_cast<T>(weight_decay),
                            .neg_clr = static_cast<T>(-clr),
                            .eps = static_cast<T>(eps),
                            .has_wd = weight_decay != 0};
    adagrad_kernel<T><<<detail::blocks_for(n), detail::kThreads, 0, ctx.stream>>>(
        static_cast<T*>(param.raw_data()), static_cast<const T*>(grad.raw_data()),
        static_cast<T*>(sum.raw_data()), n, c);
    EMBER_CUDA_CHECK_LAUNCH("adagrad_kernel");
  });
}

}  // namespace ember::cuda
