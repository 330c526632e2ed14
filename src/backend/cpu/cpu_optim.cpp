// CPU fused optimizer kernels: one pass of Adam/AdamW over a parameter.
#include <cmath>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/parallel.h"

namespace ember::cpu {

void CpuBackend::adam_step(const Tensor& param, const Tensor& grad, const Tensor& m,
                           const Tensor& v, const Tensor& vmax, double lr, double beta1,
                           double beta2, double eps, double weight_decay, bool decoupled,
                           int64_t step, bool amsgrad, bool maximize) {
  EMBER_DISPATCH_FLOATING(param.dtype(), "adam_step", [&] {
    using T = scalar_t;
    T* p = param.data_ptr<T>();
    const T* g = grad.data_ptr<T>();
    T* pm = m.data_ptr<T>();
    T* pv = v.data_ptr<T>();
    T* pvmax = amsgrad ? vmax.data_ptr<T>() : nullptr;
    const double bc1 = 1 - std::pow(beta1, static_cast<double>(step));
    const double bc2 = 1 - std::pow(beta2, static_cast<double>(step));
    const T step_size = static_cast<T>(lr / bc1);
    const T inv_sqrt_bc2 = static_cast<T>(1 / std::sqrt(bc2));
    const T b1 = static_cast<T>(beta1), b2 = static_cast<T>(beta2);
    const T wd = static_cast<T>(weight_decay), decay = static_cast<T>(1 - lr * weight_decay);
    const T e = static_cast<T>(eps);
    parallel_for(0, param.numel(), kGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        T gi = maximize ? -g[i] : g[i];
        if (weight_decay != 0) {
          if (decoupled) p[i] *= decay; else gi += wd * p[i];
        }
        pm[i] = b1 * pm[i] + (T(1) - b1) * gi;
        pv[i] = b2 * pv[i] + (T(1) - b2) * gi * gi;
        T vhat = pv[i];
        if (pvmax) {
          pvmax[i] = pvmax[i] > pv[i] ? pvmax[i] : pv[i];
          vhat = pvmax[i];
        }
        p[i] -= step_size * pm[i] / (std::sqrt(vhat) * inv_sqrt_bc2 + e);
      }
    });
  });
}

}  // namespace ember::cpu
