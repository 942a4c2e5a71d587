#include "recal/directions.hpp"

#include "core/error.hpp"

namespace moerecal::recal {

std::vector<linalg::PrincipalResult> layer_directions(const model::MoeModel& m, int layer,
                                                      ExpertMatrix which,
                                                      const std::vector<float>& router_rows,
                                                      linalg::Backend& be,
                                                      const linalg::PrincipalOptions& opt) {
  const int d = m.spec.hidden;
  MR_ASSERT(router_rows.size() == static_cast<std::size_t>(m.spec.n_experts) * d);
  std::vector<linalg::PrincipalResult> out;
  for (int e = 0; e < m.spec.n_experts; ++e) {
    const ExpertOperand op = load_expert_operand(m, layer, e, which);
    out.push_back(
        linalg::principal_direction(be, op.blocks, router_rows.data() + std::size_t(e) * d, opt));
  }
  return out;
}

}  // namespace moerecal::recal
