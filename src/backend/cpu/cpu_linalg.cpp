// CPU GEMM through OpenBLAS (cblas), batched over a leading dim with arbitrary batch strides.
#include <cblas.h>

#include "backend/cpu/cpu_backend.h"

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
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, double alpha,
               const float* a, int lda, const float* b, int ldb, double beta, float* c, int ldc) {
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
}  // namespace

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
