// Data-free recalibration targets (DESIGN.md §1, --direction weights): for each selected MoE
// layer, MPI on the router (one expert's matrices resident per worker). Unselected layers cost no
// solve. The moves are applied afterwards (moves.hpp, outcome.hpp).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "linalg/backend.hpp"
#include "model/model.hpp"
#include "recal/moves.hpp"
#include "recal/mpi.hpp"
#include "recal/outcome.hpp"

namespace moerecal::recal {

// "0-3,7" -> sorted unique indices; each must be a MoE layer of `spec`. Empty string or "all" =
// every MoE layer. Throws UsageError naming the offending part.
std::vector<int> parse_layers(const std::string& s, const model::ModelSpec& spec);

// The MPI targets of every MoE layer (`layers` selected). `progress(i, n)` is called before each
// layer. Throws UsageError / BackendError / FormatError.
std::vector<LayerTargets> weight_targets(const model::MoeModel& m, const std::vector<int>& layers,
                                         const MpiOptions& opt, linalg::Backend& be,
                                         const std::function<void(int, int)>& progress = nullptr);

// The MPI step of one selected layer into `t` (rows and directions), over `ops`; with `act` the
// activation-aware operator, whose weights-based directions are then solved as well (for the
// alignment figures). --steps 0 solves the weights-based directions only.
void mpi_targets(linalg::Backend& be, const analysis::OperandSource& ops, const MpiOptions& opt,
                 const ActivationMetric* act, LayerTargets& t);

}  // namespace moerecal::recal
