#include "compare/eval.hpp"

#include <numeric>

#include "compare/eval_parts.hpp"
#include "compare/router_diff.hpp"
#include "core/error.hpp"
#include "engine/forward.hpp"
#include "engine/perplexity.hpp"
#include "report/eval_stats.hpp"

namespace moerecal::compare {
namespace {

// Every MoE layer's selected experts [T, k], in token order.
struct SelectionLog : engine::Observer {
  std::map<int, std::vector<int>>* selected = nullptr;
  void on_router(const engine::RouterEvent& ev) override {
    (*selected)[ev.layer].assign(ev.selected, ev.selected + std::size_t(ev.n_tokens) * k);
  }
  int k = 0;
};

void check_same_architecture(const model::MoeModel& a, const model::MoeModel& b) {
  const model::ModelSpec &s = a.spec, &t = b.spec;
  if (s.model_type != t.model_type || s.hidden != t.hidden || s.n_layers != t.n_layers ||
      s.n_experts() != t.n_experts() || s.top_k() != t.top_k() || s.vocab != t.vocab ||
      s.moe_layers != t.moe_layers) {
    throw FormatError(b.ckpt.dir().string() + ": not the same architecture as " +
                      a.ckpt.dir().string() + " (expected " + s.model_type + ", hidden " +
                      std::to_string(s.hidden) + ", " + std::to_string(s.n_experts()) +
                      " experts; found " + t.model_type + ", hidden " + std::to_string(t.hidden) +
                      ", " + std::to_string(t.n_experts()) + " experts)");
  }
}

// True when the candidate runs on the base's weights; otherwise a note says why not.
bool weights_shared(const EvalSides& sides, nlohmann::json& notes) {
  if (sides.base == sides.cand) return true;
  const auto diffs = non_router_differences(*sides.base, *sides.cand);
  if (diffs.empty()) return true;
  notes.push_back("the checkpoints differ in " + std::to_string(diffs.size()) +
                  " non-router tensors (first: " + diffs.front() +
                  "); base and candidate ran as two separate passes");
  return false;
}

// Both forward passes (in lockstep when the weights are shared); fills the selections.
std::vector<std::vector<float>> run_both(const EvalSides& sides, RoutingSides& r,
                                         const std::map<int, engine::RouterWeights>& cand_routers,
                                         const std::vector<std::vector<int>>& windows,
                                         linalg::Backend& be, const EvalOptions& opt) {
  SelectionLog log_b, log_c;
  log_b.selected = &r.base_selected;
  log_c.selected = &r.cand_selected;
  log_b.k = log_c.k = sides.base->spec.top_k();
  engine::ForwardOptions fb, fc;
  const std::vector<std::size_t> scored = engine::scored_positions(windows).rows;
  fb.read_rows = fc.read_rows = &scored;  // the figures read no other row
  fb.observer = &log_b;
  fc.observer = &log_c;
  fb.on_layer = opt.on_layer;
  fb.expert_memory = fc.expert_memory = opt.expert_memory;
  if (r.shared) {
    fc.routers = &cand_routers;
    return engine::run_layers_lockstep(*sides.base, be, windows, {fb, fc});
  }
  if (sides.cand_routers) fc.routers = &cand_routers;
  fc.on_layer = opt.on_layer;
  return {engine::run_layers(*sides.base, be, windows, fb),
          engine::run_layers(*sides.cand, be, windows, fc)};
}

// Scored positions (indices into PositionFigures) and tokens of the windows `members`.
struct Members {
  std::vector<std::size_t> positions, tokens;
};

Members members_of(const std::vector<std::vector<int>>& windows,
                   const std::vector<std::size_t>& members) {
  std::vector<std::size_t> first_pos(windows.size() + 1, 0), first_tok(windows.size() + 1, 0);
  for (std::size_t w = 0; w < windows.size(); ++w) {
    const std::size_t n = windows[w].size();
    first_pos[w + 1] = first_pos[w] + (n >= 2 ? n - 1 - n / 2 : 0);  // positions n/2 .. n-2
    first_tok[w + 1] = first_tok[w] + n;
  }
  Members m;
  for (std::size_t w : members) {
    for (std::size_t p = first_pos.at(w); p < first_pos[w + 1]; ++p) m.positions.push_back(p);
    for (std::size_t t = first_tok.at(w); t < first_tok[w + 1]; ++t) m.tokens.push_back(t);
  }
  return m;
}

nlohmann::json slice_reports(const RoutingSides& r, const RouterFigures& w,
                             const PositionFigures& f, const std::vector<std::vector<int>>& windows,
                             const EvalOptions& opt) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, member_windows] : opt.slices) {
    const Members m = members_of(windows, member_windows);
    const PositionFigures fs = f.select(m.positions);
    nlohmann::json metrics = model_metrics(fs);
    if (fs.kl.empty()) {
      for (auto& [key, value] : metrics.items()) value = nullptr;
    }
    nlohmann::json layers = routing_layers(r, w, m.tokens, metrics);
    out[name] = {{"metrics", metrics},
                 {"n_scored", fs.kl.size()},
                 {"n_tokens", m.tokens.size()},
                 {"n_windows", member_windows.size()},
                 {"layers", layers}};
  }
  return out;
}

}  // namespace

nlohmann::json evaluate(const EvalSides& sides, const std::vector<std::vector<int>>& windows,
                        linalg::Backend& be, const EvalOptions& opt) {
  check_same_architecture(*sides.base, *sides.cand);
  nlohmann::json notes = nlohmann::json::array();
  RoutingSides r;
  r.base = sides.base;
  r.cand = sides.cand;
  r.shared = weights_shared(sides, notes);
  r.base_routers = analysis::load_routers(*sides.base);
  r.cand_routers = analysis::load_routers(*sides.cand);
  std::map<int, engine::RouterWeights> cand_routers;  // given, else the candidate checkpoint's
  for (auto& c : r.cand_routers) {
    if (sides.cand_routers && sides.cand_routers->count(c.layer)) {
      const engine::RouterWeights& given = sides.cand_routers->at(c.layer);
      c.rows = given.rows;
      c.router_bias.values = given.router_bias;
      c.selection_bias.values = given.selection_bias;
    }
    cand_routers[c.layer] = {c.rows, c.router_bias.values, c.selection_bias.values};
  }
  const auto h = run_both(sides, r, cand_routers, windows, be, opt);
  const PositionFigures f =
      position_figures(be, *sides.base, *sides.cand, r.shared, windows, h[0], h[1]);
  for (const auto& w : windows) r.n_tokens += static_cast<int>(w.size());
  const RouterFigures w = router_figures(be, r, opt);
  nlohmann::json metrics = model_metrics(f);
  std::vector<std::size_t> all(static_cast<std::size_t>(r.n_tokens));
  std::iota(all.begin(), all.end(), std::size_t{0});
  nlohmann::json layers = routing_layers(r, w, all, metrics);
  return {{"settings", {{"shared_weights", r.shared}, {"backend", be.name()}}},
          {"notes", notes},
          {"metrics", metrics},
          {"layers", layers},
          {"kl_histogram", report::histogram(f.kl, 20)},
          {"n_scored", f.kl.size()},
          {"slices", slice_reports(r, w, f, windows, opt)}};
}

}  // namespace moerecal::compare
