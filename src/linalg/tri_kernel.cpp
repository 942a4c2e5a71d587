#include "linalg/tri_kernel.hpp"

#include <cstddef>
#include <vector>

#include "linalg/avx512.hpp"

namespace moerecal::linalg {
namespace {

using avx512::lanes;

// Rows [i0, i0 + R) of B L^T for K rows of B: out[c][r] = sum_{j <= i0 + r} L[i0 + r, j] b_c[j],
// over 16-lane chunks: those that every row of the block fills whole, then the rest with each
// row's lanes past its length masked out (not added as zeros). A whole chunk under a full mask is
// the same FMA, so row i0 + r is summed exactly as it would be in a block of its own.
template <int K, int R>
__attribute__((target("avx512f"))) void dot_block(const float* l, int ldl, int i0, const float* b,
                                                  int ldb, float (&out)[K][R]) {
  __m512 acc[K][R];
  for (int c = 0; c < K; ++c)
    for (int r = 0; r < R; ++r) acc[c][r] = _mm512_setzero_ps();
  const float* row = l + std::size_t(i0) * ldl;
  const int whole = (i0 + 1) / 16 * 16, len = i0 + R;
  for (int j = 0; j < whole; j += 16) {
    __m512 v[R];
    for (int r = 0; r < R; ++r) v[r] = _mm512_loadu_ps(row + std::size_t(r) * ldl + j);
    for (int c = 0; c < K; ++c) {
      const __m512 x = _mm512_loadu_ps(b + std::size_t(c) * ldb + j);
      for (int r = 0; r < R; ++r) acc[c][r] = _mm512_fmadd_ps(v[r], x, acc[c][r]);
    }
  }
  for (int j = whole; j < len; j += 16) {
    for (int r = 0; r < R; ++r) {
      const __mmask16 m = lanes(j, i0 + r + 1);
      const __m512 v = _mm512_maskz_loadu_ps(m, row + std::size_t(r) * ldl + j);
      for (int c = 0; c < K; ++c) {
        const __m512 x = _mm512_maskz_loadu_ps(m, b + std::size_t(c) * ldb + j);
        acc[c][r] = _mm512_mask3_fmadd_ps(v, x, acc[c][r], m);
      }
    }
  }
  for (int c = 0; c < K; ++c)
    for (int r = 0; r < R; ++r) out[c][r] = _mm512_reduce_add_ps(acc[c][r]);
}

// B <- B L^T in place: blocks of rows from the bottom, so the entries a block reads (b_c[j],
// j < i0 + R) are still the inputs when it runs.
template <int K>
__attribute__((target("avx512f"))) void times_lt(const float* l, int ldl, int n, float* b,
                                                 int ldb) {
  constexpr int R = K <= 2 ? 4 : 3;
  int i0 = n;
  for (; i0 - R >= 0; i0 -= R) {
    float out[K][R];
    dot_block<K, R>(l, ldl, i0 - R, b, ldb, out);
    for (int c = 0; c < K; ++c)
      for (int r = 0; r < R; ++r) b[std::size_t(c) * ldb + i0 - R + r] = out[c][r];
  }
  for (int i = i0 - 1; i >= 0; --i) {
    float out[K][1];
    dot_block<K, 1>(l, ldl, i, b, ldb, out);
    for (int c = 0; c < K; ++c) b[std::size_t(c) * ldb + i] = out[c][0];
  }
}

// y_c[chunk j] += sum_r b_c[i0 + r] L[i0 + r, chunk j] for R rows of L (whole chunks: j + 16 <=
// i0 + 1), the terms added one after another as R single rows would add them.
template <int K, int R>
__attribute__((target("avx512f"))) void axpy_whole(const float* row, int ldl, int j, const float* b,
                                                   int ldb, float* y, int n) {
  __m512 v[R];
  for (int r = 0; r < R; ++r) v[r] = _mm512_loadu_ps(row + std::size_t(r) * ldl + j);
  for (int c = 0; c < K; ++c) {
    float* yc = y + std::size_t(c) * n + j;
    __m512 sum = _mm512_loadu_ps(yc);
    for (int r = 0; r < R; ++r) sum = _mm512_fmadd_ps(v[r], _mm512_set1_ps(b[c * ldb + r]), sum);
    _mm512_storeu_ps(yc, sum);
  }
}

// The chunks from j0 on of rows [i0, i0 + rows) of L, one row after another, each under its own
// mask (lanes past the row's length left out).
template <int K>
__attribute__((target("avx512f"))) void tail_rows(const float* row, int ldl, int i0, int rows,
                                                  int j0, const float* b, int ldb, float* y,
                                                  int n) {
  for (int j = j0; j < i0 + rows; j += 16) {
    for (int r = 0; r < rows; ++r) {
      const __mmask16 m = lanes(j, i0 + r + 1);
      const __m512 v = _mm512_maskz_loadu_ps(m, row + std::size_t(r) * ldl + j);
      for (int c = 0; c < K; ++c) {
        float* yc = y + std::size_t(c) * n + j;
        const __m512 s = _mm512_set1_ps(b[std::size_t(c) * ldb + i0 + r]);
        _mm512_mask_storeu_ps(yc, m, _mm512_mask3_fmadd_ps(v, s, _mm512_maskz_loadu_ps(m, yc), m));
      }
    }
  }
}

// B <- B L: y_c += b_c[i] L[i, :] for the rows i of L in ascending order, R rows per pass over y
// (whole chunks unmasked, the rest under each row's mask: the same FMAs as R passes of one
// row), then y copied over B.
template <int K>
__attribute__((target("avx512f"))) void times_l(const float* l, int ldl, int n, float* b, int ldb) {
  constexpr int R = 4;
  std::vector<float> y(static_cast<std::size_t>(K) * n, 0.0f);
  int i0 = 0;
  for (; i0 + R <= n; i0 += R) {
    const float* row = l + std::size_t(i0) * ldl;
    const int whole = (i0 + 1) / 16 * 16;
    for (int j = 0; j < whole; j += 16) axpy_whole<K, R>(row, ldl, j, b + i0, ldb, y.data(), n);
    tail_rows<K>(row, ldl, i0, R, whole, b, ldb, y.data(), n);
  }
  tail_rows<K>(l + std::size_t(i0) * ldl, ldl, i0, n - i0, 0, b, ldb, y.data(),
               n);  // the last rows
  for (int c = 0; c < K; ++c)
    for (int j = 0; j < n; ++j) b[std::size_t(c) * ldb + j] = y[std::size_t(c) * n + j];
}

using Kernel = void (*)(const float*, int, int, float*, int);
constexpr Kernel kTimesLt[kTriMaxRows] = {times_lt<1>, times_lt<2>, times_lt<3>, times_lt<4>,
                                          times_lt<5>, times_lt<6>, times_lt<7>, times_lt<8>};
constexpr Kernel kTimesL[kTriMaxRows] = {times_l<1>, times_l<2>, times_l<3>, times_l<4>,
                                         times_l<5>, times_l<6>, times_l<7>, times_l<8>};

}  // namespace

bool trmm_rows(bool transposed, int m, int n, const float* l, int ldl, float* b, int ldb) {
  if (!avx512::available() || m < 1 || m > kTriMaxRows) return false;
  (transposed ? kTimesLt : kTimesL)[m - 1](l, ldl, n, b, ldb);
  return true;
}

}  // namespace moerecal::linalg
