// The moves calibrate --data can make on one layer's router, each scaled by a strength in [0, 1]
// (DESIGN.md §1 "Minimal change"): the MPI step taken a fraction of the way along the sphere's
// geodesic from the inherited row to the MPI result (`--alpha`), uniformly or per expert (the
// rows of overloaded and cold experts moved more: by their imbalance), a per-expert shift of the
// rows along the layer's mean router input (a logit bias with no new tensor, for routers without
// one), and the family's own bias moved towards its balancing refit (--refit-bias). The full
// targets are computed once per layer (LayerTargets); candidate() blends them.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "analysis/router_set.hpp"
#include "engine/layer_weights.hpp"
#include "linalg/principal.hpp"
#include "recal/balance.hpp"
#include "recal/mpi.hpp"

namespace moerecal::recal {

struct LayerTargets {
  analysis::RouterLayer inherited;  // as stored
  bool selected = false;            // in --layers: the only layers that move
  std::vector<float> mpi_rows;      // the MPI result (f32); empty for unselected layers
  std::vector<linalg::PrincipalResult> method_dirs, weight_dirs;
  // Per-expert MPI fractions: min(1, |E load_e - 1|) with the inherited router's load on the
  // calibration tokens (data runs; empty otherwise).
  std::vector<double> imbalance;
  int steps_done = 0;
  bool converged = true;  // every solve / converge run stopped on its tolerance
  // The balancing logit bias turned into row shifts ([E, d]; without --refit-bias),
  // relative to the inherited rows and to the MPI rows.
  std::vector<float> shift_from_inherited, shift_from_mpi;
  // The family bias' balancing refit ([E]; --refit-bias), from the inherited / MPI rows.
  BiasKind bias_kind = BiasKind::kSelection;
  std::vector<float> bias_from_inherited, bias_from_mpi;
  bool has_bias() const { return !bias_from_inherited.empty(); }
};

struct Strengths {
  double mpi = 0;           // fraction of the geodesic towards the MPI rows
  double shift = 0;         // fraction of the balancing row shift
  double bias = 0;          // fraction of the way to the refit bias
  bool per_expert = false;  // the MPI fraction scaled per expert by LayerTargets::imbalance
};

// The router of the layer for `s` (rows and biases in f32, before rounding to their dtypes);
// the inherited one for an unselected layer. `retraction` decides the interpolation of the MPI
// move: the sphere's geodesic per row, or for stiefel the polar retraction of the blend.
analysis::RouterLayer candidate(linalg::Backend& be, const LayerTargets& t, const Strengths& s,
                                Retraction retraction);

// `s` with the moves the layer has no target for set to 0 (what candidate() really applies).
Strengths effective(const LayerTargets& t, const Strengths& s);

// The MPI fraction of each row for `s`.
std::vector<double> mpi_fractions(const LayerTargets& t, const Strengths& s);

// {mpi, shift, bias, per_expert}.
nlohmann::json to_json(const Strengths& s);

// Rows and biases rounded to their stored dtypes (what the written checkpoint holds).
analysis::RouterLayer rounded(const analysis::RouterLayer& r);

engine::RouterWeights router_weights(const analysis::RouterLayer& r);

// Row shifts [E, d] that add logit bias b [E] for inputs along the mean input mu [d]:
// shift_e = b_e mu / |mu|^2.
std::vector<float> row_shift(const std::vector<float>& b, const std::vector<float>& mu);

}  // namespace moerecal::recal
