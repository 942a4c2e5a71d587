// Test oracles shared by unit tests: seeded Gaussian data and LAPACK's dgesvd on row-major input.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

extern "C" void dgesvd_(const char* jobu, const char* jobvt, const int* m, const int* n, double* a,
                        const int* lda, double* s, double* u, const int* ldu, double* vt,
                        const int* ldvt, double* work, const int* lwork, int* info);

namespace moerecal::test {

inline std::vector<float> randn(std::size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(g);
  return v;
}

// Thin SVD of a row-major [m, n] matrix: s[k], u [m, k] and vt [k, n] row-major, k = min(m, n).
// Row-major A is the column-major A^T, so LAPACK factors A^T = U' S V'^T; then A's left vectors
// are the rows of V'^T and its right vectors the columns of U'.
inline void svd(const std::vector<double>& a, int m, int n, std::vector<double>& s,
                std::vector<double>& u, std::vector<double>& vt) {
  std::vector<double> at(a), uu(std::size_t(n) * n), vv(std::size_t(m) * m);
  const int k = std::min(m, n);
  int lwork = -1, info = 0;
  s.assign(k, 0.0);
  double q = 0;
  dgesvd_("A", "A", &n, &m, at.data(), &n, s.data(), uu.data(), &n, vv.data(), &m, &q, &lwork,
          &info);
  lwork = static_cast<int>(q);
  std::vector<double> work(lwork);
  dgesvd_("A", "A", &n, &m, at.data(), &n, s.data(), uu.data(), &n, vv.data(), &m, work.data(),
          &lwork, &info);
  REQUIRE(info == 0);
  u.assign(std::size_t(m) * k, 0.0);
  vt.assign(std::size_t(k) * n, 0.0);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < k; ++j) u[std::size_t(i) * k + j] = vv[std::size_t(j) + std::size_t(i) * m];
  for (int j = 0; j < k; ++j)
    for (int i = 0; i < n; ++i)
      vt[std::size_t(j) * n + i] = uu[std::size_t(i) + std::size_t(j) * n];
}

}  // namespace moerecal::test
