#include "recal/mpi.hpp"

#include <cmath>
#include <cstdlib>

#include "analysis/directions.hpp"
#include "analysis/vectors.hpp"
#include "core/error.hpp"

namespace moerecal::recal {
namespace {

using analysis::ExpertOperand;
using analysis::norm;
using analysis::RouterLayer;

std::vector<double> target_radius(const RouterLayer& r, const Radius& spec) {
  const int n = r.n_experts, d = r.hidden;
  std::vector<double> own(n), out(n);
  double mean = 0;
  for (int e = 0; e < n; ++e) {
    own[e] = norm(r.rows.data() + std::size_t(e) * d, d);
    mean += own[e] / n;
  }
  for (int e = 0; e < n; ++e) {
    out[e] = spec.kind == Radius::Kind::kKeep   ? own[e]
             : spec.kind == Radius::Kind::kMean ? mean
                                                : spec.value;
  }
  return out;
}

// One power step on every row: r_e <- A_e r_e (times C for the activation operator).
void power_step(linalg::Backend& main, const std::vector<ExpertOperand>& ops,
                const ActivationMetric* act, std::vector<float>& rows, int d, int layer) {
  main.parallel_for(static_cast<int>(ops.size()), [&](int e, linalg::Backend& be) {
    std::vector<float> y(d), cy(d);
    float* r = rows.data() + std::size_t(e) * d;
    analysis::apply_operator(be, ops[e].blocks, r, y.data());
    if (act) {
      be.gemm(linalg::Trans::kNo, linalg::Trans::kNo, d, 1, d, 1.0f, act->c.data(), d, y.data(), 1,
              0.0f, cy.data(), 1);
      y.swap(cy);
    }
    if (!(norm(y.data(), d) > 0)) {
      throw BackendError("layer " + std::to_string(layer) + ": expert " + std::to_string(e) +
                         ": power step gave a zero or non-finite row");
    }
    std::copy(y.begin(), y.end(), r);
  });
}

void sphere_retract(std::vector<float>& rows, int d, const std::vector<double>& radius) {
  for (std::size_t e = 0; e < radius.size(); ++e) {
    float* r = rows.data() + e * d;
    const double s = radius[e] / norm(r, d);
    for (int i = 0; i < d; ++i) r[i] = static_cast<float>(r[i] * s);
  }
}

double max_row_change(const std::vector<float>& a, const std::vector<float>& b, int d,
                      const std::vector<double>& radius) {
  double worst = 0;
  for (std::size_t e = 0; e < radius.size(); ++e) {
    double s = 0;
    for (int i = 0; i < d; ++i) {
      const double t = double{a[e * d + i]} - b[e * d + i];
      s += t * t;
    }
    worst = std::max(worst, std::sqrt(s) / radius[e]);
  }
  return worst;
}

}  // namespace

Radius parse_radius(const std::string& s) {
  if (s == "mean") return {Radius::Kind::kMean, 0};
  if (s == "keep") return {Radius::Kind::kKeep, 0};
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0) || !std::isfinite(v)) {
    throw UsageError("expected mean, keep or a positive number, found '" + s + "'");
  }
  return {Radius::Kind::kValue, v};
}

int parse_steps(const std::string& s) {
  if (s == "converge") return 0;
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < 1 || v > 1000000) {
    throw UsageError("expected a positive integer or 'converge', found '" + s + "'");
  }
  return static_cast<int>(v);
}

void stiefel_retract(linalg::Backend& be, std::vector<float>& rows, int n, int d, double rho) {
  std::vector<double> g(std::size_t(n) * n), w(n);
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b <= a; ++b) {
      double s = 0;
      for (int i = 0; i < d; ++i)
        s += double{rows[std::size_t(a) * d + i]} * rows[std::size_t(b) * d + i];
      g[std::size_t(a) * n + b] = g[std::size_t(b) * n + a] = s;
    }
  }
  be.syev(n, g.data(), w.data());  // g now holds eigenvectors, one per column
  if (!(w[0] > 1e-12 * w[n - 1])) {
    throw BackendError(
        "stiefel retraction: router rows are linearly dependent (smallest "
        "eigenvalue of R R^T is " +
        std::to_string(w[0]) + ")");
  }
  // M = U diag(rho / sqrt(w)) U^T, then R <- M R
  std::vector<float> m(std::size_t(n) * n);
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) {
      double s = 0;
      for (int k = 0; k < n; ++k)
        s += g[std::size_t(a) * n + k] * g[std::size_t(b) * n + k] / std::sqrt(w[k]);
      m[std::size_t(a) * n + b] = static_cast<float>(rho * s);
    }
  }
  std::vector<float> out(rows.size());
  be.gemm(linalg::Trans::kNo, linalg::Trans::kNo, n, d, n, 1.0f, m.data(), n, rows.data(), d, 0.0f,
          out.data(), d);
  rows.swap(out);
}

std::vector<linalg::PrincipalResult> operator_directions(linalg::Backend& be,
                                                         const RouterLayer& router,
                                                         const std::vector<ExpertOperand>& ops,
                                                         const linalg::PrincipalOptions& opt,
                                                         const ActivationMetric* act) {
  if (act == nullptr) return analysis::principal_directions(be, router.rows, ops, opt);
  const int n = router.n_experts, d = router.hidden;
  std::vector<linalg::PrincipalResult> dirs(n);
  be.parallel_for(n, [&](int e, linalg::Backend& wbe) {
    // u: top eigenvector of C^1/2 W^T W C^1/2, signed towards C^1/2 r; v = C^1/2 u, normalised.
    const float* r = router.rows.data() + std::size_t(e) * d;
    std::vector<float> ref(d), v(d);
    wbe.gemm(linalg::Trans::kNo, linalg::Trans::kNo, d, 1, d, 1.0f, act->c_half.data(), d, r, 1,
             0.0f, ref.data(), 1);
    dirs[e] = linalg::principal_direction(wbe, ops[e].blocks, ref.data(), opt, act->c_half.data());
    wbe.gemm(linalg::Trans::kNo, linalg::Trans::kNo, d, 1, d, 1.0f, act->c_half.data(), d,
             dirs[e].v.data(), 1, 0.0f, v.data(), 1);
    const double nv = norm(v.data(), d);
    for (int i = 0; i < d; ++i) v[i] = static_cast<float>(v[i] / nv);
    dirs[e].v = v;
  });
  return dirs;
}

namespace {

// --steps converge with the sphere retraction: the fixed point rho * v_e, v_e signed towards r_e.
void set_fixed_point(LayerMpiResult& res, int n, int d) {
  for (int e = 0; e < n; ++e) {
    for (int i = 0; i < d; ++i)
      res.rows[std::size_t(e) * d + i] = static_cast<float>(res.radius[e] * res.dirs[e].v[i]);
  }
  res.steps_done = res.dirs.empty() ? 0 : res.dirs[0].iterations;
}

// Power-then-retract steps: opt.steps of them, or until the rows stop moving (converge).
void run_steps(linalg::Backend& be, const RouterLayer& router,
               const std::vector<ExpertOperand>& ops, const MpiOptions& opt,
               const ActivationMetric* act, LayerMpiResult& res) {
  const int n = router.n_experts, d = router.hidden;
  const int cap = opt.steps == 0 ? opt.converge_cap : opt.steps;
  for (int s = 0; s < cap; ++s) {
    const std::vector<float> before = res.rows;
    power_step(be, ops, act, res.rows, d, router.layer);
    if (opt.retraction == Retraction::kStiefel) {
      stiefel_retract(be, res.rows, n, d, res.radius[0]);
    } else {
      sphere_retract(res.rows, d, res.radius);
    }
    res.steps_done = s + 1;
    if (opt.steps == 0 && max_row_change(before, res.rows, d, res.radius) < opt.solver.tol) break;
  }
}

}  // namespace

LayerMpiResult mpi_layer(linalg::Backend& be, const RouterLayer& router,
                         const std::vector<ExpertOperand>& ops, const MpiOptions& opt,
                         const ActivationMetric* act) {
  const int n = router.n_experts, d = router.hidden;
  MR_ASSERT(ops.size() == static_cast<std::size_t>(n));
  if (opt.retraction == Retraction::kStiefel && n > d) {
    throw UsageError("the stiefel retraction needs n_experts <= hidden_size, but layer " +
                     std::to_string(router.layer) + " has " + std::to_string(n) + " experts and " +
                     "hidden size " + std::to_string(d));
  }
  LayerMpiResult res;
  res.radius = target_radius(router, opt.radius);
  if (opt.retraction == Retraction::kStiefel) {  // one radius for the whole matrix
    double mean = 0;
    for (double r : res.radius) mean += r / n;
    res.radius.assign(n, mean);
  }
  res.dirs = operator_directions(be, router, ops, opt.solver, act);
  res.rows = router.rows;
  if (opt.steps == 0 && opt.retraction == Retraction::kSphere) {
    set_fixed_point(res, n, d);
  } else {
    run_steps(be, router, ops, opt, act, res);
  }
  return res;
}

}  // namespace moerecal::recal
