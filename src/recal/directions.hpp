// Principal directions v_e of a layer's experts for an --expert-matrix choice (DESIGN.md §1),
// one expert's weights resident at a time.
#pragma once

#include <vector>

#include "linalg/principal.hpp"
#include "model/model_spec.hpp"
#include "recal/expert_operand.hpp"

namespace moerecal::recal {

// v_e for every expert of `layer`; router rows [E, d] fix each sign (v_e . r_e >= 0).
std::vector<linalg::PrincipalResult> layer_directions(const model::MoeModel& m, int layer,
                                                      ExpertMatrix which,
                                                      const std::vector<float>& router_rows,
                                                      linalg::Backend& be,
                                                      const linalg::PrincipalOptions& opt);

}  // namespace moerecal::recal
