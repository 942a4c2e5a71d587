// Principal directions v_e of a layer's experts for an --expert-matrix choice (DESIGN.md §1).
#pragma once

#include <vector>

#include "analysis/expert_operand.hpp"
#include "linalg/principal.hpp"
#include "model/model.hpp"

namespace moerecal::analysis {

// v_e for every expert of `ops`, side by side on the backend's workers (one expert's matrices
// resident per worker); router rows [E, d] fix each sign (v_e . r_e >= 0).
std::vector<linalg::PrincipalResult> principal_directions(linalg::Backend& be,
                                                          const std::vector<float>& router_rows,
                                                          const OperandSource& ops,
                                                          const linalg::PrincipalOptions& opt);

// The same for MoE layer `layer` of a checkpoint, its experts streamed from the checkpoint.
std::vector<linalg::PrincipalResult> layer_directions(const model::MoeModel& m, int layer,
                                                      ExpertMatrix which,
                                                      const std::vector<float>& router_rows,
                                                      linalg::Backend& be,
                                                      const linalg::PrincipalOptions& opt);

}  // namespace moerecal::analysis
