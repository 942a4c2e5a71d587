// The OpenBLAS backend against naive loops and hand-computed eigenpairs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "../lapack_oracle.hpp"
#include "core/error.hpp"
#include "linalg/backend.hpp"
#include "linalg/tri_kernel.hpp"

using namespace moerecal::linalg;
using moerecal::test::randn;

TEST_SUITE("linalg") {
  TEST_CASE("gemm matches a naive triple loop for every transpose combination") {
    auto be = make_backend();
    CHECK(be->name() == "openblas");
    const int m = 5, n = 4, k = 7, pad = 3;  // leading dimensions padded past the minimum
    for (Trans ta : {Trans::kNo, Trans::kYes}) {
      for (Trans tb : {Trans::kNo, Trans::kYes}) {
        CAPTURE(int(ta));
        CAPTURE(int(tb));
        const int lda = (ta == Trans::kNo ? k : m) + pad, ldb = (tb == Trans::kNo ? n : k) + pad;
        const int ldc = n + pad;
        const auto a = randn(std::size_t(ta == Trans::kNo ? m : k) * lda, 1);
        const auto b = randn(std::size_t(tb == Trans::kNo ? k : n) * ldb, 2);
        const auto c0 = randn(std::size_t(m) * ldc, 3);
        std::vector<float> c = c0;
        be->gemm(ta, tb, m, n, k, 2.0f, a.data(), lda, b.data(), ldb, 0.5f, c.data(), ldc);
        for (int i = 0; i < m; ++i) {
          for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int p = 0; p < k; ++p) {
              const float x = ta == Trans::kNo ? a[i * lda + p] : a[p * lda + i];
              const float y = tb == Trans::kNo ? b[p * ldb + j] : b[j * ldb + p];
              s += double{x} * y;
            }
            CHECK(c[i * ldc + j] == doctest::Approx(2 * s + 0.5 * c0[i * ldc + j]).epsilon(1e-5));
          }
          for (int j = n; j < ldc; ++j) CHECK(c[i * ldc + j] == c0[i * ldc + j]);  // padding kept
        }
      }
    }
  }

  // One row or one column: the backend's matrix-vector path (gemv), f32 and f64, every transpose,
  // padded leading dimensions; beta 0 must not read the output (filled with NaN here).
  template <typename T, typename Gemm>
  void check_vector_shapes(Gemm gemm) {
    const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
    const int shapes[][3] = {{1, 4, 7}, {5, 1, 7}, {1, 1, 7}, {1, 6, 1}};
    for (const auto& shape : shapes) {
      const int m = shape[0], n = shape[1], k = shape[2], pad = 2;
      for (int ta = 0; ta < 2; ++ta) {
        for (int tb = 0; tb < 2; ++tb) {
          for (const T beta : {T(0), T(0.5)}) {
            CAPTURE(m);
            CAPTURE(n);
            CAPTURE(ta);
            CAPTURE(tb);
            CAPTURE(double(beta));
            const int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
            const auto a32 = randn(std::size_t(ta ? k : m) * lda, 4);
            const auto b32 = randn(std::size_t(tb ? n : k) * ldb, 5);
            const auto c32 = randn(std::size_t(m) * ldc, 6);
            std::vector<T> a(a32.begin(), a32.end()), b(b32.begin(), b32.end());
            std::vector<T> c0(c32.begin(), c32.end()), c = c0;
            for (int i = 0; i < m && beta == T(0); ++i)
              for (int j = 0; j < n; ++j) c[i * ldc + j] = std::numeric_limits<T>::quiet_NaN();
            gemm(ta ? Trans::kYes : Trans::kNo, tb ? Trans::kYes : Trans::kNo, m, n, k, T(2),
                 a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
            for (int i = 0; i < m; ++i) {
              for (int j = 0; j < n; ++j) {
                double s = 0;
                for (int p = 0; p < k; ++p) {
                  s += double{ta ? a[p * lda + i] : a[i * lda + p]} *
                       double{tb ? b[j * ldb + p] : b[p * ldb + j]};
                }
                const double want = 2 * s + double{beta} * c0[i * ldc + j];
                CHECK(double{c[i * ldc + j]} == doctest::Approx(want).epsilon(tol));
              }
              for (int j = n; j < ldc; ++j) CHECK(c[i * ldc + j] == c0[i * ldc + j]);
            }
          }
        }
      }
    }
  }

  TEST_CASE("gemm and gemm_f64 with one row or one column match a naive loop") {
    auto be = make_backend();
    check_vector_shapes<float>([&](auto... args) { be->gemm(args...); });
    check_vector_shapes<double>([&](auto... args) { be->gemm_f64(args...); });
  }

  TEST_CASE("gemv_f64: f32 matrix, f64 vectors, both transposes and beta, against a double loop") {
    auto be = make_backend();
    const int rows = 37, cols = 5000, lda = cols + 3;  // several of the backend's f64 panels
    const auto a = randn(std::size_t(rows) * lda, 21);
    const auto x32 = randn(cols, 22), y32 = randn(cols, 23);
    for (Trans t : {Trans::kNo, Trans::kYes}) {
      for (double beta : {0.0, -0.5}) {
        CAPTURE(int(t));
        CAPTURE(beta);
        const int in = t == Trans::kNo ? cols : rows, out = t == Trans::kNo ? rows : cols;
        std::vector<double> x(x32.begin(), x32.begin() + in), y0(y32.begin(), y32.begin() + out);
        std::vector<double> y = y0;
        be->gemv_f64(t, rows, cols, a.data(), lda, x.data(), beta, y.data());
        for (int i = 0; i < out; ++i) {
          double s = 0, mag = 0;
          for (int j = 0; j < in; ++j) {
            const double p = double{t == Trans::kNo ? a[std::size_t(i) * lda + j]
                                                    : a[std::size_t(j) * lda + i]} *
                             x[j];
            s += p;
            mag += std::abs(p);
          }
          CHECK(std::abs(y[i] - (s + beta * y0[i])) <= 1e-14 * (mag + std::abs(y0[i])));
        }
      }
    }
  }

  // B <- B op(L) for a lower-triangular L: the CPU backend's few-row kernel (up to kTriMaxRows
  // rows), its trmm past that, and the base version's gemm, against a double loop over the lower
  // triangle; padded leading dimensions whose padding (and L's upper triangle, for the triangular
  // products) hold values never read. n 37 and 100: rows of one to seven 16-lane chunks, with
  // tails, in blocks of 1, 2 and 4 rows.
  TEST_CASE("trmm_lower_right: one row and several, both transposes, against a double loop") {
    auto be = make_backend();
    const int pad = 2;
    for (const auto& [m, n] : {std::pair{1, 37}, {5, 37}, {8, 100}, {3, 100}, {12, 37}}) {
      for (const Trans t : {Trans::kNo, Trans::kYes}) {
        for (const bool base : {false, true}) {
          CAPTURE(m);
          CAPTURE(n);
          CAPTURE(int(t));
          CAPTURE(base);
          const int ldl = n + pad, ldb = n + pad;
          std::vector<float> l = randn(std::size_t(n) * ldl, 5);
          for (int i = 0; i < n; ++i)
            for (int j = i + 1; j < ldl; ++j)
              l[std::size_t(i) * ldl + j] = j < n && base ? 0.0f : 1e30f;  // never read
          const std::vector<float> b0 = randn(std::size_t(m) * ldb, 6);
          std::vector<float> b = b0;
          if (base) {
            be->Backend::trmm_lower_right(t, m, n, l.data(), ldl, b.data(), ldb);
          } else {
            be->trmm_lower_right(t, m, n, l.data(), ldl, b.data(), ldb);
          }
          double worst = 0;
          for (int r = 0; r < m; ++r) {
            for (int j = 0; j < n; ++j) {
              double want = 0;  // sum_k b[r][k] op(L)[k][j], L[i][k] = 0 for k > i
              for (int k = 0; k < n; ++k) {
                const int i = t == Trans::kNo ? k : j, c = t == Trans::kNo ? j : k;
                if (c <= i)
                  want += double{b0[std::size_t(r) * ldb + k]} * l[std::size_t(i) * ldl + c];
              }
              worst = std::max(worst, std::abs(want - b[std::size_t(r) * ldb + j]));
            }
            for (int j = n; j < ldb; ++j)
              CHECK(b[std::size_t(r) * ldb + j] == b0[std::size_t(r) * ldb + j]);
          }
          CHECK(worst < 1e-4);
        }
      }
    }
  }

  // The few-row product's promise: a row's bits do not depend on the rows beside it, so the
  // direction solves give the same figures whether their experts run alone or side by side.
  TEST_CASE("trmm_lower_right: up to kTriMaxRows rows, each row equal to that row alone") {
    auto be = make_backend();
    const int n = 103;  // blocks of 3 and 4 rows with a remainder, 16-lane chunks with a tail
    std::vector<float> l = randn(std::size_t(n) * n, 7);
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) l[std::size_t(i) * n + j] = 0.0f;
    const std::vector<float> b0 = randn(std::size_t(kTriMaxRows) * n, 8);
    for (const Trans t : {Trans::kNo, Trans::kYes}) {
      std::vector<float> alone = b0;
      for (int r = 0; r < kTriMaxRows; ++r)
        be->trmm_lower_right(t, 1, n, l.data(), n, alone.data() + std::size_t(r) * n, n);
      for (int m = 2; m <= kTriMaxRows; ++m) {
        CAPTURE(int(t));
        CAPTURE(m);
        std::vector<float> b(b0.begin(), b0.begin() + std::ptrdiff_t(m) * n);
        be->trmm_lower_right(t, m, n, l.data(), n, b.data(), n);
        CHECK(std::equal(b.begin(), b.end(), alone.begin()));
      }
    }
  }

  TEST_CASE("cholesky: hand-computed 3x3, L L^T = A on a random 8x8, false when not definite") {
    auto be = make_backend();
    double a[9] = {4, 2, 2, 2, 5, 3, 2, 3, 6};  // L = [[2,0,0],[1,2,0],[1,1,2]]
    REQUIRE(be->cholesky(3, a));
    const double l[9] = {2, 0, 0, 1, 2, 0, 1, 1, 2};
    for (int i = 0; i < 9; ++i) CHECK(a[i] == doctest::Approx(l[i]).scale(1));
    const int n = 8;
    const auto r = randn(std::size_t(n) * n, 12);
    std::vector<double> s(std::size_t(n) * n, 0.0);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        for (int k = 0; k < n; ++k) s[i * n + j] += double{r[i * n + k]} * r[j * n + k];
    for (int i = 0; i < n; ++i) s[i * n + i] += 0.1;
    std::vector<double> f = s;
    REQUIRE(be->cholesky(n, f.data()));
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        double x = 0;
        for (int k = 0; k < n; ++k) x += f[i * n + k] * f[j * n + k];
        CHECK(x == doctest::Approx(s[i * n + j]).epsilon(1e-12).scale(1));
        if (j > i) CHECK(f[i * n + j] == 0.0);
      }
    }
    double indefinite[4] = {1, 2, 2, 1};
    CHECK_FALSE(be->cholesky(2, indefinite));
    double nan[4] = {1, 0, 0, std::numeric_limits<double>::quiet_NaN()};
    CHECK_THROWS_AS(be->cholesky(2, nan), moerecal::BackendError);
  }

  TEST_CASE("syev: hand-computed 2x2 eigenpairs with eigenvectors in columns") {
    auto be = make_backend();
    double a[4] = {2, 1, 1, 2};  // eigenvalues 1, 3; vectors (1,-1)/sqrt2, (1,1)/sqrt2
    double w[2];
    be->syev(2, a, w);
    CHECK(w[0] == doctest::Approx(1.0));
    CHECK(w[1] == doctest::Approx(3.0));
    CHECK(std::abs(a[0 * 2 + 1]) == doctest::Approx(std::sqrt(0.5)));
    CHECK(a[0 * 2 + 1] * a[1 * 2 + 1] > 0);  // column 1 = (1,1)/sqrt2 up to sign
    CHECK(a[0 * 2 + 0] * a[1 * 2 + 0] < 0);  // column 0 = (1,-1)/sqrt2 up to sign
  }

  TEST_CASE("syev: hand-computed 3x3 with a non-symmetric eigenvector matrix") {
    // [[2,0,0],[0,3,4],[0,4,9]]: 1 -> (0,2,-1)/sqrt5, 2 -> (1,0,0), 11 -> (0,1,2)/sqrt5. The
    // eigenvector matrix is not symmetric, so rows and columns mixed up would show.
    auto be = make_backend();
    double a[9] = {2, 0, 0, 0, 3, 4, 0, 4, 9};
    double w[3];
    be->syev(3, a, w);
    CHECK(w[0] == doctest::Approx(1.0));
    CHECK(w[1] == doctest::Approx(2.0));
    CHECK(w[2] == doctest::Approx(11.0));
    const double r5 = 1 / std::sqrt(5.0);
    const double expect[3][3] = {{0, 2 * r5, -r5}, {1, 0, 0}, {0, r5, 2 * r5}};
    for (int c = 0; c < 3; ++c) {
      double dot = 0;
      for (int i = 0; i < 3; ++i) dot += a[i * 3 + c] * expect[c][i];
      CHECK(std::abs(dot) == doctest::Approx(1.0));
      for (int i = 0; i < 3; ++i) {
        CAPTURE(c);
        CAPTURE(i);
        CHECK((dot > 0 ? 1 : -1) * a[i * 3 + c] == doctest::Approx(expect[c][i]).scale(1));
      }
    }
  }

  TEST_CASE("syev: A = V diag(w) V^T and V^T V = I on a random 6x6") {
    auto be = make_backend();
    const auto r = randn(36, 9);
    std::vector<double> s(36), v(36), ev(6);
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 6; ++j) s[i * 6 + j] = r[i * 6 + j] + r[j * 6 + i];
    v = s;
    be->syev(6, v.data(), ev.data());
    for (int i = 0; i + 1 < 6; ++i) CHECK(ev[i] <= ev[i + 1]);
    for (int i = 0; i < 6; ++i) {
      for (int j = 0; j < 6; ++j) {
        double x = 0, o = 0;
        for (int k = 0; k < 6; ++k) x += v[i * 6 + k] * ev[k] * v[j * 6 + k];
        for (int k = 0; k < 6; ++k) o += v[k * 6 + i] * v[k * 6 + j];
        CHECK(x == doctest::Approx(s[i * 6 + j]).epsilon(1e-9).scale(1));
        CHECK(o == doctest::Approx(i == j ? 1.0 : 0.0).epsilon(1e-12).scale(1));
      }
    }
  }

  TEST_CASE("syev: non-finite input is a BackendError naming the routine and the entry") {
    // (LAPACK itself returns finite garbage for this matrix instead of failing.)
    auto be = make_backend();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    double a[4] = {1, 1, 1, nan}, w[2];
    try {
      be->syev(2, a, w);
      FAIL("no BackendError");
    } catch (const moerecal::BackendError& e) {
      CHECK(std::string(e.what()).find("dsyev") != std::string::npos);
      CHECK(std::string(e.what()).find("(1, 1)") != std::string::npos);
    }
  }

  TEST_CASE("cpu_blas_info names the library") {
    CHECK(cpu_blas_info().find("OpenBLAS") != std::string::npos);
  }
}

TEST_SUITE("linalg") {
  TEST_CASE("make_backend: cpu and auto give OpenBLAS, cuda is a usage error in this build") {
    CHECK(moerecal::linalg::make_backend(moerecal::linalg::Device::kCpu)->name() == "openblas");
    CHECK(moerecal::linalg::make_backend(moerecal::linalg::Device::kAuto)->name() == "openblas");
    CHECK_THROWS_AS(moerecal::linalg::make_backend(moerecal::linalg::Device::kCuda),
                    moerecal::UsageError);
    CHECK(moerecal::linalg::parse_device("gpu") == std::nullopt);
  }

  TEST_CASE("parallel_for hands every item a backend of the caller's kind and rethrows") {
    auto be = moerecal::linalg::make_backend();
    std::vector<std::string> names(16);
    be->parallel_for(16, [&](int i, moerecal::linalg::Backend& w) { names[i] = w.name(); });
    for (const auto& n : names) CHECK(n == "openblas");
    CHECK_THROWS_AS(be->parallel_for(8,
                                     [](int i, moerecal::linalg::Backend&) {
                                       if (i == 3) throw moerecal::BackendError("x");
                                     }),
                    moerecal::BackendError);
  }
}
