// Data-free recalibration of a checkpoint's routers (DESIGN.md §1, --direction weights): for each
// selected MoE layer, MPI on the router, then the new rows rounded to the stored dtype. Layers are
// processed one at a time; only one layer's expert weights are resident.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "linalg/backend.hpp"
#include "model/model.hpp"
#include "recal/mpi.hpp"
#include "recal/outcome.hpp"

namespace moerecal::recal {

// "0-3,7" -> sorted unique indices; each must be a MoE layer of `spec`. Empty string or "all" =
// every MoE layer. Throws UsageError naming the offending part.
std::vector<int> parse_layers(const std::string& s, const model::ModelSpec& spec);

// Runs MPI on `layers` (others are carried over unchanged). `progress(i, n)` is called before
// each layer. Throws UsageError / BackendError / FormatError.
std::vector<LayerOutcome> calibrate_weights(
    const model::MoeModel& m, const std::vector<int>& layers, const MpiOptions& opt,
    linalg::Backend& be, const std::function<void(int, int)>& progress = nullptr);

}  // namespace moerecal::recal
