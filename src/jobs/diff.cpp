// diff: old vs new routers (DESIGN.md §2, §7).
#include "compare/router_diff.hpp"
#include "jobs/jobs.hpp"

namespace moerecal::jobs {

nlohmann::json diff(const DiffRequest& r, const Context& ctx) {
  const compare::RouterSide a = compare::open_router_side(r.old_path);
  const compare::RouterSide b = compare::open_router_side(r.new_path);
  const std::unique_ptr<linalg::Backend> be = linalg::make_backend(ctx.device);
  return compare::to_json(compare::diff_routers(a, b, r.solver.matrix, r.solver.options, *be));
}

}  // namespace moerecal::jobs
