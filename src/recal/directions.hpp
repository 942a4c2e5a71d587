// Principal directions of a layer's experts for the --expert-matrix choice (DESIGN.md §1):
// gate_up (gate stacked on up), gate, up, or down (its left singular direction). Each expert's
// weights are widened to f32 one expert at a time.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "linalg/principal.hpp"
#include "model/model_spec.hpp"

namespace moerecal::recal {

enum class ExpertMatrix { kGateUp, kGate, kUp, kDown };

std::optional<ExpertMatrix> parse_expert_matrix(std::string_view s);
std::string_view expert_matrix_name(ExpertMatrix m);

// v_e for every expert of `layer`; router rows [E, d] fix each sign (v_e . r_e >= 0).
std::vector<linalg::PrincipalResult> layer_directions(const model::MoeModel& m, int layer,
                                                      ExpertMatrix which,
                                                      const std::vector<float>& router_rows,
                                                      linalg::Backend& be,
                                                      const linalg::PrincipalOptions& opt);

}  // namespace moerecal::recal
