// Calibration-aware recalibration targets (DESIGN.md §1): the calibration tokens run through the
// layer-wise engine; at each MoE layer the router inputs give the activation-aware operator
// (--direction activations: A_e = C W_e^T W_e, C their second moment or covariance), the MPI
// targets, and the balancing targets (the family bias' refit with --refit-bias, else the row
// shift). The tokens continue through the layer with the router `propagate` gives:
// sequential calibration, fitted to the activations the recalibrated model produces (plain
// steps), or the inherited router (KL-budget search: its strength is chosen afterwards).
#pragma once

#include <functional>
#include <vector>

#include "engine/experts.hpp"
#include "engine/forward.hpp"
#include "recal/balance.hpp"
#include "recal/calibrate.hpp"
#include "recal/trial.hpp"

namespace moerecal::recal {

struct DataOptions {
  MpiOptions mpi;
  bool activations = true;  // --direction activations (else weights)
  double shrinkage = 0.1;
  bool centred = true;      // covariance instead of the second moment
  Strengths propagate;      // the router the tokens continue with
  bool refit_bias = false;  // balancing move: the family's own bias (else the row shift)
  BalanceOptions balance;
  std::size_t expert_memory = engine::kDefaultExpertMemory;  // resident experts, bytes
  // The target pass is then a forward of the inherited model (PassOutputs below).
  bool propagates_inherited() const {
    return propagate.mpi == 0 && propagate.shift == 0 && propagate.bias == 0;
  }
};

// What the target pass also hands out: its loads (every router event) into `loads` and its
// final-norm hidden states into `hidden` (either may be null; only the rows of
// engine::scored_positions are the model's, the others skip the last layer's experts:
// ForwardOptions::read_rows). When the options propagate the inherited routers the pass is a
// forward of the inherited model, which the KL-budget search then need not run again; otherwise
// it is a forward of the plain steps' candidate (DataOptions::propagate), whose effect need not be
// measured by a pass of its own (trial.hpp). `inherited_*`, set only when the pass propagates
// other routers: the inherited model's forward run beside it in lockstep, each layer's weights
// read once for both (the layers before the first selected one run once, as they are the same).
struct PassOutputs {
  LoadLog* loads = nullptr;
  std::vector<float>* hidden = nullptr;
  LoadLog* inherited_loads = nullptr;
  std::vector<float>* inherited_hidden = nullptr;
};

// `windows` are token-id sequences. Unselected layers keep their router and cost no solve.
// `progress(i, n)` is called as each decoder layer starts.
std::vector<LayerTargets> data_targets(const model::MoeModel& m,
                                       const std::vector<std::vector<int>>& windows,
                                       const std::vector<int>& layers, const DataOptions& opt,
                                       linalg::Backend& be,
                                       const std::function<void(int, int)>& progress = nullptr,
                                       PassOutputs out = {});

}  // namespace moerecal::recal
