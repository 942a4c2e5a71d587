// The principal-direction solver against LAPACK's SVD (dgesvd of the explicitly stacked or
// transposed matrix) and against its own reported figures, recomputed in double.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "../lapack_oracle.hpp"
#include "linalg/principal.hpp"

using namespace moerecal::linalg;
using moerecal::test::randn;

namespace {

double abs_cos(const std::vector<float>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    ab += a[i] * b[i], aa += double{a[i]} * a[i], bb += b[i] * b[i];
  return std::abs(ab) / std::sqrt(aa * bb);
}

// sigma * u v^T / (|u| |v|) + 0.05 * noise: a dominant direction like a real expert's.
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

// ||S^T S v - s^2 v|| / s^2 with s^2 = v^T S^T S v, in double, for the explicit matrix S.
double residual_of(const std::vector<double>& s, int rows, int cols, const std::vector<float>& v,
                   double* sigma) {
  std::vector<double> av(cols, 0.0);
  for (int i = 0; i < rows; ++i) {
    double t = 0;
    for (int j = 0; j < cols; ++j) t += s[std::size_t(i) * cols + j] * v[j];
    for (int j = 0; j < cols; ++j) av[j] += s[std::size_t(i) * cols + j] * t;
  }
  double vav = 0, vv = 0, res = 0;
  for (int j = 0; j < cols; ++j) vav += av[j] * v[j], vv += double{v[j]} * v[j];
  const double s2 = vav / vv;
  for (int j = 0; j < cols; ++j) res += (av[j] - s2 * v[j]) * (av[j] - s2 * v[j]);
  *sigma = std::sqrt(s2);
  return std::sqrt(res / vv) / s2;
}

// One solve with `block` on `blocks`, checked against the SVD (s, vt) of the explicit matrix
// `stacked` ([rows, cols]) and against its own reported figures recomputed in double.
PrincipalResult check_block(const std::vector<MatrixBlock>& blocks,
                            const std::vector<double>& stacked, int rows, int cols,
                            const std::vector<double>& s, const std::vector<double>& vt,
                            int block) {
  auto be = make_backend();
  PrincipalOptions opt;
  opt.block = block;
  const PrincipalResult r = principal_direction(*be, blocks, nullptr, opt);
  CAPTURE(block);
  CAPTURE(r.iterations);
  REQUIRE(r.v.size() == std::size_t(cols));
  CHECK(r.converged);
  CHECK(abs_cos(r.v, std::vector<double>(vt.begin(), vt.begin() + cols)) >= 0.9999);
  CHECK(r.sigma == doctest::Approx(s[0]).epsilon(1e-4));
  if (block > 1) CHECK(r.sigma2 == doctest::Approx(s[1]).epsilon(1e-3));
  double nv = 0;
  for (float x : r.v) nv += double{x} * x;
  CHECK(nv == doctest::Approx(1.0).epsilon(1e-6));
  double sigma = 0;
  const double res = residual_of(stacked, rows, cols, r.v, &sigma);
  CHECK(r.residual <= 1e-5);
  CHECK(std::abs(res - r.residual) <= 1e-6);  // the reported residual is the returned v's
  CHECK(r.sigma == doctest::Approx(sigma).epsilon(1e-6));
  return r;
}

// check_block with a block of 1 (the Krylov solver) and with the default block (LOBPCG), whose
// result is returned.
PrincipalResult check_against_lapack(const std::vector<MatrixBlock>& blocks,
                                     const std::vector<double>& stacked, int rows, int cols) {
  std::vector<double> s, u, vt;
  moerecal::test::svd(stacked, rows, cols, s, u, vt);
  check_block(blocks, stacked, rows, cols, s, vt, 1);
  return check_block(blocks, stacked, rows, cols, s, vt, PrincipalOptions{}.block);
}

std::vector<double> widen(const std::vector<float>& a) { return {a.begin(), a.end()}; }

}  // namespace

TEST_SUITE("linalg") {
  TEST_CASE("principal direction of random Gaussian matrices matches LAPACK (tall and wide)") {
    for (auto [m, n] : {std::pair{160, 48}, std::pair{48, 160}, std::pair{96, 96}}) {
      CAPTURE(m);
      CAPTURE(n);
      const auto a = randn(std::size_t(m) * n, m * n);
      check_against_lapack({{a.data(), m, n, false}}, widen(a), m, n);
    }
  }

  TEST_CASE("principal direction of planted sigma u v^T + noise matches LAPACK (tall and wide)") {
    for (auto [m, n] : {std::pair{160, 48}, std::pair{48, 160}, std::pair{96, 96}}) {
      CAPTURE(m);
      CAPTURE(n);
      const auto a = planted(m, n, m + n, 3.0f);
      const PrincipalResult r = check_against_lapack({{a.data(), m, n, false}}, widen(a), m, n);
      CHECK(r.iterations <= 20);  // a clear gap converges in a handful of steps
    }
  }

  TEST_CASE("stacked blocks (gate on up) equal the SVD of the explicitly stacked matrix") {
    const int m = 64, n = 80;
    for (bool plant : {false, true}) {
      CAPTURE(plant);
      const auto g = plant ? planted(m, n, 5, 2.0f) : randn(std::size_t(m) * n, 5);
      const auto u = plant ? planted(m, n, 6, 1.5f) : randn(std::size_t(m) * n, 6);
      std::vector<double> s = widen(g);
      s.insert(s.end(), u.begin(), u.end());
      check_against_lapack({{g.data(), m, n, false}, {u.data(), m, n, false}}, s, 2 * m, n);
    }
  }

  TEST_CASE("a transposed block gives the left singular direction (down_e)") {
    const int d = 72, w = 40;  // down is stored [d, w]; its left direction lives in R^d
    for (bool plant : {false, true}) {
      CAPTURE(plant);
      const auto down = plant ? planted(d, w, 11, 2.0f) : randn(std::size_t(d) * w, 11);
      std::vector<double> t(std::size_t(w) * d);  // explicit transpose [w, d] for the oracle
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < w; ++j) t[std::size_t(j) * d + i] = down[std::size_t(i) * w + j];
      check_against_lapack({{down.data(), w, d, true}}, t, w, d);
    }
  }

  TEST_CASE("block sizes from 1 to past the dimension all converge to the same direction") {
    auto be = make_backend();
    const auto a = planted(50, 30, 21, 2.0f);
    std::vector<double> s, u, vt;
    moerecal::test::svd(widen(a), 50, 30, s, u, vt);
    for (int block : {1, 2, 4, 8, 100}) {
      CAPTURE(block);
      PrincipalOptions opt;
      opt.block = block;
      const PrincipalResult r = principal_direction(*be, {{a.data(), 50, 30, false}}, nullptr, opt);
      CHECK(r.converged);
      CHECK(abs_cos(r.v, std::vector<double>(vt.begin(), vt.begin() + 30)) >= 0.9999);
      CHECK(r.sigma == doctest::Approx(s[0]).epsilon(1e-4));
    }
  }

  TEST_CASE("at the report tolerance (1e-2) both solvers land within it of LAPACK's direction") {
    auto be = make_backend();
    for (auto [m, n] : {std::pair{160, 48}, std::pair{48, 160}, std::pair{256, 128}}) {
      const auto a = planted(m, n, m * 3 + n, 1.5f);
      std::vector<double> s, u, vt;
      moerecal::test::svd(widen(a), m, n, s, u, vt);
      for (int block : {1, 2}) {
        CAPTURE(m);
        CAPTURE(block);
        PrincipalOptions opt;
        opt.block = block;
        opt.tol = 1e-2;
        const PrincipalResult r = principal_direction(*be, {{a.data(), m, n, false}}, nullptr, opt);
        const double c = abs_cos(r.v, std::vector<double>(vt.begin(), vt.begin() + n));
        CHECK(r.converged);
        CHECK(std::sqrt(std::max(0.0, 1 - c * c)) <= 1e-2);
        CHECK(r.sigma == doctest::Approx(s[0]).epsilon(1e-3));
      }
    }
  }

  TEST_CASE("sign convention: v . ref >= 0 or else the largest |component| is positive") {
    auto be = make_backend();
    const auto a = randn(40 * 24, 3);
    const MatrixBlock blk{a.data(), 40, 24, false};
    for (unsigned seed = 1; seed <= 8; ++seed) {
      const auto ref = randn(24, 100 + seed);
      const PrincipalResult r = principal_direction(*be, {blk}, ref.data());
      double dot = 0;
      for (int i = 0; i < 24; ++i) dot += double{r.v[i]} * ref[i];
      CHECK(dot > 0);
      std::vector<float> neg(ref);
      for (float& x : neg) x = -x;
      const PrincipalResult q = principal_direction(*be, {blk}, neg.data());
      for (int i = 0; i < 24; ++i) CHECK(q.v[i] == -r.v[i]);  // same solve, the other sign
    }
    const std::vector<float> zero(24, 0.0f);  // dot exactly 0: fall back to the largest entry
    for (const float* ref : {static_cast<const float*>(nullptr), zero.data()}) {
      const PrincipalResult r = principal_direction(*be, {blk}, ref);
      float big = 0;
      for (float x : r.v) big = std::abs(x) > std::abs(big) ? x : big;
      CHECK(big > 0);
    }
  }

  TEST_CASE("iterations reported are the iterations needed and runs are deterministic") {
    auto be = make_backend();
    const auto a = randn(120 * 60, 17);
    const std::vector<MatrixBlock> blk{{a.data(), 120, 60, false}};
    const PrincipalResult r = principal_direction(*be, blk, nullptr);
    REQUIRE(r.converged);
    REQUIRE(r.iterations > 1);
    PrincipalOptions opt;
    opt.max_iter = r.iterations;
    const PrincipalResult same = principal_direction(*be, blk, nullptr, opt);
    CHECK(same.converged);
    CHECK(same.iterations == r.iterations);
    CHECK(same.v == r.v);
    opt.max_iter = r.iterations - 1;
    const PrincipalResult cut = principal_direction(*be, blk, nullptr, opt);
    CHECK(!cut.converged);
    CHECK(cut.iterations == r.iterations - 1);
    opt.max_iter = 1000;
    opt.tol = 1e-2;
    CHECK(principal_direction(*be, blk, nullptr, opt).iterations < r.iterations);
  }

  TEST_CASE("the iteration cap is honoured and an unconverged result still says so") {
    auto be = make_backend();
    const auto a = randn(200 * 100, 17);
    PrincipalOptions opt;
    opt.max_iter = 3;
    opt.tol = 1e-12;
    for (int block : {8, 1}) {
      CAPTURE(block);
      opt.block = block;
      const PrincipalResult r =
          principal_direction(*be, {{a.data(), 200, 100, false}}, nullptr, opt);
      CHECK(r.iterations == 3);
      CHECK(!r.converged);
      CHECK(r.residual > 1e-6);
    }
  }

  TEST_CASE("a zero matrix gives a unit vector with sigma 0 and no NaN") {
    auto be = make_backend();
    const std::vector<float> a(30 * 20, 0.0f);
    for (int block : {8, 1}) {
      CAPTURE(block);
      PrincipalOptions opt;
      opt.block = block;
      const PrincipalResult r = principal_direction(*be, {{a.data(), 30, 20, false}}, nullptr, opt);
      double nv = 0;
      for (float x : r.v) nv += double{x} * x;
      CHECK(nv == doctest::Approx(1.0));
      CHECK(r.sigma == 0.0);
      CHECK(r.residual == 0.0);
      CHECK(r.converged);
    }
  }
}
