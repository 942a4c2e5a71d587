#include "analysis/directions.hpp"

#include "core/error.hpp"

namespace moerecal::analysis {

std::vector<linalg::PrincipalResult> layer_directions(const model::MoeModel& m, int layer,
                                                      ExpertMatrix which,
                                                      const std::vector<float>& router_rows,
                                                      linalg::Backend& be,
                                                      const linalg::PrincipalOptions& opt) {
  const int d = m.spec.hidden, E = m.spec.n_experts();
  MR_ASSERT(router_rows.size() == static_cast<std::size_t>(E) * d);
  const model::LayerTensors t = model::layer_tensors(m.spec, layer);
  std::vector<linalg::PrincipalResult> out(E);
  be.parallel_for(E, [&](int e, linalg::Backend& wbe) {
    ExpertOperand op;
    load_expert_operand(m, t.moe.experts[e], which, op);
    out[e] =
        linalg::principal_direction(wbe, op.blocks, router_rows.data() + std::size_t(e) * d, opt);
  });
  return out;
}

std::vector<linalg::PrincipalResult> principal_directions(linalg::Backend& be,
                                                          const std::vector<float>& router_rows,
                                                          const std::vector<ExpertOperand>& ops,
                                                          const linalg::PrincipalOptions& opt) {
  const int n = static_cast<int>(ops.size());
  MR_ASSERT(n > 0 && router_rows.size() % n == 0);
  const int d = static_cast<int>(router_rows.size() / n);
  std::vector<linalg::PrincipalResult> dirs(n);
  be.parallel_for(n, [&](int e, linalg::Backend& wbe) {
    dirs[e] = linalg::principal_direction(wbe, ops[e].blocks,
                                          router_rows.data() + std::size_t(e) * d, opt);
  });
  return dirs;
}

}  // namespace moerecal::analysis
