// Manifold Power Iteration steps and retractions against independent double-precision and
// LAPACK computations.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>

#include "../lapack_oracle.hpp"
#include "core/error.hpp"
#include "recal/activation.hpp"
#include "recal/mpi.hpp"

using namespace moerecal;
using moerecal::test::randn;
using moerecal::test::svd;

namespace {

struct Operand {
  std::vector<float> first, second;  // gate, up [m, d]
};

struct Layer {
  analysis::RouterLayer router;
  std::vector<Operand> ops;
  analysis::BlockOperands source{{}};  // blocks over ops
};

// E experts with gate/up [m, d] and a router [E, d].
Layer make_layer(int n_experts, int d, int m, unsigned seed) {
  Layer l;
  l.router.layer = 0;
  l.router.tensor = "model.layers.0.mlp.gate.weight";
  l.router.n_experts = n_experts;
  l.router.hidden = d;
  l.router.rows = randn(std::size_t(n_experts) * d, seed, 0.5f);
  std::vector<analysis::Blocks> blocks;
  for (int e = 0; e < n_experts; ++e) {
    l.ops.push_back(
        {randn(std::size_t(m) * d, seed * 31 + e), randn(std::size_t(m) * d, seed * 37 + e)});
  }
  for (const Operand& op : l.ops) {
    blocks.push_back({{op.first.data(), m, d, false}, {op.second.data(), m, d, false}});
  }
  l.source = analysis::BlockOperands(std::move(blocks));
  return l;
}

double norm(const float* x, int n) {
  double s = 0;
  for (int i = 0; i < n; ++i) s += double{x[i]} * x[i];
  return std::sqrt(s);
}

// (gate^T gate + up^T up) r for expert e's router row, in double.
std::vector<double> gram_step(const Layer& l, int e, int d, int m) {
  std::vector<double> y(d, 0.0);
  const float* r = l.router.rows.data() + std::size_t(e) * d;
  for (const auto* w : {&l.ops[e].first, &l.ops[e].second}) {
    for (int i = 0; i < m; ++i) {
      double t = 0;
      for (int j = 0; j < d; ++j) t += double{(*w)[std::size_t(i) * d + j]} * r[j];
      for (int j = 0; j < d; ++j) y[j] += double{(*w)[std::size_t(i) * d + j]} * t;
    }
  }
  return y;
}

}  // namespace

TEST_SUITE("recal") {
  TEST_CASE("one step is r <- rho * A r / ||A r|| with A = gate^T gate + up^T up") {
    const int E = 4, d = 12, m = 7;
    Layer l = make_layer(E, d, m, 3);
    auto be = linalg::make_backend();
    recal::MpiOptions opt;
    opt.radius = recal::parse_radius("2.5");
    const auto res = recal::mpi_layer(*be, l.router, l.source, opt);
    CHECK(res.steps_done == 1);
    for (int e = 0; e < E; ++e) {
      std::vector<double> y = gram_step(l, e, d, m);
      double ny = 0;
      for (double v : y) ny += v * v;
      ny = std::sqrt(ny);
      for (int j = 0; j < d; ++j) {
        CHECK(res.rows[std::size_t(e) * d + j] == doctest::Approx(2.5 * y[j] / ny).epsilon(1e-4));
      }
    }
  }

  // The step in f64 rounds once: every entry within one f32 unit in the last place of a float64
  // step (so also of the stored BF16/F16 one), on rows long enough for f32 sums to drift, with
  // the activation operator's C as well.
  TEST_CASE("one step agrees with a float64 step to the last place of each f32 entry") {
    const int E = 3, d = 700, m = 300, n = 500;
    Layer l = make_layer(E, d, m, 5);
    auto be = linalg::make_backend();
    const std::vector<float> x = randn(std::size_t(n) * d, 77);
    const recal::ActivationMetric act = recal::activation_metric(*be, x.data(), n, d, 0.1, true);
    for (const recal::ActivationMetric* metric :
         {static_cast<const recal::ActivationMetric*>(nullptr), &act}) {
      CAPTURE(metric != nullptr);
      recal::MpiOptions opt;
      opt.figures = false;
      const auto res = recal::mpi_layer(*be, l.router, l.source, opt, metric);
      double rho = 0;
      for (int e = 0; e < E; ++e) rho += norm(l.router.rows.data() + std::size_t(e) * d, d) / E;
      for (int e = 0; e < E; ++e) {
        std::vector<double> y = gram_step(l, e, d, m), cy(d, 0.0);
        if (metric) {
          for (int i = 0; i < d; ++i)
            for (int j = 0; j < d; ++j) cy[i] += double{act.c[std::size_t(i) * d + j]} * y[j];
          y = cy;
        }
        double ny = 0, flip = 0;  // the activation rule may flip the whole row (v^T C r_old >= 0)
        for (double v : y) ny += v * v;
        ny = std::sqrt(ny);
        for (int j = 0; j < d; ++j) flip += y[j] * res.rows[std::size_t(e) * d + j];
        int worst = 0;
        for (int j = 0; j < d; ++j) {
          const float want = static_cast<float>((flip < 0 ? -rho : rho) * y[j] / ny);
          const float got = res.rows[std::size_t(e) * d + j];
          worst = std::max(worst, std::abs(static_cast<int>(std::bit_cast<std::int32_t>(got) -
                                                            std::bit_cast<std::int32_t>(want))));
        }
        CHECK(worst <= 1);
      }
    }
  }

  // With C the experts' images are taken one expert read each and C multiplies all of them in one
  // product per step: N steps are N float64 steps (each rounded to f32, as the row is stored
  // between steps), then the sign rule r^T C r_old >= 0.
  TEST_CASE("steps with the activation operator are float64 steps r <- rho C A r / ||C A r||") {
    const int E = 5, d = 300, m = 40, n = 400;
    Layer l = make_layer(E, d, m, 8);
    auto be = linalg::make_backend();
    std::vector<float> x = randn(std::size_t(n) * d, 61);
    for (int t = 0; t < n; ++t)
      for (int j = 0; j < d; ++j) x[std::size_t(t) * d + j] *= 0.3f + 0.01f * j;
    const recal::ActivationMetric act = recal::activation_metric(*be, x.data(), n, d, 0.1, true);
    for (const recal::Retraction retraction :
         {recal::Retraction::kSphere, recal::Retraction::kStiefel}) {
      CAPTURE(retraction == recal::Retraction::kSphere);
      recal::MpiOptions opt;
      opt.steps = 3;
      opt.retraction = retraction;
      const auto res = recal::mpi_layer(*be, l.router, l.source, opt, &act);
      if (retraction == recal::Retraction::kStiefel) {  // the oracle: steps on the matrix
        std::vector<float> rows = l.router.rows;
        for (int s = 0; s < 3; ++s) {
          for (int e = 0; e < E; ++e) {
            Layer one = l;
            one.router.rows.assign(rows.begin(), rows.end());
            std::vector<double> y = gram_step(one, e, d, m);
            for (int i = 0; i < d; ++i) {
              double c = 0;
              for (int j = 0; j < d; ++j) c += double{act.c[std::size_t(i) * d + j]} * y[j];
              rows[std::size_t(e) * d + i] = static_cast<float>(c);
            }
          }
          double rho = 0;
          for (int e = 0; e < E; ++e) rho += norm(l.router.rows.data() + std::size_t(e) * d, d) / E;
          recal::stiefel_retract(*be, rows, E, d, rho);
        }
        // Each row equals the oracle's up to the sign the rule gives it: r^T C r_old >= 0.
        for (int e = 0; e < E; ++e) {
          CAPTURE(e);
          const float* want = rows.data() + std::size_t(e) * d;
          const float* got = res.rows.data() + std::size_t(e) * d;
          const float* old = l.router.rows.data() + std::size_t(e) * d;
          double flip = 0;
          for (int i = 0; i < d; ++i)
            for (int j = 0; j < d; ++j)
              flip += double{want[i]} * act.c[std::size_t(i) * d + j] * old[j];
          const double sign = flip < 0 ? -1.0 : 1.0;
          double worst = 0;
          for (int i = 0; i < d; ++i) worst = std::max(worst, std::abs(sign * want[i] - got[i]));
          CHECK(worst < 1e-5);
        }
        continue;
      }
      double rho = 0;
      for (int e = 0; e < E; ++e) rho += norm(l.router.rows.data() + std::size_t(e) * d, d) / E;
      for (int e = 0; e < E; ++e) {
        CAPTURE(e);
        Layer one = l;
        const float* old = l.router.rows.data() + std::size_t(e) * d;
        for (int s = 0; s < 3; ++s) {
          std::vector<double> y = gram_step(one, e, d, m), cy(d, 0.0);
          for (int i = 0; i < d; ++i)
            for (int j = 0; j < d; ++j) cy[i] += double{act.c[std::size_t(i) * d + j]} * y[j];
          double ny = 0;
          for (double v : cy) ny += v * v;
          for (int i = 0; i < d; ++i)
            one.router.rows[std::size_t(e) * d + i] =
                static_cast<float>(rho * cy[i] / std::sqrt(ny));
        }
        const float* want = one.router.rows.data() + std::size_t(e) * d;
        double flip = 0;  // sign rule: r^T C r_old >= 0
        for (int i = 0; i < d; ++i)
          for (int j = 0; j < d; ++j)
            flip += double{want[i]} * act.c[std::size_t(i) * d + j] * old[j];
        const double sign = flip < 0 ? -1.0 : 1.0;
        double diff = 0, agree = 0;
        for (int i = 0; i < d; ++i) {
          const double t = sign * want[i] - res.rows[std::size_t(e) * d + i];
          diff += t * t;
          agree += double{res.rows[std::size_t(e) * d + i]} * (flip < 0 ? -1.0 : 1.0) * want[i];
        }
        CHECK(std::sqrt(diff) / rho < 1e-6);
        CHECK(agree > 0);
      }
    }
  }

  TEST_CASE("radius mean and keep") {
    Layer l = make_layer(5, 10, 6, 4);
    auto be = linalg::make_backend();
    std::vector<double> own;
    double mean = 0;
    for (int e = 0; e < 5; ++e) {
      own.push_back(norm(l.router.rows.data() + e * 10, 10));
      mean += own.back() / 5;
    }
    recal::MpiOptions opt;
    opt.steps = 3;
    auto res = recal::mpi_layer(*be, l.router, l.source, opt);
    for (int e = 0; e < 5; ++e) CHECK(norm(res.rows.data() + e * 10, 10) == doctest::Approx(mean));
    opt.radius = recal::parse_radius("keep");
    res = recal::mpi_layer(*be, l.router, l.source, opt);
    for (int e = 0; e < 5; ++e)
      CHECK(norm(res.rows.data() + e * 10, 10) == doctest::Approx(own[e]));
  }

  TEST_CASE("steps converge reaches rho * v_e (LAPACK) / sign towards the inherited row") {
    const int E = 3, d = 16, m = 9;
    Layer l = make_layer(E, d, m, 5);
    auto be = linalg::make_backend();
    recal::MpiOptions opt;
    opt.steps = recal::kConverge;
    opt.solver.tol = 1e-9;
    const auto res = recal::mpi_layer(*be, l.router, l.source, opt);
    for (int e = 0; e < E; ++e) {
      std::vector<double> a(std::size_t(2 * m) * d);
      for (std::size_t i = 0; i < l.ops[e].first.size(); ++i) a[i] = l.ops[e].first[i];
      for (std::size_t i = 0; i < l.ops[e].second.size(); ++i)
        a[l.ops[e].first.size() + i] = l.ops[e].second[i];
      std::vector<double> s, u, vt;
      svd(a, 2 * m, d, s, u, vt);
      const float* r = res.rows.data() + std::size_t(e) * d;
      const float* r0 = l.router.rows.data() + std::size_t(e) * d;
      double c = 0, sign = 0;
      for (int j = 0; j < d; ++j) {
        c += r[j] * vt[j];
        sign += r[j] * double{r0[j]};
      }
      CHECK(std::abs(c) / norm(r, d) >= 0.9999);
      CHECK(sign >= 0);
    }
  }

  // Oracle written from DESIGN.md §1 in double: C = (1-l) (X - mu)^T (X - mu) / n + l tr/d I
  // (mu = 0 uncentred); v_e is the top eigenvector of C W^T W, i.e. C^1/2 z with z the top right
  // singular vector of W C^1/2 (LAPACK). The tool takes a Cholesky factor L instead of C^1/2, and
  // C^1/2 from an eigendecomposition only where C is singular: with lambda = 0 and one input
  // coordinate always 0, C has an exact zero pivot.
  void check_activation_directions(bool centred, bool singular) {
    CAPTURE(centred);
    CAPTURE(singular);
    const int E = 3, d = 20, m = 7, n = 150;
    const double lambda = singular ? 0.0 : 0.1;
    Layer l = make_layer(E, d, m, 11);
    std::vector<float> x = randn(std::size_t(n) * d, 99);
    for (int t = 0; t < n; ++t)  // anisotropic inputs with a mean, so C and centring matter
      for (int j = 0; j < d; ++j)
        x[std::size_t(t) * d + j] = x[std::size_t(t) * d + j] * (0.2f + 0.1f * j) + 0.05f * j;
    for (int t = 0; t < n && singular; ++t) x[std::size_t(t) * d + 3] = 0.0f;
    auto be = linalg::make_backend();
    const recal::ActivationMetric act =
        recal::activation_metric(*be, x.data(), n, d, lambda, centred);
    linalg::PrincipalOptions opt;
    opt.tol = 1e-10;
    const auto dirs = recal::operator_directions(*be, l.router, l.source, opt, &act);
    recal::MpiOptions converge;  // the sphere retraction's own solves, one per expert read
    converge.solver = opt;
    converge.steps = recal::kConverge;
    const auto sphere = recal::mpi_layer(*be, l.router, l.source, converge, &act);
    REQUIRE(sphere.dirs.size() == std::size_t(E));
    std::vector<double> mu(d, 0.0), c(std::size_t(d) * d, 0.0);
    for (int t = 0; t < n && centred; ++t)
      for (int j = 0; j < d; ++j) mu[j] += double{x[std::size_t(t) * d + j]} / n;
    for (int t = 0; t < n; ++t)
      for (int i = 0; i < d; ++i)
        for (int j = 0; j < d; ++j)
          c[std::size_t(i) * d + j] +=
              (x[std::size_t(t) * d + i] - mu[i]) * (x[std::size_t(t) * d + j] - mu[j]) / n;
    double tr = 0;
    for (int i = 0; i < d; ++i) tr += c[std::size_t(i) * d + i];
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j)
        c[std::size_t(i) * d + j] =
            (1 - lambda) * c[std::size_t(i) * d + j] + (i == j ? lambda * tr / d : 0);
    double c_err = 0;  // C itself, as reported
    for (int i = 0; i < d * d; ++i) c_err = std::max(c_err, std::abs(c[i] - act.c[i]));
    CHECK(c_err < 1e-5);
    double ff_err = 0, upper = 0, asym = 0;  // F F^T = C; F lower triangular, or C^1/2 (symmetric)
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) {
        double ff = 0;
        for (int k = 0; k < d; ++k) ff += double{act.factor[i * d + k]} * act.factor[j * d + k];
        ff_err = std::max(ff_err, std::abs(ff - c[std::size_t(i) * d + j]));
        if (j > i) upper = std::max(upper, double{std::abs(act.factor[i * d + j])});
        asym = std::max(asym, double{std::abs(act.factor[i * d + j] - act.factor[j * d + i])});
        if (!act.lower) CHECK(act.factor_t[j * d + i] == act.factor[i * d + j]);
      }
    }
    CHECK(ff_err < 1e-5);
    CHECK(act.lower == !singular);  // the Cholesky factor alone, or C^1/2 and its copy
    CHECK(act.factor_t.size() == (singular ? act.factor.size() : 0));
    if (singular) {
      CHECK(asym < 1e-6);
    } else {
      CHECK(upper == 0.0);
    }
    std::vector<double> cs, cu, cvt, half(std::size_t(d) * d, 0.0);
    svd(c, d, d, cs, cu, cvt);  // C symmetric positive definite: C = U S U^T
    for (int i = 0; i < d; ++i)
      for (int j = 0; j < d; ++j)
        for (int k = 0; k < d; ++k)
          half[std::size_t(i) * d + j] +=
              cu[std::size_t(i) * d + k] * std::sqrt(cs[k]) * cu[std::size_t(j) * d + k];
    for (int e = 0; e < E; ++e) {
      CAPTURE(e);
      std::vector<double> b(std::size_t(2 * m) * d, 0.0);  // [gate; up] C^1/2
      for (int r = 0; r < 2 * m; ++r) {
        const float* w = r < m ? l.ops[e].first.data() + std::size_t(r) * d
                               : l.ops[e].second.data() + std::size_t(r - m) * d;
        for (int j = 0; j < d; ++j)
          for (int k = 0; k < d; ++k)
            b[std::size_t(r) * d + j] += w[k] * half[std::size_t(k) * d + j];
      }
      std::vector<double> s, u, vt, v(d, 0.0);
      svd(b, 2 * m, d, s, u, vt);
      for (int i = 0; i < d; ++i)
        for (int k = 0; k < d; ++k) v[i] += half[std::size_t(i) * d + k] * vt[k];
      for (const float* got :
           {dirs[e].v.data(), sphere.dirs[e].v.data(), sphere.rows.data() + std::size_t(e) * d}) {
        double dot = 0, nv = 0, ng = 0, sign = 0;
        for (int i = 0; i < d; ++i) {
          dot += v[i] * got[i];
          nv += v[i] * v[i];
          ng += double{got[i]} * got[i];
          sign += double{got[i]} * l.router.rows[std::size_t(e) * d + i];
        }
        CHECK(std::abs(dot) / std::sqrt(nv * ng) >= 1 - 1e-5);
        CHECK(sign >= 0);
      }
    }
  }

  TEST_CASE(
      "activation-aware directions are the top eigenvectors of C W^T W, centred or not, through a "
      "Cholesky factor of C or, for a singular C, its square root") {
    for (bool singular : {false, true}) {
      check_activation_directions(false, singular);
      check_activation_directions(true, singular);
    }
  }

  TEST_CASE("stiefel retraction equals rho * U V^T of the SVD (polar factor)") {
    const int E = 5, d = 9;
    std::vector<float> rows = randn(std::size_t(E) * d, 11);
    std::vector<double> a(rows.begin(), rows.end()), s, u, vt;
    svd(a, E, d, s, u, vt);
    auto be = linalg::make_backend();
    recal::stiefel_retract(*be, rows, E, d, 1.5);
    for (int i = 0; i < E; ++i) {
      for (int j = 0; j < d; ++j) {
        double p = 0;
        for (int k = 0; k < E; ++k) p += u[std::size_t(i) * E + k] * vt[std::size_t(k) * d + j];
        CHECK(rows[std::size_t(i) * d + j] == doctest::Approx(1.5 * p).epsilon(1e-4));
      }
    }
  }

  TEST_CASE("stiefel refuses E > d") {
    Layer l = make_layer(6, 4, 3, 7);
    auto be = linalg::make_backend();
    recal::MpiOptions opt;
    opt.retraction = recal::Retraction::kStiefel;
    CHECK_THROWS_WITH_AS(recal::mpi_layer(*be, l.router, l.source, opt),
                         doctest::Contains("6 experts"), UsageError);
  }

  TEST_CASE("option parsing") {
    CHECK(recal::parse_steps("converge") == recal::kConverge);
    CHECK(recal::parse_steps("4") == 4);
    CHECK(recal::parse_steps("0") == 0);  // rows untouched (--refit-bias alone)
    CHECK_THROWS_AS(recal::parse_steps("-1"), UsageError);
    CHECK_THROWS_AS(recal::parse_steps("two"), UsageError);
    CHECK(recal::parse_radius("mean").kind == recal::Radius::Kind::kMean);
    CHECK(recal::parse_radius("0.75").value == doctest::Approx(0.75));
    CHECK_THROWS_AS(recal::parse_radius("-1"), UsageError);
    CHECK_THROWS_AS(recal::parse_radius("1x"), UsageError);
  }
}
