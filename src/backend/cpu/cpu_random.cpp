// CPU random and fill kernels: uniform, normal, arange, fused dropout. Sequential, so a seed
// gives the same numbers for any thread count.
#include "backend/cpu/cpu_backend.h"

namespace ember::cpu {

void CpuBackend::uniform(const Tensor& out, double low, double high, Generator& gen) {
  EMBER_DISPATCH_FLOATING(out.dtype(), "uniform_", [&] {
    scalar_t* p = out.data_ptr<scalar_t>();
    const double scale = high - low;
    for (int64_t i = 0; i < out.numel(); ++i) {
      const double u = std::is_same_v<scalar_t, float> ? gen.next_float() : gen.next_double();
      p[i] = static_cast<scalar_t>(low + scale * u);
    }
  });
}

void CpuBackend::normal(const Tensor& out, double mean, double std, Generator& gen) {
  EMBER_DISPATCH_FLOATING(out.dtype(), "normal_", [&] {
    scalar_t* p = out.data_ptr<scalar_t>();
    for (int64_t i = 0; i < out.numel(); ++i)
      p[i] = static_cast<scalar_t>(mean + std * gen.next_normal());
  });
}

void CpuBackend::arange(const Tensor& out, double start, double step) {
  EMBER_DISPATCH_NUMERIC(out.dtype(), "arange", [&] {
    scalar_t* p = out.data_ptr<scalar_t>();
    for (int64_t i = 0; i < out.numel(); ++i)
      p[i] = static_cast<scalar_t>(start + static_cast<double>(i) * step);
  });
}

void CpuBackend::dropout(const Tensor& x, double p, Generator& gen, const Tensor& out,
                         const Tensor& mask) {
  EMBER_DISPATCH_FLOATING(x.dtype(), "dropout", [&] {
    const scalar_t* px = x.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    scalar_t* pm = mask.data_ptr<scalar_t>();
    const scalar_t scale = static_cast<scalar_t>(1.0 / (1.0 - p));
    for (int64_t i = 0; i < x.numel(); ++i) {
      pm[i] = gen.next_double() >= p ? scale : scalar_t(0);
      po[i] = px[i] * pm[i];
    }
  });
}

}  // namespace ember::cpu
