#include "recal/outcome.hpp"

#include <algorithm>

#include "analysis/vectors.hpp"
#include "core/dtype.hpp"

namespace moerecal::recal {
namespace {

// Rounds the new rows to the stored dtype and fills the "after" side of `out`.
void store_after(const std::vector<float>& rows, LayerOutcome& out) {
  out.after = out.before;
  out.after_bytes.resize(rows.size() * dtype_bits(out.before.dtype) / 8);
  narrow_from_f32(out.before.dtype, rows.data(), out.after_bytes.data(), rows.size());
  widen_to_f32(out.before.dtype, out.after_bytes.data(), out.after.rows.data(), rows.size());
}

nlohmann::json norm_json(const analysis::LayerHealth& h) {
  return {{"min", h.norm_min}, {"mean", h.norm_mean}, {"max", h.norm_max}};
}

}  // namespace

LayerOutcome layer_outcome(linalg::Backend& be, const analysis::RouterLayer& router,
                           const std::vector<float>& rows, bool changed, int steps,
                           const std::vector<linalg::PrincipalResult>& weight_dirs) {
  LayerOutcome out;
  out.before = router;
  store_after(rows, out);
  out.changed = changed && out.after.rows != router.rows;
  out.health_before = analysis::router_health(be, out.before, weight_dirs);
  out.health_after = analysis::router_health(be, out.after, weight_dirs);
  analysis::RouterLayer unrounded = router;
  unrounded.rows = rows;
  out.row_cos_max_unrounded = analysis::router_health(be, unrounded, weight_dirs).row_cos_max;
  const int d = router.hidden;
  for (int e = 0; e < router.n_experts; ++e) {
    const std::size_t off = std::size_t(e) * d;
    out.old_new_cos.push_back(
        analysis::row_cosine(router.rows.data() + off, out.after.rows.data() + off, d));
  }
  out.old_new_cos_min = *std::min_element(out.old_new_cos.begin(), out.old_new_cos.end());
  out.old_new_cos_mean = 0;
  for (double c : out.old_new_cos) out.old_new_cos_mean += c / router.n_experts;
  out.solver_iterations_max = out.health_before.solver_iterations_max;
  out.solver_residual_max = out.health_before.solver_residual_max;
  out.steps_done = steps;
  return out;
}

nlohmann::json to_json(const LayerOutcome& o) {
  const analysis::LayerHealth &b = o.health_before, &a = o.health_after;
  nlohmann::json j = {
      {"layer", o.before.layer},
      {"tensor", o.before.tensor},
      {"dtype", std::string(dtype_name(o.before.dtype))},
      {"changed", o.changed},
      {"steps", o.steps_done},
      {"row_cos_old_new", {{"mean", o.old_new_cos_mean}, {"min", o.old_new_cos_min}}},
      {"alignment",
       {{"before", b.align_mean},
        {"after", a.align_mean},
        {"min_before", b.align_min},
        {"min_after", a.align_min}}},
      {"row_norm", {{"before", norm_json(b)}, {"after", norm_json(a)}}},
      {"row_cos_max",
       {{"before", b.row_cos_max},
        {"after", a.row_cos_max},
        {"after_unrounded", o.row_cos_max_unrounded}}},
      {"load", nullptr},  // needs calibration tokens
      {"solver",
       {{"iterations_max", o.solver_iterations_max}, {"residual_max", o.solver_residual_max}}},
  };
  if (o.has_data) {
    j["load"] = {{"before", analysis::to_json(o.load_before)},
                 {"after", analysis::to_json(o.load_after)}};
    j["alignment_activations"] = {{"before", o.align_method_before},
                                  {"after", o.align_method_after}};
  }
  return j;
}

}  // namespace moerecal::recal
