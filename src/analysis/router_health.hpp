// Weight-only router health of one MoE layer (DESIGN.md §4): row norms, the largest pairwise row
// cosine, and alignment |cos(r_e, v_e)| with each expert's principal direction.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/router_set.hpp"
#include "linalg/backend.hpp"
#include "linalg/principal.hpp"

namespace moerecal::analysis {

struct ExpertHealth {
  int expert = 0;
  double alignment = 0;  // |cos(r_e, v_e)|
  double row_norm = 0;
};

struct LayerHealth {
  int layer = 0;
  std::string router_tensor;
  double norm_min = 0, norm_mean = 0, norm_max = 0;
  double row_cos_max = 0;  // max over e != f of cos(r_e, r_f); 0 for a single expert
  int row_cos_pair[2] = {0, 0};
  double align_mean = 0, align_min = 0;
  int solver_iterations_max = 0;
  double solver_residual_max = 0;
  std::vector<ExpertHealth> experts;
};

// Row norms and cosines in double; the Gram matrix of normalised rows through `be`.
LayerHealth router_health(linalg::Backend& be, const RouterLayer& router,
                          const std::vector<linalg::PrincipalResult>& directions);

// The DESIGN.md §7 "layers[]" element of inspect --json.
nlohmann::json to_json(const LayerHealth& h);

}  // namespace moerecal::analysis
