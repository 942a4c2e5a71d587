#include "linalg/gram_kernel.hpp"

#include <immintrin.h>

#include <cstddef>

// GCC 12 warns inside its own _mm512_reduce_add_ps (an _mm256_undefined_pd operand it ignores).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace moerecal::linalg {
namespace {

// Lanes [j, j + 16) of a row of length d, the tail masked.
__attribute__((target("avx512f"))) inline __mmask16 lanes(int j, int d) {
  return d - j >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (d - j)) - 1);
}

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

using Kernel = void (*)(const float*, int, int, const float*, float*);
constexpr Kernel kKernels[kGramMaxColumns] = {fused<1>, fused<2>, fused<3>, fused<4>};

}  // namespace

bool gram_fused(const float* w, int rows, int d, int k, const float* xt, float* zt) {
  static const bool have_avx512 = __builtin_cpu_supports("avx512f");
  if (!have_avx512 || k < 1 || k > kGramMaxColumns) return false;
  kKernels[k - 1](w, rows, d, xt, zt);
  return true;
}

}  // namespace moerecal::linalg
