// CPU GEMM through OpenBLAS (cblas) and oneDNN (large float32 products), batched over a leading dim
// with arbitrary batch strides.
#include <cblas.h>
#include <immintrin.h>

#include <cstring>

#include "backend/cpu/cpu_backend.h"
#include "backend/cpu/dnnl_gemm.h"
#include "backend/cpu/parallel.h"
#include "ember/core/matmul_precision.h"

namespace ember::cpu {

namespace {
// How a (rows, cols) matrix view is handed to row-major BLAS: transposed or not, and its ld.
struct BlasMat {
  CBLAS_TRANSPOSE trans;
  int64_t ld;
};

BlasMat blas_layout(const Tensor& m) {
  const int64_t rows = m.size(-2), cols = m.size(-1);
  const int64_t rs = m.stride(-2), cs = m.stride(-1);
  if ((cs == 1 || cols == 1) && (rs >= std::max<int64_t>(1, cols) || rows == 1))
    return {CblasNoTrans, rows == 1 ? std::max<int64_t>(1, cols) : rs};
  if ((rs == 1 || rows == 1) && (cs >= std::max<int64_t>(1, rows) || cols == 1))
    return {CblasTrans, cols == 1 ? std::max<int64_t>(1, rows) : cs};
  EMBER_THROW(Error, "gemm: operand of shape ", m.shape_str(), " with strides ",
              detail::shape_to_string(m.strides()), " is not BLAS-compatible");
}
// Multiply-adds from which a float32 product goes to oneDNN, in float32 or (at "medium") with
// bfloat16 operands; smaller ones stay with OpenBLAS (Note [GEMM libraries]).
constexpr int64_t kDnnlMinWork = int64_t{1} << 25;
constexpr int64_t kBf16MinWork = int64_t{1} << 22;

void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, double alpha,
               const float* a, int lda, const float* b, int ldb, double beta, float* c, int ldc) {
  const int64_t work = int64_t{M} * N * K;
  const bool bf16 = float32_matmul_precision() == MatmulPrecision::Medium && bf16_gemm_available();
  if (work >= (bf16 ? kBf16MinWork : kDnnlMinWork) &&
      dnnl_gemm(bf16, ta == CblasTrans, tb == CblasTrans, M, N, K, static_cast<float>(alpha), a,
                lda, b, ldb, static_cast<float>(beta), c, ldc))
    return;
  cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, static_cast<float>(alpha), a, lda, b, ldb,
              static_cast<float>(beta), c, ldc);
}
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, double alpha,
               const double* a, int lda, const double* b, int ldb, double beta, double* c,
               int ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}
void blas_gemv(CBLAS_TRANSPOSE t, int rows, int cols, double alpha, const float* a, int lda,
               const float* x, int incx, double beta, float* y) {
  cblas_sgemv(CblasRowMajor, t, rows, cols, static_cast<float>(alpha), a, lda, x, incx,
              static_cast<float>(beta), y, 1);
}
void blas_gemv(CBLAS_TRANSPOSE t, int rows, int cols, double alpha, const double* a, int lda,
               const double* x, int incx, double beta, double* y) {
  cblas_dgemv(CblasRowMajor, t, rows, cols, alpha, a, lda, x, incx, beta, y, 1);
}

// Note [Batch-1 linear]
// One input row through a layer, y = W x + b, is a matrix-vector product bound by reading W: the
// MLP's first layer is 784x256 floats (0.8 MB), about one core's L2. This kernel walks four rows
// of W per pass over x (one load of x feeds four FMAs); layers above kGemvGrain weights split their
// rows statically across the cores, so each core keeps its own share of W in its L2 from call to
// call. Measured on the 784-256-128-10 MLP here (rows split then): 6.7 us for the three layers
// against 7.4-8.3 us with OpenBLAS's sgemv; with the larger grain below it stays on one core.
#if defined(__AVX2__) && defined(__FMA__)
float hsum(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_hadd_ps(h, h);
  h = _mm_hadd_ps(h, h);
  return _mm_cvtss_f32(h);
}
#endif

// y[o] = dot(w[o, :], x) (+ bias[o]) for o in [o0, o1); w: rows of length K.
void gemv_rows(const float* w, const float* x, const float* bias, float* y, int64_t o0, int64_t o1,
               int64_t K) {
  int64_t o = o0;
#if defined(__AVX2__) && defined(__FMA__)
  for (; o + 4 <= o1; o += 4) {
    const float* w0 = w + o * K;
    const float *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
      const __m256 xv = _mm256_loadu_ps(x + k);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k), xv, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w1 + k), xv, a1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w2 + k), xv, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w3 + k), xv, a3);
    }
    float r[4] = {hsum(a0), hsum(a1), hsum(a2), hsum(a3)};
    for (; k < K; ++k) {
      r[0] += w0[k] * x[k];
      r[1] += w1[k] * x[k];
      r[2] += w2[k] * x[k];
      r[3] += w3[k] * x[k];
    }
    for (int j = 0; j < 4; ++j) y[o + j] = r[j] + (bias ? bias[o + j] : 0.f);
  }
#endif
  for (; o < o1; ++o) {
    float acc = 0;
    for (int64_t k = 0; k < K; ++k) acc += w[o * K + k] * x[k];
    y[o] = acc + (bias ? bias[o] : 0.f);
  }
}

// Elements of W up to which a batch-1 layer stays on one core. Waking the second thread (passive
// OpenMP waits) costs more than it saves on layers whose weights fit a core's L2: measured with
// `gpt_bench gen austen ember` (256-wide layers of 65k-262k weights), 16384 gave 450-490
// tokens/s, 65536 585-680 and 2^19 (every austen layer on one core) 740-890. GPT-2-small's
// 768-wide layers (590k and more) still split.
constexpr int64_t kGemvGrain = int64_t{1} << 19;

template <class T>
void linear_kernel(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& out) {
  const int64_t N = x.size(0), K = x.size(1), M = w.size(0), ldx = N == 1 ? K : x.stride(0);
  const T* px = x.data_ptr<T>();
  const T* pw = w.data_ptr<T>();
  const T* pb = bias.defined() ? bias.data_ptr<T>() : nullptr;
  T* po = out.data_ptr<T>();
  if constexpr (std::is_same_v<T, float>) {
    if (N == 1) {  // Note [Batch-1 linear]
      const int64_t blocks = (M + 3) / 4, grain = std::max<int64_t>(1, kGemvGrain / (4 * K));
      parallel_for(0, blocks, grain, [&](int64_t b0, int64_t b1) {
        gemv_rows(pw, px, pb, po, 4 * b0, std::min(M, 4 * b1), K);
      });
      return;
    }
  }
  // out = bias rows, then out += x w^T in one GEMM (beta = 1).
  if (pb)
    for (int64_t n = 0; n < N; ++n) std::memcpy(po + n * M, pb, M * sizeof(T));
  blas_gemm(CblasNoTrans, CblasTrans, static_cast<int>(N), static_cast<int>(M), static_cast<int>(K),
            1.0, px, static_cast<int>(ldx), pw, static_cast<int>(K), pb ? 1.0 : 0.0, po,
            static_cast<int>(M));
}

}  // namespace

void CpuBackend::linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& out) {
  if (out.numel() == 0) return;
  EMBER_DISPATCH_FLOATING(out.dtype(), "linear", [&] { linear_kernel<scalar_t>(x, w, bias, out); });
}

void CpuBackend::gemm(const Tensor& a, const Tensor& b, const Tensor& out, double alpha,
                      double beta) {
  const int64_t batch = out.size(0), M = out.size(1), N = out.size(2), K = a.size(2);
  const BlasMat la = blas_layout(a), lb = blas_layout(b);
  const int64_t sa = a.stride(0), sb = b.stride(0), so = out.stride(0);
  if (M == 0 || N == 0) return;
  EMBER_DISPATCH_FLOATING(out.dtype(), "matmul", [&] {
    const scalar_t* pa = a.data_ptr<scalar_t>();
    const scalar_t* pb = b.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    for (int64_t i = 0; i < batch; ++i) {
      if (M == 1) {
        // A row vector times a matrix (batch-1 inference): y = b^T x as a GEMV, no GEMM packing.
        // b is (K, N); as a row-major matrix it is (K, N) with ldb (NoTrans) or its transpose.
        const CBLAS_TRANSPOSE t = lb.trans == CblasNoTrans ? CblasTrans : CblasNoTrans;
        const int rows = static_cast<int>(lb.trans == CblasNoTrans ? K : N);
        const int cols = static_cast<int>(lb.trans == CblasNoTrans ? N : K);
        const int64_t incx = la.trans == CblasNoTrans ? 1 : la.ld;
        blas_gemv(t, rows, cols, alpha, pb + i * sb, static_cast<int>(lb.ld), pa + i * sa,
                  static_cast<int>(incx), beta, po + i * so);
        continue;
      }
      blas_gemm(la.trans, lb.trans, static_cast<int>(M), static_cast<int>(N), static_cast<int>(K),
                alpha, pa + i * sa, static_cast<int>(la.ld), pb + i * sb, static_cast<int>(lb.ld),
                beta, po + i * so, static_cast<int>(N));
    }
  });
}

}  // namespace ember::cpu
