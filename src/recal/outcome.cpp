#include "recal/outcome.hpp"

#include <algorithm>
#include <cmath>

#include "analysis/vectors.hpp"
#include "core/dtype.hpp"

namespace moerecal::recal {
namespace {

std::vector<std::byte> bytes_of(DType t, const std::vector<float>& v) {
  std::vector<std::byte> out(v.size() * dtype_bits(t) / 8);
  narrow_from_f32(t, v.data(), out.data(), v.size());
  return out;
}

// Payloads of the router tensors whose stored values change.
void add_payloads(LayerOutcome& o) {
  const analysis::RouterLayer &a = o.before, &b = o.after;
  if (b.rows != a.rows) o.payloads[a.tensor] = bytes_of(a.dtype, b.rows);
  for (const auto* pair : {&a.router_bias, &a.selection_bias}) {
    const analysis::RouterBias& nb = pair == &a.router_bias ? b.router_bias : b.selection_bias;
    if (!pair->tensor.empty() && nb.values != pair->values) {
      o.payloads[pair->tensor] = bytes_of(pair->dtype, nb.values);
    }
  }
  o.changed = !o.payloads.empty();
}

void row_figures(LayerOutcome& o) {
  const int d = o.before.hidden;
  for (int e = 0; e < o.before.n_experts; ++e) {
    const std::size_t off = std::size_t(e) * d;
    o.old_new_cos.push_back(
        analysis::row_cosine(o.before.rows.data() + off, o.after.rows.data() + off, d));
  }
  o.old_new_cos_min = *std::min_element(o.old_new_cos.begin(), o.old_new_cos.end());
  o.old_new_cos_mean = 0;
  for (double c : o.old_new_cos) o.old_new_cos_mean += c / o.before.n_experts;
}

nlohmann::json moves_json(const LayerOutcome& o) {
  nlohmann::json j = to_json(o.moves);
  if (!o.mpi_by_expert.empty()) j["mpi_by_expert"] = o.mpi_by_expert;
  return j;
}

// The router's own bias tensors (DeepSeek-V3 selection bias, gpt-oss router bias), before and
// after.
nlohmann::json biases_json(const LayerOutcome& o) {
  nlohmann::json out = nlohmann::json::array();
  const analysis::RouterBias* before[] = {&o.before.router_bias, &o.before.selection_bias};
  const analysis::RouterBias* after[] = {&o.after.router_bias, &o.after.selection_bias};
  for (int i = 0; i < 2; ++i) {
    if (before[i]->tensor.empty()) continue;
    out.push_back({{"kind", i == 0 ? "router" : "selection"},
                   {"tensor", before[i]->tensor},
                   {"dtype", std::string(dtype_name(before[i]->dtype))},
                   {"changed", after[i]->values != before[i]->values},
                   {"before", analysis::value_stats(before[i]->values)},
                   {"after", analysis::value_stats(after[i]->values)}});
  }
  return out;
}

nlohmann::json or_null(double v) {
  return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
}

nlohmann::json norm_json(const analysis::LayerHealth& h) {
  return {{"min", h.norm_min}, {"mean", h.norm_mean}, {"max", h.norm_max}};
}

}  // namespace

LayerOutcome layer_outcome(linalg::Backend& be, const LayerTargets& t, const Strengths& s,
                           Retraction retraction) {
  LayerOutcome o;
  o.before = t.inherited;
  o.selected = t.selected;
  const analysis::RouterLayer moved = candidate(be, t, s, retraction);
  o.after = rounded(moved);
  add_payloads(o);
  o.moves = o.changed ? effective(t, s) : Strengths{};
  if (o.changed && s.per_expert) o.mpi_by_expert = mpi_fractions(t, s);
  o.health_before = analysis::router_health(be, o.before, t.weight_dirs);
  o.health_after = analysis::router_health(be, o.after, t.weight_dirs);
  o.row_cos_max_unrounded = analysis::router_health(be, moved, t.weight_dirs).row_cos_max;
  row_figures(o);
  for (const linalg::PrincipalResult& d : t.method_dirs.empty() ? t.weight_dirs : t.method_dirs) {
    o.solver_iterations_max = std::max(o.solver_iterations_max, d.iterations);
    o.solver_residual_max = std::max(o.solver_residual_max, d.residual);
  }
  o.converged = t.converged;
  o.steps_done = o.changed && s.mpi > 0 ? t.steps_done : 0;
  return o;
}

void add_data_figures(linalg::Backend& be, const LayerTargets& t,
                      const analysis::LoadStats& load_before, const analysis::LoadStats& load_after,
                      LayerOutcome& o) {
  o.has_data = true;
  const auto& dirs = t.method_dirs.empty() ? t.weight_dirs : t.method_dirs;
  o.align_method_before = analysis::router_health(be, o.before, dirs).align_mean;
  o.align_method_after = analysis::router_health(be, o.after, dirs).align_mean;
  o.load_before = load_before;
  o.load_after = load_after;
}

nlohmann::json to_json(const LayerOutcome& o) {
  const analysis::LayerHealth &b = o.health_before, &a = o.health_after;
  nlohmann::json j = {
      {"layer", o.before.layer},
      {"tensor", o.before.tensor},
      {"dtype", std::string(dtype_name(o.before.dtype))},
      {"selected", o.selected},
      {"changed", o.changed},
      {"steps", o.steps_done},
      {"moves", moves_json(o)},
      {"row_cos_old_new", {{"mean", o.old_new_cos_mean}, {"min", o.old_new_cos_min}}},
      {"alignment",  // null under --no-alignment
       {{"before", or_null(b.align_mean)},
        {"after", or_null(a.align_mean)},
        {"min_before", or_null(b.align_min)},
        {"min_after", or_null(a.align_min)}}},
      {"row_norm", {{"before", norm_json(b)}, {"after", norm_json(a)}}},
      {"row_cos_max",
       {{"before", b.row_cos_max},
        {"after", a.row_cos_max},
        {"after_unrounded", o.row_cos_max_unrounded}}},
      {"load", nullptr},  // needs calibration tokens
      {"converged", o.converged},
      {"solver",
       {{"iterations_max", o.solver_iterations_max}, {"residual_max", o.solver_residual_max}}},
  };
  if (nlohmann::json b = biases_json(o); !b.empty()) j["biases"] = std::move(b);
  if (o.has_data) {
    j["load"] = {{"before", analysis::to_json(o.load_before)},
                 {"after", analysis::to_json(o.load_after)}};
    j["alignment_activations"] = {{"before", or_null(o.align_method_before)},
                                  {"after", or_null(o.align_method_after)}};
  }
  return j;
}

}  // namespace moerecal::recal
