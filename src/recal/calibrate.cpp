#include "recal/calibrate.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.hpp"
#include "linalg/parallel.hpp"

namespace moerecal::recal {
namespace {

int parse_index(const std::string& part, const std::string& text) {
  std::size_t used = 0;
  int v = -1;
  try {
    v = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v < 0) {
    throw UsageError("--layers: expected layer indices like 0-3,7, found '" + part + "'");
  }
  return v;
}

double cosine(const float* a, const float* b, int n) {
  double ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < n; ++i) {
    ab += double{a[i]} * b[i];
    aa += double{a[i]} * a[i];
    bb += double{b[i]} * b[i];
  }
  return aa > 0 && bb > 0 ? ab / std::sqrt(aa * bb) : 0.0;
}

}  // namespace

void load_operands(const model::MoeModel& m, int layer, ExpertMatrix which,
                   std::vector<ExpertOperand>& ops) {
  ops.resize(m.spec.n_experts);
  linalg::parallel_for(m.spec.n_experts, [&](int e, linalg::Backend&) {
    load_expert_operand(m, layer, e, which, ops[e]);
  });
}

namespace {

// Rounds the new rows to the stored dtype and fills the "after" side of `out`.
void store_after(const std::vector<float>& rows, LayerOutcome& out) {
  out.after = out.before;
  out.after_bytes.resize(rows.size() * dtype_bits(out.before.dtype) / 8);
  narrow_from_f32(out.before.dtype, rows.data(), out.after_bytes.data(), rows.size());
  widen_to_f32(out.before.dtype, out.after_bytes.data(), out.after.rows.data(), rows.size());
}

LayerOutcome calibrate_layer(const model::MoeModel& m, const RouterLayer& router, bool selected,
                             const MpiOptions& opt, linalg::Backend& be,
                             std::vector<ExpertOperand>& ops) {
  load_operands(m, router.layer, opt.matrix, ops);
  const LayerMpiResult res = mpi_layer(be, router, ops, opt);
  return layer_outcome(be, router, selected ? res.rows : router.rows, selected,
                       selected ? res.steps_done : 0, res.dirs);
}

}  // namespace

LayerOutcome layer_outcome(linalg::Backend& be, const RouterLayer& router,
                           const std::vector<float>& rows, bool changed, int steps,
                           const std::vector<linalg::PrincipalResult>& weight_dirs) {
  LayerOutcome out;
  out.before = router;
  store_after(rows, out);
  out.changed = changed && out.after.rows != router.rows;
  out.health_before = router_health(be, out.before, weight_dirs);
  out.health_after = router_health(be, out.after, weight_dirs);
  RouterLayer unrounded = router;
  unrounded.rows = rows;
  out.row_cos_max_unrounded = router_health(be, unrounded, weight_dirs).row_cos_max;
  const int d = router.hidden;
  for (int e = 0; e < router.n_experts; ++e) {
    const std::size_t off = std::size_t(e) * d;
    out.old_new_cos.push_back(cosine(router.rows.data() + off, out.after.rows.data() + off, d));
  }
  out.old_new_cos_min = *std::min_element(out.old_new_cos.begin(), out.old_new_cos.end());
  out.old_new_cos_mean = 0;
  for (double c : out.old_new_cos) out.old_new_cos_mean += c / router.n_experts;
  out.solver_iterations_max = out.health_before.solver_iterations_max;
  out.solver_residual_max = out.health_before.solver_residual_max;
  out.steps_done = steps;
  return out;
}

std::vector<int> parse_layers(const std::string& s, const model::ModelSpec& spec) {
  if (s.empty() || s == "all") return spec.moe_layers;
  std::vector<int> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    const std::size_t dash = part.find('-');
    const int lo = parse_index(part, part.substr(0, dash));
    const int hi = dash == std::string::npos ? lo : parse_index(part, part.substr(dash + 1));
    if (hi < lo) throw UsageError("--layers: empty range '" + part + "'");
    for (int i = lo; i <= hi; ++i) {
      if (!spec.is_moe_layer(i)) {
        std::string moe;
        for (int l : spec.moe_layers) moe += (moe.empty() ? "" : ",") + std::to_string(l);
        throw UsageError("--layers: layer " + std::to_string(i) + " is not a MoE layer (MoE " +
                         "layers: " + moe + ")");
      }
      out.push_back(i);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<LayerOutcome> calibrate_weights(const model::MoeModel& m,
                                            const std::vector<int>& layers, const MpiOptions& opt,
                                            linalg::Backend& be,
                                            const std::function<void(int, int)>& progress) {
  std::vector<RouterLayer> routers = load_routers(m);
  std::vector<LayerOutcome> out;
  std::vector<ExpertOperand> ops;  // one layer's experts, buffers reused layer after layer
  for (std::size_t i = 0; i < routers.size(); ++i) {
    if (progress) progress(static_cast<int>(i), static_cast<int>(routers.size()));
    const bool selected = std::binary_search(layers.begin(), layers.end(), routers[i].layer);
    out.push_back(calibrate_layer(m, routers[i], selected, opt, be, ops));
  }
  return out;
}

}  // namespace moerecal::recal
