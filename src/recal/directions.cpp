#include "recal/directions.hpp"

#include "core/error.hpp"
#include "linalg/parallel.hpp"

namespace moerecal::recal {

std::vector<linalg::PrincipalResult> layer_directions(const model::MoeModel& m, int layer,
                                                      ExpertMatrix which,
                                                      const std::vector<float>& router_rows,
                                                      linalg::Backend& be,
                                                      const linalg::PrincipalOptions& opt) {
  const int d = m.spec.hidden;
  MR_ASSERT(router_rows.size() == static_cast<std::size_t>(m.spec.n_experts) * d);
  std::vector<linalg::PrincipalResult> out(m.spec.n_experts);
  linalg::parallel_for(m.spec.n_experts, [&](int e, linalg::Backend& wbe) {
    const ExpertOperand op = load_expert_operand(m, layer, e, which);
    out[e] =
        linalg::principal_direction(wbe, op.blocks, router_rows.data() + std::size_t(e) * d, opt);
  });
  return out;
}

}  // namespace moerecal::recal
