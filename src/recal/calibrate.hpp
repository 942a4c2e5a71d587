// Data-free recalibration of a checkpoint's routers (DESIGN.md §1, --direction weights): for each
// selected MoE layer, MPI on the router, then the new rows rounded to the stored dtype. Layers are
// processed one at a time; only one layer's expert weights are resident.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "linalg/backend.hpp"
#include "model/model_spec.hpp"
#include "recal/mpi.hpp"
#include "recal/router_health.hpp"
#include "recal/router_set.hpp"
#include "recal/routing_stats.hpp"

namespace moerecal::recal {

// "0-3,7" -> sorted unique indices; each must be a MoE layer of `spec`. Empty string = all.
// Throws UsageError naming the offending part.
std::vector<int> parse_layers(const std::string& s, const model::ModelSpec& spec);

struct LayerOutcome {
  RouterLayer before;                  // inherited router (f32 of the stored values)
  RouterLayer after;                   // new router, values as stored (rounded to the dtype)
  std::vector<std::byte> after_bytes;  // the new tensor payload in its dtype
  bool changed = false;
  LayerHealth health_before, health_after;  // against the weights-based direction
  double row_cos_max_unrounded = 0;         // after MPI, before dtype rounding
  double old_new_cos_mean = 1, old_new_cos_min = 1;
  std::vector<double> old_new_cos;  // per expert
  int solver_iterations_max = 0;
  double solver_residual_max = 0;
  int steps_done = 0;
  // With calibration data: alignment against the activation-aware directions, and expert load
  // on the calibration tokens with the inherited and the new router.
  bool has_data = false;
  double align_method_before = 0, align_method_after = 0;
  LoadStats load_before, load_after;
};

// Fills the figures of a layer whose new rows are `rows` (f32, before dtype rounding; equal to
// the inherited rows when unchanged). `weight_dirs` are the weights-based directions.
LayerOutcome layer_outcome(linalg::Backend& be, const RouterLayer& router,
                           const std::vector<float>& rows, bool changed, int steps,
                           const std::vector<linalg::PrincipalResult>& weight_dirs);

// Every expert of `layer` into `ops` (one per expert), reusing its buffers across layers.
void load_operands(const model::MoeModel& m, int layer, ExpertMatrix which,
                   std::vector<ExpertOperand>& ops);

// Runs MPI on `layers` (others are carried over unchanged). `progress(i, n)` is called before
// each layer. Throws UsageError / BackendError / FormatError.
std::vector<LayerOutcome> calibrate_weights(
    const model::MoeModel& m, const std::vector<int>& layers, const MpiOptions& opt,
    linalg::Backend& be, const std::function<void(int, int)>& progress = nullptr);

}  // namespace moerecal::recal
