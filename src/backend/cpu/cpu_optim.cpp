// CPU fused optimizer kernels: one pass of Adam/AdamW, SGD, RMSprop or Adagrad over a parameter.
#include <cmath>
#include <type_traits>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/parallel.h"

// Note [Fused optimizer rounding]: the optimizer kernels apply PyTorch's single-tensor updates
// (torch/optim/*.py, 1.13) element by element with the roundings of ATen's CPU kernels: one
// rounding per ATen op, where `add_(y, alpha)` and `addcmul_` are one fused multiply-add (as in
// ATen's vectorized kernels) and mul_, sqrt, division, addcdiv_ and adding a scalar round on
// their own. Contraction is off in this file so that the compiler fuses nothing else. Float32
// updates then agree with torch.optim bit for bit on x86-64 with FMA (the parity tests check it).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace ember::cpu {

namespace {

/// a * b + c, rounded once where the CPU has FMA (ATen's add with alpha and addcmul).
template <class T>
inline T madd(T a, T b, T c) {
#ifdef __FMA__
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

/// Calls f(std::true_type) or f(std::false_type): options that decide which buffers a kernel
/// touches become compile-time constants, so the inner loops are branch-free and vectorise.
template <class F>
void with_flag(bool flag, const F& f) {
  if (flag) {
    f(std::true_type{});
  } else {
    f(std::false_type{});
  }
}

// The inner loops take their coefficients by value (locals, not captured references that the
// stores might alias), so the compiler can vectorise them.

template <class T>
struct AdamCoefs {
  T sign, wd, decay, b1, b2, one_minus_b1, one_minus_b2, neg_step_size, sqrt_bc2, eps;
  bool coupled_wd, decoupled_wd;
};

template <bool kAmsgrad, class T>
void adam_loop(int64_t i0, int64_t i1, T* p, const T* g, T* m, T* v, T* vmax, AdamCoefs<T> c) {
  for (int64_t i = i0; i < i1; ++i) {
    T gi = g[i] * c.sign;
    const T pi = c.decoupled_wd ? p[i] * c.decay : p[i];
    gi = c.coupled_wd ? madd(pi, c.wd, gi) : gi;
    const T mi = madd(gi, c.one_minus_b1, m[i] * c.b1);
    const T vi = madd(c.one_minus_b2 * gi, gi, v[i] * c.b2);
    m[i] = mi;
    v[i] = vi;
    T vhat = vi;
    if constexpr (kAmsgrad) {
      vhat = vmax[i] > vi ? vmax[i] : vi;
      vmax[i] = vhat;
    }
    p[i] = pi + c.neg_step_size * mi / (std::sqrt(vhat) / c.sqrt_bc2 + c.eps);
  }
}

template <class T>
struct SgdCoefs {
  T sign, wd, momentum, keep, neg_lr;
  bool has_wd, nesterov;
};

template <bool kMomentum, bool kInitBuf, class T>
void sgd_loop(int64_t i0, int64_t i1, T* p, const T* g, T* buf, SgdCoefs<T> c) {
  for (int64_t i = i0; i < i1; ++i) {
    T d = g[i] * c.sign;
    d = c.has_wd ? madd(p[i], c.wd, d) : d;
    if constexpr (kMomentum) {
      T b = d;  // the first step copies the gradient
      if constexpr (!kInitBuf) b = madd(d, c.keep, buf[i] * c.momentum);
      buf[i] = b;
      d = c.nesterov ? madd(b, c.momentum, d) : b;
    }
    p[i] = madd(d, c.neg_lr, p[i]);
  }
}

template <class T>
struct RmspropCoefs {
  T sign, wd, alpha, one_minus_alpha, eps, momentum, neg_lr;
  bool has_wd;
};

template <bool kCentered, bool kMomentum, class T>
void rmsprop_loop(int64_t i0, int64_t i1, T* p, const T* g, T* sq, T* ga, T* buf,
                  RmspropCoefs<T> c) {
  for (int64_t i = i0; i < i1; ++i) {
    T gi = g[i] * c.sign;
    gi = c.has_wd ? madd(p[i], c.wd, gi) : gi;
    const T si = madd(c.one_minus_alpha * gi, gi, sq[i] * c.alpha);
    sq[i] = si;
    T avg;
    if constexpr (kCentered) {
      const T gai = madd(gi, c.one_minus_alpha, ga[i] * c.alpha);
      ga[i] = gai;
      avg = std::sqrt(madd(-gai, gai, si)) + c.eps;
    } else {
      avg = std::sqrt(si) + c.eps;
    }
    if constexpr (kMomentum) {
      const T b = buf[i] * c.momentum + gi / avg;
      buf[i] = b;
      p[i] = madd(b, c.neg_lr, p[i]);
    } else {
      p[i] = p[i] + c.neg_lr * gi / avg;
    }
  }
}

template <class T>
struct AdagradCoefs {
  T sign, wd, neg_clr, eps;
  bool has_wd;
};

template <class T>
void adagrad_loop(int64_t i0, int64_t i1, T* p, const T* g, T* sum, AdagradCoefs<T> c) {
  for (int64_t i = i0; i < i1; ++i) {
    T gi = g[i] * c.sign;
    gi = c.has_wd ? madd(p[i], c.wd, gi) : gi;
    const T si = madd(gi, gi, sum[i]);
    sum[i] = si;
    p[i] = p[i] + c.neg_clr * gi / (std::sqrt(si) + c.eps);
  }
}

}  // namespace

void CpuBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& m,
                           const Tensor& v, const Tensor& vmax, double lr, double beta1,
                           double beta2, double eps, double weight_decay, bool decoupled,
                           int64_t step, bool amsgrad, bool maximize) {
  EMBER_DISPATCH_FLOATING(param.dtype(), "adam_step", [&] {
    using T = scalar_t;
    T* const p = param.data_ptr<T>();
    const T* const g = grad.data_ptr<T>();
    T* const pm = m.data_ptr<T>();
    T* const pv = v.data_ptr<T>();
    T* const pvmax = amsgrad ? vmax.data_ptr<T>() : nullptr;
    const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
    const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
    // 1 - beta in double, then rounded, as torch.optim does: (T(1) - b2) in float32 is off by
    // 4.7e-5 relative for beta2 = 0.999 (0.999f is not 0.999), which biased every update.
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
                         .decoupled_wd = weight_decay != 0 && decoupled};
    with_flag(amsgrad, [&](auto ams) {
      parallel_for(0, param.numel(), kGrain, [&](int64_t i0, int64_t i1) {
        adam_loop<decltype(ams)::value>(i0, i1, p, g, pm, pv, pvmax, c);
      });
    });
  });
}

void CpuBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr,
                          double momentum, double dampening, double weight_decay, bool nesterov,
                          bool maximize, bool init_buf) {
  EMBER_DISPATCH_FLOATING(param.dtype(), "sgd_step", [&] {
    using T = scalar_t;
    T* const p = param.data_ptr<T>();
    const T* const g = grad.data_ptr<T>();
    T* const pb = momentum != 0 ? buf.data_ptr<T>() : nullptr;
    const SgdCoefs<T> c{.sign = maximize ? T(-1) : T(1),
                        .wd = static_cast<T>(weight_decay),
                        .momentum = static_cast<T>(momentum),
                        .keep = static_cast<T>(1 - dampening),
                        .neg_lr = static_cast<T>(-lr),
                        .has_wd = weight_decay != 0,
                        .nesterov = nesterov};
    with_flag(pb != nullptr, [&](auto has_momentum) {
      with_flag(init_buf, [&](auto init) {
        parallel_for(0, param.numel(), kGrain, [&](int64_t i0, int64_t i1) {
          sgd_loop<decltype(has_momentum)::value, decltype(init)::value>(i0, i1, p, g, pb, c);
        });
      });
    });
  });
}

void CpuBackend::rmsprop_step(const Tensor& param, const Tensor& grad, const Tensor& square_avg,
                              const Tensor& grad_avg, const Tensor& momentum_buf, double lr,
                              double alpha, double eps, double weight_decay, double momentum,
                              bool centered, bool maximize) {
  EMBER_DISPATCH_FLOATING(param.dtype(), "rmsprop_step", [&] {
    using T = scalar_t;
    T* const p = param.data_ptr<T>();
    const T* const g = grad.data_ptr<T>();
    T* const sq = square_avg.data_ptr<T>();
    T* const ga = centered ? grad_avg.data_ptr<T>() : nullptr;
    T* const pb = momentum > 0 ? momentum_buf.data_ptr<T>() : nullptr;
    const RmspropCoefs<T> c{.sign = maximize ? T(-1) : T(1),
                            .wd = static_cast<T>(weight_decay),
                            .alpha = static_cast<T>(alpha),
                            .one_minus_alpha = static_cast<T>(1 - alpha),
                            .eps = static_cast<T>(eps),
                            .momentum = static_cast<T>(momentum),
                            .neg_lr = static_cast<T>(-lr),
                            .has_wd = weight_decay != 0};
    with_flag(ga != nullptr, [&](auto is_centered) {
      with_flag(pb != nullptr, [&](auto has_momentum) {
        parallel_for(0, param.numel(), kGrain, [&](int64_t i0, int64_t i1) {
          rmsprop_loop<decltype(is_centered)::value, decltype(has_momentum)::value>(i0, i1, p, g,
                                                                                    sq, ga, pb, c);
        });
      });
    });
  });
}

void CpuBackend::adagrad_step(const Tensor& param, const Tensor& grad, const Tensor& sum,
                              double clr, double weight_decay, double eps, bool maximize) {
  EMBER_DISPATCH_FLOATING(param.dtype(), "adagrad_step", [&] {
    using T = scalar_t;
    T* const p = param.data_ptr<T>();
    const T* const g = grad.data_ptr<T>();
    T* const s = sum.data_ptr<T>();
    const AdagradCoefs<T> c{.sign = maximize ? T(-1) : T(1),
                            .wd = static_cast<T>(weight_decay),
                            .neg_clr = static_cast<T>(-clr),
                            .eps = static_cast<T>(eps),
                            .has_wd = weight_decay != 0};
    parallel_for(0, param.numel(), kGrain,
                 [&](int64_t i0, int64_t i1) { adagrad_loop(i0, i1, p, g, s, c); });
  });
}

}  // namespace ember::cpu
