// CPU LAPACK wrappers (OpenBLAS ships LAPACK): least squares through ?gels.
#include "backend/cpu/lapack.h"

#include <vector>

#include "ember/core/error.h"

extern "C" {
void dgels_(const char* trans, const int* m, const int* n, const int* nrhs, double* a,
            const int* lda, double* b, const int* ldb, double* work, const int* lwork, int* info);
}

namespace ember::cpu {

void lstsq_f64(int m, int n, int k, double* a_row_major, double* b_col_major) {
  // a (m, n) row-major is a^T (n, m) column-major; solving with trans = 'T' solves a x = b.
  const char trans = 'T';
  const int lda = n, ldb = m;
  int info = 0, lwork = -1;
  double query = 0;
  dgels_(&trans, &n, &m, &k, a_row_major, &lda, b_col_major, &ldb, &query, &lwork, &info);
  lwork = static_cast<int>(query);
  std::vector<double> work(static_cast<size_t>(std::max(lwork, 1)));
  dgels_(&trans, &n, &m, &k, a_row_major, &lda, b_col_major, &ldb, work.data(), &lwork, &info);
  EMBER_CHECK(info == 0, "lstsq: LAPACK dgels failed (info ", info,
              "); the matrix does not have full rank");
}

}  // namespace ember::cpu
