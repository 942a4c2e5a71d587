#include "analysis/directions.hpp"

#include "core/error.hpp"

namespace moerecal::analysis {

std::vector<linalg::PrincipalResult> principal_directions(linalg::Backend& be,
                                                          const std::vector<float>& router_rows,
                                                          const OperandSource& ops,
                                                          const linalg::PrincipalOptions& opt) {
  const int n = ops.size();
  MR_ASSERT(n > 0 && router_rows.size() % n == 0);
  const int d = static_cast<int>(router_rows.size() / n);
  std::vector<linalg::PrincipalResult> dirs(n);
  be.parallel_for(n, [&](int e, linalg::Backend& wbe) {
    ops.with(e, [&](const Blocks& blocks) {
      dirs[e] =
          linalg::principal_direction(wbe, blocks, router_rows.data() + std::size_t(e) * d, opt);
    });
  });
  return dirs;
}

std::vector<linalg::PrincipalResult> layer_directions(const model::MoeModel& m, int layer,
                                                      ExpertMatrix which,
                                                      const std::vector<float>& router_rows,
                                                      linalg::Backend& be,
                                                      const linalg::PrincipalOptions& opt) {
  return principal_directions(be, router_rows, ModelOperands(m, layer, which), opt);
}

}  // namespace moerecal::analysis
