// GEMM, the symmetric eigensolver and the principal-direction solver against naive loops and
// LAPACK's SVD.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "../lapack_oracle.hpp"
#include "linalg/principal.hpp"

using namespace moerecal::linalg;
using moerecal::test::randn;

namespace {

// sigma_1 and the top right singular vector of a row-major [m, n] matrix, by LAPACK dgesvd.
std::pair<double, std::vector<double>> lapack_top(const std::vector<double>& a, int m, int n) {
  std::vector<double> s, u, vt;
  moerecal::test::svd(a, m, n, s, u, vt);
  return {s[0], std::vector<double>(vt.begin(), vt.begin() + n)};
}

double abs_cos(const std::vector<float>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    ab += a[i] * b[i], aa += double{a[i]} * a[i], bb += b[i] * b[i];
  return std::abs(ab) / std::sqrt(aa * bb);
}

// sigma * u v^T + noise: a dominant direction like a real expert's.
std::vector<float> planted(int m, int n, unsigned seed, float sigma) {
  std::vector<float> a = randn(std::size_t(m) * n, seed), u = randn(m, seed + 1),
                     v = randn(n, seed + 2);
  double nu = 0, nv = 0;
  for (float x : u) nu += x * x;
  for (float x : v) nv += x * x;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      a[std::size_t(i) * n + j] =
          0.05f * a[std::size_t(i) * n + j] + sigma * u[i] * v[j] / std::sqrt(nu * nv);
  return a;
}

void check_against_lapack(const std::vector<MatrixBlock>& blocks,
                          const std::vector<double>& stacked, int rows, int cols) {
  auto be = make_cpu_backend();
  PrincipalOptions opt;
  opt.tol = 1e-6;
  opt.max_iter = 5000;
  const PrincipalResult r = principal_direction(*be, blocks, nullptr, opt);
  const auto [sigma, v] = lapack_top(stacked, rows, cols);
  CAPTURE(r.iterations);
  CHECK(r.converged);
  CHECK(abs_cos(r.v, v) >= 0.9999);
  CHECK(r.sigma == doctest::Approx(sigma).epsilon(1e-4));
  double nv = 0;
  for (float x : r.v) nv += double{x} * x;
  CHECK(nv == doctest::Approx(1.0).epsilon(1e-5));
  // The reported residual ||A v - s^2 v|| / s^2, recomputed in double.
  std::vector<double> av(cols, 0.0);
  for (int i = 0; i < rows; ++i) {
    double t = 0;
    for (int j = 0; j < cols; ++j) t += stacked[std::size_t(i) * cols + j] * r.v[j];
    for (int j = 0; j < cols; ++j) av[j] += stacked[std::size_t(i) * cols + j] * t;
  }
  double res = 0;
  for (int j = 0; j < cols; ++j)
    res += (av[j] - r.sigma * r.sigma * r.v[j]) * (av[j] - r.sigma * r.sigma * r.v[j]);
  CHECK(std::sqrt(res) / (r.sigma * r.sigma) ==
        doctest::Approx(r.residual).epsilon(0.05).scale(1e-3));
}

}  // namespace

TEST_SUITE("linalg") {
  TEST_CASE("gemm matches a naive triple loop for every transpose combination") {
    auto be = make_cpu_backend();
    const int m = 5, n = 4, k = 7;
    const auto a = randn(m * k, 1), b = randn(k * n, 2);
    for (Trans ta : {Trans::kNo, Trans::kYes}) {
      for (Trans tb : {Trans::kNo, Trans::kYes}) {
        std::vector<float> c(m * n, 1.0f);
        const int lda = ta == Trans::kNo ? k : m, ldb = tb == Trans::kNo ? n : k;
        be->gemm(ta, tb, m, n, k, 2.0f, a.data(), lda, b.data(), ldb, 0.5f, c.data(), n);
        for (int i = 0; i < m; ++i) {
          for (int j = 0; j < n; ++j) {
            double s = 0;
            for (int p = 0; p < k; ++p) {
              const float x = ta == Trans::kNo ? a[i * k + p] : a[p * m + i];
              const float y = tb == Trans::kNo ? b[p * n + j] : b[j * k + p];
              s += double{x} * y;
            }
            CHECK(c[i * n + j] == doctest::Approx(2 * s + 0.5).epsilon(1e-5));
          }
        }
      }
    }
  }

  TEST_CASE("syev: eigenpairs of a hand-checked 2x2 and reconstruction of a 6x6") {
    auto be = make_cpu_backend();
    double a[4] = {2, 1, 1, 2};  // eigenvalues 1, 3; vectors (1,-1)/sqrt2, (1,1)/sqrt2
    double w[2];
    be->syev(2, a, w);
    CHECK(w[0] == doctest::Approx(1.0));
    CHECK(w[1] == doctest::Approx(3.0));
    CHECK(std::abs(a[0 * 2 + 1]) == doctest::Approx(std::sqrt(0.5)));  // column 1 = top vector
    CHECK(a[0 * 2 + 1] * a[1 * 2 + 1] > 0);
    CHECK(a[0 * 2 + 0] * a[1 * 2 + 0] < 0);
    const auto r = randn(36, 9);
    std::vector<double> s(36), v(36), ev(6);
    for (int i = 0; i < 6; ++i)
      for (int j = 0; j < 6; ++j) s[i * 6 + j] = r[i * 6 + j] + r[j * 6 + i];
    v = s;
    be->syev(6, v.data(), ev.data());
    for (int i = 0; i < 6; ++i) {
      for (int j = 0; j < 6; ++j) {
        double x = 0;
        for (int k = 0; k < 6; ++k) x += v[i * 6 + k] * ev[k] * v[j * 6 + k];
        CHECK(x == doctest::Approx(s[i * 6 + j]).epsilon(1e-9).scale(1));
      }
    }
  }

  TEST_CASE("principal direction of random and planted matrices matches LAPACK") {
    for (auto [m, n] : {std::pair{60, 40}, std::pair{30, 50}, std::pair{128, 64}}) {
      for (bool plant : {false, true}) {
        CAPTURE(m);
        CAPTURE(n);
        CAPTURE(plant);
        const auto a = plant ? planted(m, n, m + n, 3.0f) : randn(std::size_t(m) * n, m * n);
        check_against_lapack({{a.data(), m, n, false}}, std::vector<double>(a.begin(), a.end()), m,
                             n);
      }
    }
  }

  TEST_CASE("stacked blocks (gate on up) equal the SVD of the stacked matrix") {
    const int m = 24, n = 40;
    const auto g = planted(m, n, 5, 2.0f), u = planted(m, n, 6, 1.5f);
    std::vector<double> s(g.begin(), g.end());
    s.insert(s.end(), u.begin(), u.end());
    check_against_lapack({{g.data(), m, n, false}, {u.data(), m, n, false}}, s, 2 * m, n);
  }

  TEST_CASE("transposed block gives the left singular direction (down_e)") {
    const int d = 36, w = 20;  // down is stored [d, w]
    const auto down = planted(d, w, 11, 2.0f);
    std::vector<double> t(std::size_t(w) * d);  // explicit transpose [w, d] for the oracle
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < w; ++j) t[std::size_t(j) * d + i] = down[std::size_t(i) * w + j];
    check_against_lapack({{down.data(), w, d, true}}, t, w, d);
  }

  TEST_CASE("sign convention: v . ref >= 0") {
    auto be = make_cpu_backend();
    const auto a = planted(20, 16, 3, 2.0f);
    const PrincipalResult r = principal_direction(*be, {{a.data(), 20, 16, false}}, nullptr);
    std::vector<float> ref(r.v), neg(r.v);
    for (float& x : neg) x = -x;
    const PrincipalResult p = principal_direction(*be, {{a.data(), 20, 16, false}}, ref.data());
    const PrincipalResult q = principal_direction(*be, {{a.data(), 20, 16, false}}, neg.data());
    double dp = 0, dq = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) dp += p.v[i] * ref[i], dq += q.v[i] * neg[i];
    CHECK(dp > 0.999);
    CHECK(dq > 0.999);
  }

  TEST_CASE("iteration cap is honoured and reported") {
    auto be = make_cpu_backend();
    const auto a = randn(200 * 100, 17);
    PrincipalOptions opt;
    opt.max_iter = 3;
    opt.tol = 1e-12;
    const PrincipalResult r = principal_direction(*be, {{a.data(), 200, 100, false}}, nullptr, opt);
    CHECK(r.iterations == 3);
    CHECK(!r.converged);
  }
}
