#include "linalg/gram_kernel.hpp"

#include <cstddef>

#include "linalg/avx512.hpp"

namespace moerecal::linalg {
namespace {

using avx512::lanes;

// R consecutive rows of W (row-major, length d): y = W_rows X, then Z += W_rows^T y. Z is read and
// written once per R rows; R independent accumulators per column hide the FMA latency.
template <int K, int R>
__attribute__((target("avx512f"))) void row_block(const float* w, int d, const float* xt,
                                                  float* zt) {
  __m512 acc[K][R];
  for (int c = 0; c < K; ++c)
    for (int r = 0; r < R; ++r) acc[c][r] = _mm512_setzero_ps();
  for (int j = 0; j < d; j += 16) {
    const __mmask16 m = lanes(j, d);
    __m512 v[R];
    for (int r = 0; r < R; ++r) v[r] = _mm512_maskz_loadu_ps(m, w + std::size_t(r) * d + j);
    for (int c = 0; c < K; ++c) {
      const __m512 x = _mm512_maskz_loadu_ps(m, xt + std::size_t(c) * d + j);
      for (int r = 0; r < R; ++r) acc[c][r] = _mm512_fmadd_ps(v[r], x, acc[c][r]);
    }
  }
  for (int c = 0; c < K; ++c)
    for (int r = 0; r < R; ++r) acc[c][r] = _mm512_set1_ps(_mm512_reduce_add_ps(acc[c][r]));
  for (int j = 0; j < d; j += 16) {
    const __mmask16 m = lanes(j, d);
    __m512 v[R];
    for (int r = 0; r < R; ++r) v[r] = _mm512_maskz_loadu_ps(m, w + std::size_t(r) * d + j);
    for (int c = 0; c < K; ++c) {
      float* z = zt + std::size_t(c) * d + j;
      __m512 sum = _mm512_maskz_loadu_ps(m, z);
      for (int r = 0; r < R; ++r) sum = _mm512_fmadd_ps(v[r], acc[c][r], sum);
      _mm512_mask_storeu_ps(z, m, sum);
    }
  }
}

// Rows in blocks of R (4 for up to 2 columns, else 2), the rest singly.
template <int K>
__attribute__((target("avx512f"))) void fused(const float* w, int rows, int d, const float* xt,
                                              float* zt) {
  constexpr int R = K <= 2 ? 4 : 2;
  int i = 0;
  for (; i + R <= rows; i += R) row_block<K, R>(w + std::size_t(i) * d, d, xt, zt);
  for (; i < rows; ++i) row_block<K, 1>(w + std::size_t(i) * d, d, xt, zt);
}

// Row `a` (length n, f32) . x (f64), in f64.
__attribute__((target("avx512f"))) double dot_f64(const float* a, const double* x, int n) {
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    acc0 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + j)), _mm512_loadu_pd(x + j), acc0);
    acc1 = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm256_loadu_ps(a + j + 8)), _mm512_loadu_pd(x + j + 8),
                           acc1);
  }
  double s = _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
  for (; j < n; ++j) s += double{a[j]} * x[j];
  return s;
}

__attribute__((target("avx512f"))) void gram_f64(const float* w, int rows, int d, const double* x,
                                                 double* z) {
  for (int i = 0; i < rows; ++i) {
    const float* row = w + std::size_t(i) * d;
    const double t = dot_f64(row, x, d);
    const __m512d tv = _mm512_set1_pd(t);
    int j = 0;
    for (; j + 8 <= d; j += 8) {
      const __m512d r = _mm512_cvtps_pd(_mm256_loadu_ps(row + j));
      _mm512_storeu_pd(z + j, _mm512_fmadd_pd(tv, r, _mm512_loadu_pd(z + j)));
    }
    for (; j < d; ++j) z[j] += t * double{row[j]};
  }
}

__attribute__((target("avx512f"))) void rows_f64(const float* a, int rows, int cols, int lda,
                                                 const double* x, double* y) {
  for (int i = 0; i < rows; ++i) y[i] = dot_f64(a + std::size_t(i) * lda, x, cols);
}

using Kernel = void (*)(const float*, int, int, const float*, float*);
constexpr Kernel kKernels[kGramMaxColumns] = {fused<1>, fused<2>, fused<3>, fused<4>};

}  // namespace

bool gram_fused(const float* w, int rows, int d, int k, const float* xt, float* zt) {
  if (!avx512::available() || k < 1 || k > kGramMaxColumns) return false;
  kKernels[k - 1](w, rows, d, xt, zt);
  return true;
}

bool gram_fused_f64(const float* w, int rows, int d, const double* x, double* z) {
  if (!avx512::available()) return false;
  gram_f64(w, rows, d, x, z);
  return true;
}

bool dot_rows_f64(const float* a, int rows, int cols, int lda, const double* x, double* y) {
  if (!avx512::available()) return false;
  rows_f64(a, rows, cols, lda, x, y);
  return true;
}

}  // namespace moerecal::linalg
