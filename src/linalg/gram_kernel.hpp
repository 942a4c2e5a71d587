// The CPU's fused Gram product for a few columns: Zt[k, d] += (W^T W X)^T for a row-major
// W [rows x d]. Each row of W is read from memory once: used for its k dot products and then, still
// in L1, for its k updates of Z. Two GEMM calls would read W twice and first pack it (for a skinny
// X, packing costs more than the product). X and Z are held transposed: k rows of length d.
#pragma once

namespace moerecal::linalg {

// Past 4 columns the product is no longer bound by reading W, and BLAS' packed kernel is faster.
inline constexpr int kGramMaxColumns = 4;

// Runs the AVX-512F kernel and returns true; returns false (Z untouched) on a CPU without
// AVX-512F or for k outside [1, kGramMaxColumns], where the caller takes its GEMM path.
bool gram_fused(const float* w, int rows, int d, int k, const float* xt, float* zt);

// The power steps' f64 products over f32 weights, each row of W read once (AVX-512F; false on a
// CPU without it, nothing written): z += W^T (W x) for W [rows x d], and y = A x for A
// [rows x cols] with leading dimension lda. Products and sums in f64.
bool gram_fused_f64(const float* w, int rows, int d, const double* x, double* z);
bool dot_rows_f64(const float* a, int rows, int cols, int lda, const double* x, double* y);

}  // namespace moerecal::linalg
