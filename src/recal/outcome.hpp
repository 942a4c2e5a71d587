// What recalibrating one MoE layer did, with the figures the changelog records (DESIGN.md §3).
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/load_stats.hpp"
#include "analysis/router_health.hpp"
#include "analysis/router_set.hpp"
#include "linalg/backend.hpp"
#include "linalg/principal.hpp"
#include "recal/moves.hpp"

namespace moerecal::recal {

struct LayerOutcome {
  analysis::RouterLayer before;  // inherited router (f32 of the stored values)
  analysis::RouterLayer after;   // new router, values as stored (rounded to the dtypes)
  // The new payloads (tensor name -> bytes in its dtype) of the router tensors that changed.
  std::map<std::string, std::vector<std::byte>> payloads;
  bool selected = false;              // in --layers
  bool changed = false;               // rows or a bias differ from the inherited bytes
  Strengths moves;                    // the moves made, as strengths of their full targets
  std::vector<double> mpi_by_expert;  // each row's MPI fraction (per-expert moves only)
  analysis::LayerHealth health_before, health_after;  // against the weights-based direction
  double row_cos_max_unrounded = 0;                   // before dtype rounding
  double old_new_cos_mean = 1, old_new_cos_min = 1;
  std::vector<double> old_new_cos;  // per expert
  int solver_iterations_max = 0;
  double solver_residual_max = 0;
  bool converged = true;
  int steps_done = 0;
  // With calibration data: alignment against the activation-aware directions, and expert load
  // on the calibration tokens of the inherited model and of the recalibrated one (each on its
  // own activations).
  bool has_data = false;
  double align_method_before = 0, align_method_after = 0;
  analysis::LoadStats load_before, load_after;
};

// The outcome of moving layer `t` by strengths `s` (figures for unselected layers: no solve).
LayerOutcome layer_outcome(linalg::Backend& be, const LayerTargets& t, const Strengths& s,
                           Retraction retraction);

// The figures calibration data adds: alignment against the method's directions (the activation-
// aware ones for --direction activations), and the expert load of the inherited model and of the
// recalibrated one on the calibration tokens.
void add_data_figures(linalg::Backend& be, const LayerTargets& t,
                      const analysis::LoadStats& load_before, const analysis::LoadStats& load_after,
                      LayerOutcome& o);

// The changelog's per-layer figures ("layers" of an entry).
nlohmann::json to_json(const LayerOutcome& o);

}  // namespace moerecal::recal
