// Power-of-two scaling before the solver's products: huge or tiny but finite weights give the
// direction the same weights at ordinary scale give, with sigma scaled back, and never NaN.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "../lapack_oracle.hpp"
#include "linalg/principal.hpp"
#include "linalg/scaled_blocks.hpp"

using namespace moerecal::linalg;
using moerecal::test::randn;

TEST_SUITE("linalg") {
  TEST_CASE("range_exponent: 0 within 2^-16 .. 2^16, else the exponent of the largest entry") {
    const std::vector<float> ordinary = {0.5f, -3.0f, 1e-3f}, zero(4, 0.0f);
    CHECK(range_exponent(ordinary.data(), ordinary.size()) == 0);
    CHECK(range_exponent(zero.data(), zero.size()) == 0);
    const std::vector<float> huge = {1.0f, -std::ldexp(0.75f, 100)}, tiny = {std::ldexp(1.0f, -40)};
    CHECK(range_exponent(huge.data(), huge.size()) == 100);
    CHECK(range_exponent(tiny.data(), tiny.size()) == -39);
  }

  TEST_CASE("huge, near-f32-max and tiny weights: same direction as at scale 1, sigma scaled") {
    auto be = make_backend();
    const int m = 48, n = 32;
    const std::vector<float> a = randn(std::size_t(m) * n, 17), g = randn(std::size_t(m) * n, 18);
    const PrincipalResult ref =
        principal_direction(*be, {{a.data(), m, n, false}, {g.data(), m, n, false}}, nullptr);
    for (int e : {100, 125, -60}) {
      CAPTURE(e);
      std::vector<float> as(a.size()), gs(g.size());
      for (std::size_t i = 0; i < a.size(); ++i) as[i] = std::ldexp(a[i], e);
      for (std::size_t i = 0; i < g.size(); ++i) gs[i] = std::ldexp(g[i], e);
      const PrincipalResult r =
          principal_direction(*be, {{as.data(), m, n, false}, {gs.data(), m, n, false}}, nullptr);
      REQUIRE(r.v.size() == ref.v.size());
      for (std::size_t i = 0; i < r.v.size(); ++i) CHECK(r.v[i] == doctest::Approx(ref.v[i]));
      CHECK(std::isfinite(r.sigma));
      CHECK(r.sigma == doctest::Approx(std::ldexp(ref.sigma, e)));
      CHECK(r.converged);
    }
  }

  TEST_CASE("one entry at the f32 maximum among ordinary ones: a finite unit direction") {
    auto be = make_backend();
    const int m = 24, n = 16;
    std::vector<float> a = randn(std::size_t(m) * n, 3);
    a[5 * n + 7] = std::numeric_limits<float>::max();
    const PrincipalResult r = principal_direction(*be, {{a.data(), m, n, false}}, nullptr);
    CHECK(std::abs(r.v[7]) == doctest::Approx(1.0).epsilon(1e-6));  // dominated by that column
    CHECK(r.sigma == doctest::Approx(std::numeric_limits<float>::max()).epsilon(1e-4));
  }

  TEST_CASE("a metric, huge or not, its exponent given once: M^T A M's top direction (LAPACK)") {
    // Oracle: the top right singular vector of W M and its singular value, from an SVD in double.
    auto be = make_backend();
    const int m = 40, n = 24;
    const std::vector<float> a = randn(std::size_t(m) * n, 31), r = randn(std::size_t(n) * n, 32);
    std::vector<float> l(std::size_t(n) * n, 0.0f), lt(l.size());  // lower triangular M, and M^T
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j <= i; ++j) {
        l[i * n + j] = (i == j ? 2.0f : 0.0f) + 0.3f * r[i * n + j];
        lt[j * n + i] = l[i * n + j];
      }
    }
    std::vector<double> wm(std::size_t(m) * n, 0.0), sv, u, vt;
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j)
        for (int k = j; k < n; ++k) wm[i * n + j] += double{a[i * n + k]} * l[k * n + j];
    moerecal::test::svd(wm, m, n, sv, u, vt);
    for (int scale : {0, 70}) {
      CAPTURE(scale);
      std::vector<float> ls(l.size()), lts(l.size());
      for (std::size_t i = 0; i < l.size(); ++i) {
        ls[i] = std::ldexp(l[i], scale);
        lts[i] = std::ldexp(lt[i], scale);
      }
      // As a full matrix with its transpose, and as a triangular one alone (M^T never read), in
      // the block solver and in the Krylov solver (block 1, one column per product).
      for (const bool lower : {false, true}) {
        for (const int block : {8, 1}) {
          CAPTURE(lower);
          CAPTURE(block);
          const Metric metric{ls.data(), lower ? nullptr : lts.data(),
                              range_exponent(ls.data(), ls.size()), lower};
          CHECK(metric.exponent == (scale == 0 ? 0 : 72));
          PrincipalOptions opt;
          opt.block = block;
          opt.tol = 1e-9;
          const PrincipalResult got =
              principal_direction(*be, {{a.data(), m, n, false}}, nullptr, opt, &metric);
          double dot = 0;
          for (int j = 0; j < n; ++j) dot += got.v[j] * vt[j];
          CHECK(std::abs(dot) >= 1 - 1e-6);
          CHECK(std::isfinite(got.sigma));
          CHECK(got.sigma == doctest::Approx(std::ldexp(sv[0], scale)).epsilon(1e-5));
        }
      }
    }
  }

  // Several operators sharing a triangular metric, solved side by side (block 1: each Krylov
  // iteration multiplies the metric once for every unconverged solve). Oracle: each operator's
  // top right singular vector of op(W) M and its singular value from an SVD in double. The
  // operators differ in rows, stacking, transposition and scale (one at 2^40, the metric at 2^70
  // in the second round), so they converge after different numbers of products and the batch
  // shrinks as it goes; each result must also equal, bit for bit, the solve of its operator alone.
  TEST_CASE("principal_direction_batch: each operator against LAPACK and equal to its own solve") {
    auto be = make_backend();
    const int n = 24;
    const std::vector<float> r = randn(std::size_t(n) * n, 41);
    std::vector<float> l(std::size_t(n) * n, 0.0f);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j <= i; ++j) l[i * n + j] = (i == j ? 2.0f : 0.0f) + 0.3f * r[i * n + j];
    // op(W) of each operator as [rows x n]: 40, 12, 30 + 20 stacked, down-style [n x 16]^T, 50
    const std::vector<std::vector<float>> w = {
        randn(40 * n, 42), randn(12 * n, 43), randn(30 * n, 44),
        randn(20 * n, 45), randn(n * 16, 46), randn(50 * n, 47, std::ldexp(1.0f, 40))};
    const std::vector<std::vector<MatrixBlock>> sets = {
        {{w[0].data(), 40, n, false}},
        {{w[1].data(), 12, n, false}},
        {{w[2].data(), 30, n, false}, {w[3].data(), 20, n, false}},
        {{w[4].data(), 16, n, true}},
        {{w[5].data(), 50, n, false}}};
    const std::vector<float> ref = randn(n, 48);
    std::vector<const std::vector<MatrixBlock>*> views;
    for (const auto& set : sets) views.push_back(&set);
    const std::vector<const float*> refs = {ref.data(), nullptr, ref.data(), nullptr, ref.data()};
    for (int scale : {0, 70}) {
      std::vector<float> ls(l.size());
      for (std::size_t i = 0; i < l.size(); ++i) ls[i] = std::ldexp(l[i], scale);
      const Metric metric{ls.data(), nullptr, range_exponent(ls.data(), ls.size()), true};
      for (const double tol : {1e-9, 1e-2}) {
        PrincipalOptions opt;
        opt.block = 1;
        opt.tol = tol;
        const std::vector<PrincipalResult> got =
            principal_direction_batch(*be, views, refs, opt, &metric);
        REQUIRE(got.size() == sets.size());
        const auto [fewest, most] = std::minmax_element(
            got.begin(), got.end(),
            [](const auto& a, const auto& b) { return a.iterations < b.iterations; });
        CHECK(fewest->iterations < most->iterations);  // the batch shrank on the way
        for (std::size_t e = 0; e < sets.size(); ++e) {
          CAPTURE(scale);
          CAPTURE(tol);
          CAPTURE(e);
          const PrincipalResult alone = principal_direction(*be, sets[e], refs[e], opt, &metric);
          CHECK(got[e].v == alone.v);
          CHECK(got[e].sigma == alone.sigma);
          CHECK(got[e].iterations == alone.iterations);
          CHECK(got[e].converged);
          // op(W) M in double, from the stacked op(W)
          std::vector<double> wm;
          int rows = 0;
          for (const MatrixBlock& b : sets[e]) {
            for (int i = 0; i < b.rows; ++i, ++rows) {
              for (int j = 0; j < n; ++j) {
                double s = 0;
                for (int k = j; k < n; ++k) {
                  const float wik = b.transposed ? b.data[k * b.rows + i] : b.data[i * n + k];
                  s += double{wik} * ls[k * n + j];
                }
                wm.push_back(s);
              }
            }
          }
          std::vector<double> sv, u, vt;
          moerecal::test::svd(wm, rows, n, sv, u, vt);
          double dot = 0;
          for (int j = 0; j < n; ++j) dot += got[e].v[j] * vt[j];
          CHECK(std::abs(dot) >= (tol < 1e-6 ? 1 - 1e-6 : 0.999));
          CHECK(got[e].sigma == doctest::Approx(sv[0]).epsilon(tol < 1e-6 ? 1e-5 : 1e-3));
        }
      }
    }
  }
}
