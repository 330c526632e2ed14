// CPU indexing kernels: gather, scatter_add, index_select, index_add, nonzero.
#include <cstring>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/parallel.h"

namespace ember::cpu {

namespace {
void check_index(int64_t i, int64_t n, const char* op) {
  EMBER_CHECK_INDEX(i >= 0 && i < n, op, ": index ", i, " is out of bounds for size ", n);
}
}  // namespace

void CpuBackend::gather(const Tensor& x, const Tensor& index, int64_t A, int64_t N, int64_t B,
                        const Tensor& out) {
  const int64_t K = B == 0 || A == 0 ? 0 : index.numel() / (A * B);
  const int64_t* pi = index.data_ptr<int64_t>();
  EMBER_DISPATCH_ALL(x.dtype(), "gather", [&] {
    const scalar_t* px = x.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    for (int64_t a = 0; a < A; ++a)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t b = 0; b < B; ++b) {
          const int64_t o = (a * K + k) * B + b;
          const int64_t i = pi[o];
          check_index(i, N, "gather");
          po[o] = px[(a * N + i) * B + b];
        }
  });
}

void CpuBackend::scatter_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t A,
                             int64_t N, int64_t B) {
  const int64_t K = B == 0 || A == 0 ? 0 : index.numel() / (A * B);
  const int64_t* pi = index.data_ptr<int64_t>();
  EMBER_DISPATCH_NUMERIC(out.dtype(), "scatter_add", [&] {
    const scalar_t* ps = src.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    for (int64_t a = 0; a < A; ++a)
      for (int64_t k = 0; k < K; ++k)
        for (int64_t b = 0; b < B; ++b) {
          const int64_t s = (a * K + k) * B + b;
          const int64_t i = pi[s];
          check_index(i, N, "scatter_add");
          po[(a * N + i) * B + b] += ps[s];
        }
  });
}

void CpuBackend::index_select(const Tensor& x, const Tensor& index, int64_t A, int64_t N,
                              int64_t B, const Tensor& out) {
  const int64_t K = index.numel();
  const int64_t* pi = index.data_ptr<int64_t>();
  for (int64_t k = 0; k < K; ++k) check_index(pi[k], N, "index_select");
  const size_t row = static_cast<size_t>(B) * x.element_size();
  const char* px = static_cast<const char*>(x.raw_data());
  char* po = static_cast<char*>(out.raw_data());
  parallel_for(0, A * K, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, B)),
               [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t a = j / K, k = j % K;
      std::memcpy(po + j * row, px + (a * N + pi[k]) * row, row);
    }
  });
}

void CpuBackend::index_add(const Tensor& out, const Tensor& index, const Tensor& src, int64_t A,
                           int64_t N, int64_t B) {
  const int64_t K = index.numel();
  const int64_t* pi = index.data_ptr<int64_t>();
  for (int64_t k = 0; k < K; ++k) check_index(pi[k], N, "index_add");
  EMBER_DISPATCH_NUMERIC(out.dtype(), "index_add", [&] {
    const scalar_t* ps = src.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    // Parallel over b only: rows of out may repeat in index.
    parallel_for(0, B, 256, [&](int64_t b0, int64_t b1) {
      for (int64_t a = 0; a < A; ++a)
        for (int64_t k = 0; k < K; ++k) {
          scalar_t* o = po + (a * N + pi[k]) * B;
          const scalar_t* s = ps + (a * K + k) * B;
          for (int64_t b = b0; b < b1; ++b) o[b] += s[b];
        }
    });
  });
}

Tensor CpuBackend::nonzero_flat(const Tensor& mask) {
  const bool* pm = mask.data_ptr<bool>();
  int64_t count = 0;
  for (int64_t i = 0; i < mask.numel(); ++i) count += pm[i];
  Tensor out = detail::make_tensor({count}, kInt64);
  int64_t* po = out.data_ptr<int64_t>();
  for (int64_t i = 0, j = 0; i < mask.numel(); ++i)
    if (pm[i]) po[j++] = i;
  return out;
}

}  // namespace ember::cpu
