#include "recal/mpi.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

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

// The power step's image y = A_e r of row r (d entries) in f64: f32 weights cannot overflow it.
void gram_image(linalg::Backend& be, const Blocks& blocks, const float* r, int d, double* y) {
  const std::vector<double> x(r, r + d);
  analysis::apply_operator(be, blocks, x.data(), y);
}

// Row r of expert e from its step image y (times C already for the activation operator), set to
// length `length` and rounded once, so it agrees with a float64 step to the last place. length 0
// keeps the raw image (the Stiefel retraction reads the rows' own lengths), unit length where it
// would not fit f32.
void set_row(const double* y, int d, double length, float* r, int layer, int e) {
  double n2 = 0;
  for (int i = 0; i < d; ++i) n2 += y[i] * y[i];
  const double n = std::sqrt(n2);
  if (!(n > 0) || !std::isfinite(n)) {
    throw BackendError("layer " + std::to_string(layer) + ": expert " + std::to_string(e) +
                       ": power step gave a zero or non-finite row");
  }
  const double s = length > 0 ? length / n : (n > 1e30 ? 1.0 / n : 1.0);
  for (int i = 0; i < d; ++i) r[i] = static_cast<float>(y[i] * s);
}

// One power step on every row with the activation operator: each expert read once for its image
// A_e r_e, then C times all images in one product (`images`: the first step's, already taken).
void metric_step(linalg::Backend& be, const RouterLayer& router, const OperandSource& ops,
                 const ActivationMetric& act, std::vector<double>& images, bool taken,
                 const std::vector<double>& length, std::vector<float>& rows) {
  const int n = router.n_experts, d = router.hidden;
  if (!taken) {
    be.parallel_for(n, [&](int e, linalg::Backend& wbe) {
      ops.with(e, [&](const Blocks& blocks) {
        gram_image(wbe, blocks, rows.data() + std::size_t(e) * d, d,
                   images.data() + std::size_t(e) * d);
      });
    });
  }
  times_c(be, act, images, n);
  for (int e = 0; e < n; ++e) {
    set_row(images.data() + std::size_t(e) * d, d, length[e], rows.data() + std::size_t(e) * d,
            router.layer, e);
  }
}

// Experts per worker task: with the activation metric's direction solves, up to kSolveGroup side
// by side (each Krylov iteration multiplies the metric's factor once for all of them: at d 7168
// it is 205 MB, a width-512 expert's gate_up 29 MB), as many as the source holds at once, and no
// fewer tasks than workers; otherwise one (a group would only hold more experts widened). 4: at
// d 7168 a row's two triangular products cost 5-7 ms alone, about 2 ms each among 4 rows and
// little less among 8 (Backend::trmm_lower_right), while every expert more in a group is one more
// widened expert per worker.
constexpr int kSolveGroup = 4;

int group_size(const OperandSource& ops, int n, bool metric_solves) {
  if (!metric_solves) return 1;
  const int workers = std::max(1, linalg::worker_threads());
  return std::max(1, std::min({kSolveGroup, ops.group_limit(), (n + workers - 1) / workers}));
}

// fn(worker, first, the blocks of experts [first, first + group.size())) for the layer's experts
// in groups of group_size(), the groups side by side on the workers.
void for_groups(linalg::Backend& be, const OperandSource& ops, int n, bool metric_solves,
                const std::function<void(linalg::Backend&, int, const std::vector<Blocks>&)>& fn) {
  const int g = group_size(ops, n, metric_solves);
  be.parallel_for((n + g - 1) / g, [&](int task, linalg::Backend& wbe) {
    const int first = task * g;
    ops.with_group(first, std::min(g, n - first),
                   [&](const std::vector<Blocks>& group) { fn(wbe, first, group); });
  });
}

// The directions of experts [first, first + group.size()) with the activation operator: u_e, the
// top eigenvector of F^T W_e^T W_e F (C = F F^T), signed towards refs_e = F^T C r_e so that
// v_e = F u_e has v_e^T C r_e >= 0 (directions_from_factor); without it, W_e's own, signed towards
// the row.
void group_directions(linalg::Backend& be, const RouterLayer& router, int first,
                      const std::vector<Blocks>& group, const linalg::PrincipalOptions& opt,
                      const ActivationMetric* act, const std::vector<float>& refs,
                      std::vector<linalg::PrincipalResult>& dirs) {
  const int d = router.hidden;
  std::vector<const Blocks*> sets;
  std::vector<const float*> signs;
  for (std::size_t i = 0; i < group.size(); ++i) {
    sets.push_back(&group[i]);
    signs.push_back((act ? refs.data() : router.rows.data()) + (first + i) * std::size_t(d));
  }
  linalg::Metric metric;
  if (act) metric = act->metric();
  std::vector<linalg::PrincipalResult> out =
      linalg::principal_direction_batch(be, sets, signs, opt, act ? &metric : nullptr);
  for (std::size_t i = 0; i < out.size(); ++i) dirs[first + i] = std::move(out[i]);
}

// u_e -> v_e = F u_e, normalised, for every expert at once.
void directions_from_factor(linalg::Backend& be, const ActivationMetric& act,
                            std::vector<linalg::PrincipalResult>& dirs) {
  const int n = static_cast<int>(dirs.size()), d = act.d;
  std::vector<float> u(std::size_t(n) * d);
  for (int e = 0; e < n; ++e)
    std::copy(dirs[e].v.begin(), dirs[e].v.end(), u.begin() + std::ptrdiff_t(e) * d);
  const std::vector<float> v = times_factor(be, act, u, n, linalg::Trans::kYes);
  for (int e = 0; e < n; ++e) {
    const double nv = norm(v.data() + std::size_t(e) * d, d);
    for (int i = 0; i < d; ++i) dirs[e].v[i] = static_cast<float>(v[std::size_t(e) * d + i] / nv);
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

// The activation rule's sign for the rows after power steps: r^T C r_old >= 0 (the new row scores
// the calibration tokens like the old one); with C = I power steps keep it by themselves.
// cr: C r_old for every row (c_rows).
void sign_like_old(const std::vector<float>& cr, std::vector<float>& rows, int n, int d) {
  for (int e = 0; e < n; ++e) {
    float* r = rows.data() + std::size_t(e) * d;
    if (analysis::dot(r, cr.data() + std::size_t(e) * d, d) >= 0) continue;
    for (int i = 0; i < d; ++i) r[i] = -r[i];
  }
}

// The power steps that need experts [first, first + group.size()) alone: with C, the first
// step's images A_e r_e (C multiplies all of them at once afterwards); without, all `steps`.
void group_steps(linalg::Backend& be, const RouterLayer& router, int first,
                 const std::vector<Blocks>& group, int steps, bool metric,
                 std::vector<double>& images, LayerMpiResult& res) {
  const int d = router.hidden;
  for (std::size_t i = 0; i < group.size(); ++i) {
    const int e = first + static_cast<int>(i);
    float* r = res.rows.data() + std::size_t(e) * d;
    if (metric && steps > 0) {
      gram_image(be, group[i], r, d, images.data() + std::size_t(e) * d);
      continue;
    }
    std::vector<double> y(d);
    for (int s = 0; s < steps; ++s) {
      gram_image(be, group[i], r, d, y.data());
      set_row(y.data(), d, res.radius[e], r, router.layer, e);
    }
  }
}

// Sphere retraction: each expert read once for its direction and its first step (without C, all
// its `opt.steps` steps: rows are independent); with C every further step reads the experts again,
// as C multiplies all images in one product. With C the experts come in groups (group_size), their
// direction solves side by side. converge puts the row at rho * v_e.
void sphere_layer(linalg::Backend& be, const RouterLayer& router, const OperandSource& ops,
                  const MpiOptions& opt, const ActivationMetric* act, LayerMpiResult& res) {
  const int n = router.n_experts, d = router.hidden;
  const bool dirs = opt.needs_directions(), converge = opt.steps == kConverge;
  const std::vector<float> cr = act ? c_rows(be, *act, router.rows, n) : std::vector<float>{};
  // F^T C r_e: the direction solves' sign references
  const std::vector<float> refs =
      act && dirs ? times_factor(be, *act, cr, n, linalg::Trans::kNo) : std::vector<float>{};
  std::vector<double> images(act && opt.steps > 0 ? std::size_t(n) * d : 0);
  res.dirs.resize(n);
  for_groups(be, ops, n, act && dirs,
             [&](linalg::Backend& wbe, int first, const std::vector<Blocks>& group) {
               if (dirs)
                 group_directions(wbe, router, first, group, opt.solver, act, refs, res.dirs);
               group_steps(wbe, router, first, group, opt.steps, act != nullptr, images, res);
             });
  if (act && dirs) directions_from_factor(be, *act, res.dirs);
  if (converge) {
    for (int e = 0; e < n; ++e)
      for (int i = 0; i < d; ++i)
        res.rows[std::size_t(e) * d + i] = static_cast<float>(res.radius[e] * res.dirs[e].v[i]);
  }
  for (int s = 0; act && s < opt.steps; ++s)
    metric_step(be, router, ops, *act, images, s == 0, res.radius, res.rows);
  if (act && !converge) sign_like_old(cr, res.rows, n, d);
  if (!dirs) res.dirs.clear();
  res.steps_done = opt.steps > 0 ? opt.steps : (res.dirs.empty() ? 0 : res.dirs[0].iterations);
  for (const auto& dir : res.dirs) res.converged = res.converged && dir.converged;
}

// Stiefel retraction couples the rows: every step reads every expert once.
void stiefel_layer(linalg::Backend& be, const RouterLayer& router, const OperandSource& ops,
                   const MpiOptions& opt, const ActivationMetric* act, LayerMpiResult& res) {
  const int n = router.n_experts, d = router.hidden;
  if (opt.needs_directions()) res.dirs = operator_directions(be, router, ops, opt.solver, act);
  const int cap = opt.steps == kConverge ? opt.converge_cap : opt.steps;
  const std::vector<double> raw(n, 0.0);  // the retraction sets the lengths
  std::vector<double> images(std::size_t(n) * d);
  for (int s = 0; s < cap; ++s) {
    const std::vector<float> before = res.rows;
    if (act) {
      metric_step(be, router, ops, *act, images, false, raw, res.rows);
    } else {
      be.parallel_for(n, [&](int e, linalg::Backend& wbe) {
        ops.with(e, [&](const Blocks& blocks) {
          float* r = res.rows.data() + std::size_t(e) * d;
          gram_image(wbe, blocks, r, d, images.data() + std::size_t(e) * d);
          set_row(images.data() + std::size_t(e) * d, d, 0.0, r, router.layer, e);
        });
      });
    }
    stiefel_retract(be, res.rows, n, d, res.radius[0]);
    res.steps_done = s + 1;
    if (opt.steps == kConverge && max_row_change(before, res.rows, d, res.radius) < opt.solver.tol)
      break;
  }
  if (opt.steps == kConverge) res.converged = res.steps_done < cap;
  if (act) sign_like_old(c_rows(be, *act, router.rows, n), res.rows, n, d);
}

}  // namespace

std::vector<linalg::PrincipalResult> operator_directions(linalg::Backend& be,
                                                         const RouterLayer& router,
                                                         const OperandSource& ops,
                                                         const linalg::PrincipalOptions& opt,
                                                         const ActivationMetric* act) {
  if (act == nullptr) return analysis::principal_directions(be, router.rows, ops, opt);
  const int n = router.n_experts;
  const std::vector<float> refs =
      times_factor(be, *act, c_rows(be, *act, router.rows, n), n, linalg::Trans::kNo);
  std::vector<linalg::PrincipalResult> dirs(n);
  for_groups(be, ops, n, true,
             [&](linalg::Backend& wbe, int first, const std::vector<Blocks>& group) {
               group_directions(wbe, router, first, group, opt, act, refs, dirs);
             });
  directions_from_factor(be, *act, dirs);
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
