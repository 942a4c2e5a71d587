#include "recal/mpi.hpp"

#include <cmath>

#include "analysis/directions.hpp"
#include "analysis/vectors.hpp"
#include "core/error.hpp"

namespace moerecal::recal {
namespace {

using analysis::Blocks;
using analysis::norm;
using analysis::OperandSource;
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

// One power step on row r of expert e, r <- A_e r (times C for the activation operator), in f64
// (f32 weights cannot overflow it), the row then set to length `length`: rounded once, so it
// agrees with a float64 step to the last place. length 0 keeps the raw image (the Stiefel
// retraction reads the rows' own lengths), unit length where it would not fit f32.
void power_step(linalg::Backend& be, const Blocks& blocks, const ActivationMetric* act, float* r,
                int d, double length, int layer, int e) {
  const std::vector<double> x(r, r + d);
  std::vector<double> y(d);
  analysis::apply_operator(be, blocks, x.data(), y.data());
  if (act) {
    std::vector<double> cy(d);
    be.gemv_f64(linalg::Trans::kNo, d, d, act->c.data(), d, y.data(), 0.0, cy.data());
    y.swap(cy);
  }
  double n2 = 0;
  for (double v : y) n2 += v * v;
  const double n = std::sqrt(n2);
  if (!(n > 0) || !std::isfinite(n)) {
    throw BackendError("layer " + std::to_string(layer) + ": expert " + std::to_string(e) +
                       ": power step gave a zero or non-finite row");
  }
  const double s = length > 0 ? length / n : (n > 1e30 ? 1.0 / n : 1.0);
  for (int i = 0; i < d; ++i) r[i] = static_cast<float>(y[i] * s);
}

// v_e of A_e for one expert, signed towards router row r.
linalg::PrincipalResult expert_direction(linalg::Backend& be, const Blocks& blocks, const float* r,
                                         int d, const linalg::PrincipalOptions& opt,
                                         const ActivationMetric* act) {
  if (act == nullptr) return linalg::principal_direction(be, blocks, r, opt);
  // u: top eigenvector of F^T W^T W F (C = F F^T); v = F u, normalised, signed so that
  // v^T C r >= 0, i.e. u^T F^T (C r) >= 0: u is signed towards F^T C r.
  const float* f = act->factor.data();
  std::vector<float> cr(d), ref(d), v(d);
  be.gemm(linalg::Trans::kNo, linalg::Trans::kNo, d, 1, d, 1.0f, act->c.data(), d, r, 1, 0.0f,
          cr.data(), 1);
  be.gemm(linalg::Trans::kNo, linalg::Trans::kNo, d, 1, d, 1.0f, act->factor_t.data(), d, cr.data(),
          1, 0.0f, ref.data(), 1);
  const linalg::Metric metric = act->metric();
  linalg::PrincipalResult res = linalg::principal_direction(be, blocks, ref.data(), opt, &metric);
  be.gemm(linalg::Trans::kNo, linalg::Trans::kNo, d, 1, d, 1.0f, f, d, res.v.data(), 1, 0.0f,
          v.data(), 1);
  const double nv = norm(v.data(), d);
  for (int i = 0; i < d; ++i) v[i] = static_cast<float>(v[i] / nv);
  res.v = v;
  return res;
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

// The activation rule's sign for a row after power steps: r^T C r_old >= 0 (the new row scores
// the calibration tokens like the old one); with C = I power steps keep it by themselves.
void sign_like_old(linalg::Backend& be, const ActivationMetric* act, const float* old, float* r,
                   int d) {
  if (act == nullptr) return;
  std::vector<float> c_old(d);
  be.gemm(linalg::Trans::kNo, linalg::Trans::kNo, d, 1, d, 1.0f, act->c.data(), d, old, 1, 0.0f,
          c_old.data(), 1);
  if (analysis::dot(r, c_old.data(), d) >= 0) return;
  for (int i = 0; i < d; ++i) r[i] = -r[i];
}

// Sphere retraction: each expert read once for its direction and its `opt.steps` steps (rows are
// independent); converge puts the row at rho * v_e.
void sphere_layer(linalg::Backend& be, const RouterLayer& router, const OperandSource& ops,
                  const MpiOptions& opt, const ActivationMetric* act, LayerMpiResult& res) {
  const int d = router.hidden;
  res.dirs.resize(router.n_experts);
  be.parallel_for(router.n_experts, [&](int e, linalg::Backend& wbe) {
    ops.with(e, [&](const Blocks& blocks) {
      float* r = res.rows.data() + std::size_t(e) * d;
      if (opt.needs_directions()) {
        res.dirs[e] = expert_direction(wbe, blocks, router.rows.data() + std::size_t(e) * d, d,
                                       opt.solver, act);
      }
      if (opt.steps == kConverge) {
        for (int i = 0; i < d; ++i) r[i] = static_cast<float>(res.radius[e] * res.dirs[e].v[i]);
        return;
      }
      for (int s = 0; s < opt.steps; ++s) {
        power_step(wbe, blocks, act, r, d, res.radius[e], router.layer, e);
      }
      sign_like_old(wbe, act, router.rows.data() + std::size_t(e) * d, r, d);
    });
  });
  if (!opt.needs_directions()) res.dirs.clear();
  res.steps_done = opt.steps > 0 ? opt.steps : (res.dirs.empty() ? 0 : res.dirs[0].iterations);
  for (const auto& dir : res.dirs) res.converged = res.converged && dir.converged;
}

// Stiefel retraction couples the rows: every step reads every expert once.
void stiefel_layer(linalg::Backend& be, const RouterLayer& router, const OperandSource& ops,
                   const MpiOptions& opt, const ActivationMetric* act, LayerMpiResult& res) {
  const int n = router.n_experts, d = router.hidden;
  if (opt.needs_directions()) res.dirs = operator_directions(be, router, ops, opt.solver, act);
  const int cap = opt.steps == kConverge ? opt.converge_cap : opt.steps;
  for (int s = 0; s < cap; ++s) {
    const std::vector<float> before = res.rows;
    be.parallel_for(n, [&](int e, linalg::Backend& wbe) {
      ops.with(e, [&](const Blocks& blocks) {
        power_step(wbe, blocks, act, res.rows.data() + std::size_t(e) * d, d, 0.0, router.layer, e);
      });
    });
    stiefel_retract(be, res.rows, n, d, res.radius[0]);
    res.steps_done = s + 1;
    if (opt.steps == kConverge && max_row_change(before, res.rows, d, res.radius) < opt.solver.tol)
      break;
  }
  if (opt.steps == kConverge) res.converged = res.steps_done < cap;
  for (int e = 0; e < n; ++e) {
    sign_like_old(be, act, router.rows.data() + std::size_t(e) * d,
                  res.rows.data() + std::size_t(e) * d, d);
  }
}

}  // namespace

std::vector<linalg::PrincipalResult> operator_directions(linalg::Backend& be,
                                                         const RouterLayer& router,
                                                         const OperandSource& ops,
                                                         const linalg::PrincipalOptions& opt,
                                                         const ActivationMetric* act) {
  if (act == nullptr) return analysis::principal_directions(be, router.rows, ops, opt);
  const int d = router.hidden;
  std::vector<linalg::PrincipalResult> dirs(router.n_experts);
  be.parallel_for(router.n_experts, [&](int e, linalg::Backend& wbe) {
    ops.with(e, [&](const Blocks& blocks) {
      dirs[e] = expert_direction(wbe, blocks, router.rows.data() + std::size_t(e) * d, d, opt, act);
    });
  });
  return dirs;
}

LayerMpiResult mpi_layer(linalg::Backend& be, const RouterLayer& router, const OperandSource& ops,
                         const MpiOptions& opt, const ActivationMetric* act) {
  const int n = router.n_experts, d = router.hidden;
  MR_ASSERT(ops.size() == n);
  if (opt.retraction == Retraction::kStiefel && n > d) {
    throw UsageError("the stiefel retraction needs n_experts <= hidden_size, but layer " +
                     std::to_string(router.layer) + " has " + std::to_string(n) + " experts and " +
                     "hidden size " + std::to_string(d));
  }
  LayerMpiResult res;
  res.radius = target_radius(router, opt.radius);
  res.rows = router.rows;
  if (opt.retraction == Retraction::kStiefel) {  // one radius for the whole matrix
    double mean = 0;
    for (double r : res.radius) mean += r / n;
    res.radius.assign(n, mean);
    stiefel_layer(be, router, ops, opt, act, res);
  } else {
    sphere_layer(be, router, ops, opt, act, res);
  }
  return res;
}

}  // namespace moerecal::recal
