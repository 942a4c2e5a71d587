// The CPU's triangular product for a few rows: B[m, n] <- B op(L) for a lower-triangular n x n
// row-major L (Backend::trmm_lower_right). Each row of L is read from memory once for all m rows
// of B, where m calls of trmv read it m times and BLAS' trmm first packs all of L (at n 7168 its
// packing costs more than eight rows' products). Each row of the result is summed in an order of
// its own, the same for any m: a row gets the same bits alone or among others.
#pragma once

namespace moerecal::linalg {

// Up to this many rows the kernel runs; past it the product is no longer bound by reading L.
inline constexpr int kTriMaxRows = 8;

// transposed: B <- B L^T, else B <- B L. Runs the AVX-512F kernel and returns true; returns false
// (B untouched) on a CPU without AVX-512F or for m outside [1, kTriMaxRows].
bool trmm_rows(bool transposed, int m, int n, const float* l, int ldl, float* b, int ldb);

}  // namespace moerecal::linalg
