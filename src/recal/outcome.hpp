// What recalibrating one MoE layer did, with the figures the changelog records (DESIGN.md §3).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <vector>

#include "analysis/load_stats.hpp"
#include "analysis/router_health.hpp"
#include "analysis/router_set.hpp"
#include "linalg/backend.hpp"
#include "linalg/principal.hpp"

namespace moerecal::recal {

struct LayerOutcome {
  analysis::RouterLayer before;        // inherited router (f32 of the stored values)
  analysis::RouterLayer after;         // new router, values as stored (rounded to the dtype)
  std::vector<std::byte> after_bytes;  // the new tensor payload in its dtype
  bool changed = false;
  analysis::LayerHealth health_before, health_after;  // against the weights-based direction
  double row_cos_max_unrounded = 0;                   // after MPI, before dtype rounding
  double old_new_cos_mean = 1, old_new_cos_min = 1;
  std::vector<double> old_new_cos;  // per expert
  int solver_iterations_max = 0;
  double solver_residual_max = 0;
  int steps_done = 0;
  // With calibration data: alignment against the activation-aware directions, and expert load
  // on the calibration tokens with the inherited and the new router.
  bool has_data = false;
  double align_method_before = 0, align_method_after = 0;
  analysis::LoadStats load_before, load_after;
};

// Fills the figures of a layer whose new rows are `rows` (f32, before dtype rounding; equal to
// the inherited rows when unchanged). `weight_dirs` are the weights-based directions.
LayerOutcome layer_outcome(linalg::Backend& be, const analysis::RouterLayer& router,
                           const std::vector<float>& rows, bool changed, int steps,
                           const std::vector<linalg::PrincipalResult>& weight_dirs);

// The changelog's per-layer figures ("layers" of an entry).
nlohmann::json to_json(const LayerOutcome& o);

}  // namespace moerecal::recal
