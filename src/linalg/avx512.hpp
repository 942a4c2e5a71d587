// Pieces shared by the CPU's AVX-512F kernels (gram_kernel.cpp, tri_kernel.cpp). Internal to
// linalg: include it from a kernel's .cpp only (it turns off two GCC warnings for that file).
#pragma once

#include <immintrin.h>

// GCC 12 warns inside its own _mm512_reduce_add_ps (an _mm256_undefined_pd operand it ignores).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace moerecal::linalg::avx512 {

// Whether this CPU runs the kernels (checked once).
inline bool available() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

// Lanes [j, j + 16) of a row of length len, those past it masked off (none left when len <= j).
__attribute__((target("avx512f"))) inline __mmask16 lanes(int j, int len) {
  return len - j >= 16 ? __mmask16(0xFFFF)
         : len <= j    ? __mmask16(0)
                       : static_cast<__mmask16>((1u << (len - j)) - 1);
}

}  // namespace moerecal::linalg::avx512
