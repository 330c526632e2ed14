// CPU LAPACK wrappers used by the linalg ops.
#pragma once

namespace ember::cpu {

/// Solves min ||a x - b|| in place: a (m, n) row-major (overwritten), b (m, k) column-major,
/// overwritten with x in its first n rows.
void lstsq_f64(int m, int n, int k, double* a_row_major, double* b_col_major);

}  // namespace ember::cpu
