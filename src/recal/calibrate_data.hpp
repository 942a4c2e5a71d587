// Sequential, calibration-aware recalibration (DESIGN.md §1, --direction activations): the
// calibration tokens run through the layer-wise engine; at each MoE layer the second moment C of
// that layer's router inputs is taken, the router is recalibrated with A_e = C W_e^T W_e, and the
// tokens continue through the layer with the new router, so every layer is fitted to the
// activations the recalibrated model really produces.
#pragma once

#include <functional>
#include <vector>

#include "engine/experts.hpp"
#include "recal/calibrate.hpp"

namespace moerecal::recal {

struct DataOptions {
  MpiOptions mpi;
  double shrinkage = 0.1;
  std::size_t expert_memory = engine::kDefaultExpertMemory;  // resident experts, bytes
};

// `windows` are token-id sequences. Unselected layers keep their router (their load figures are
// still reported). `progress(i, n)` is called as each decoder layer starts.
std::vector<LayerOutcome> calibrate_activations(
    const model::MoeModel& m, const std::vector<std::vector<int>>& windows,
    const std::vector<int>& layers, const DataOptions& opt, linalg::Backend& be,
    const std::function<void(int, int)>& progress = nullptr);

}  // namespace moerecal::recal
