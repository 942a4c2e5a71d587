#include "analysis/router_health.hpp"

#include <algorithm>
#include <cmath>

#include "analysis/vectors.hpp"
#include "core/error.hpp"

namespace moerecal::analysis {
namespace {

// Max off-diagonal cosine between rows, via the Gram matrix of the normalised rows.
void fill_row_cos_max(linalg::Backend& be, const RouterLayer& r, const std::vector<double>& norms,
                      LayerHealth& h) {
  const int n = r.n_experts, d = r.hidden;
  std::vector<float> unit(r.rows.size());
  for (int e = 0; e < n; ++e) {
    const double inv = norms[e] > 0 ? 1.0 / norms[e] : 0.0;
    for (int i = 0; i < d; ++i)
      unit[std::size_t(e) * d + i] = float(r.rows[std::size_t(e) * d + i] * inv);
  }
  std::vector<float> gram(std::size_t(n) * n);
  be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, n, n, d, 1.0f, unit.data(), d, unit.data(), d,
          0.0f, gram.data(), n);
  h.row_cos_max = n > 1 ? -1.0 : 0.0;
  for (int e = 0; e < n; ++e) {
    for (int f = e + 1; f < n; ++f) {
      if (gram[std::size_t(e) * n + f] > h.row_cos_max) {
        h.row_cos_max = gram[std::size_t(e) * n + f];
        h.row_cos_pair[0] = e;
        h.row_cos_pair[1] = f;
      }
    }
  }
}

}  // namespace

LayerHealth router_health(linalg::Backend& be, const RouterLayer& r,
                          const std::vector<linalg::PrincipalResult>& dirs) {
  MR_ASSERT(dirs.empty() || dirs.size() == static_cast<std::size_t>(r.n_experts));
  LayerHealth h;
  h.layer = r.layer;
  h.router_tensor = r.tensor;
  const int d = r.hidden;
  std::vector<double> norms(r.n_experts);
  h.align_min = dirs.empty() ? std::nan("") : 1.0;  // no directions: alignment not computed
  h.align_mean = dirs.empty() ? std::nan("") : 0.0;
  h.norm_min = INFINITY;
  for (int e = 0; e < r.n_experts; ++e) {
    const float* row = r.rows.data() + std::size_t(e) * d;
    norms[e] = std::sqrt(dot(row, row, d));
    h.norm_min = std::min(h.norm_min, norms[e]);
    h.norm_max = std::max(h.norm_max, norms[e]);
    h.norm_mean += norms[e] / r.n_experts;
    h.experts.push_back({e, std::nan(""), norms[e]});
    if (dirs.empty()) continue;
    const double vnorm = std::sqrt(dot(dirs[e].v.data(), dirs[e].v.data(), d));
    const double cos =
        norms[e] > 0 ? std::abs(dot(row, dirs[e].v.data(), d)) / (norms[e] * vnorm) : 0.0;
    h.experts.back().alignment = cos;
    h.align_mean += cos / r.n_experts;
    h.align_min = std::min(h.align_min, cos);
    h.solver_iterations_max = std::max(h.solver_iterations_max, dirs[e].iterations);
    h.solver_residual_max = std::max(h.solver_residual_max, dirs[e].residual);
  }
  fill_row_cos_max(be, r, norms, h);
  return h;
}

nlohmann::json to_json(const LayerHealth& h) {
  nlohmann::json experts = nlohmann::json::array();
  for (const ExpertHealth& e : h.experts) {
    experts.push_back({{"expert", e.expert}, {"alignment", e.alignment}, {"row_norm", e.row_norm}});
  }
  return {{"layer", h.layer},
          {"router_tensor", h.router_tensor},
          {"row_norm", {{"min", h.norm_min}, {"mean", h.norm_mean}, {"max", h.norm_max}}},
          {"row_cos_max", h.row_cos_max},
          {"row_cos_max_pair", {h.row_cos_pair[0], h.row_cos_pair[1]}},
          {"alignment", {{"mean", h.align_mean}, {"min", h.align_min}}},
          {"solver",
           {{"iterations_max", h.solver_iterations_max}, {"residual_max", h.solver_residual_max}}},
          {"experts", experts}};
}

}  // namespace moerecal::analysis
