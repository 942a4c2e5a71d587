// The parts of an eval (compare/eval.cpp): model metrics on the scored positions and routing
// metrics per MoE layer, each computed from a set of positions or tokens so that the whole eval
// and every slice go through the same code. Internal to compare/.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "analysis/router_health.hpp"
#include "analysis/router_set.hpp"
#include "compare/eval.hpp"
#include "engine/positions.hpp"

namespace moerecal::compare {

// Per scored position, in window order: KL(P_base || P_cand), p_cand(correct) - p_base(correct),
// both sides' NLL of the correct token and whether their argmax agrees.
using engine::PositionFigures;

// From the final hidden states of both sides; `shared` when both use one lm_head.
PositionFigures position_figures(linalg::Backend& be, const model::MoeModel& base,
                                 const model::MoeModel& cand, bool shared,
                                 const std::vector<std::vector<int>>& windows,
                                 const std::vector<float>& hb, const std::vector<float>& hc);

// kl.*, top1_agree, ppl.*, dp.* of the metric table (sums in position order).
nlohmann::json model_metrics(const PositionFigures& f);

// Both sides' routers and the experts each selected per token [T, k], by MoE layer.
struct RoutingSides {
  const model::MoeModel* base = nullptr;
  const model::MoeModel* cand = nullptr;
  bool shared = false;  // same weights: directions computed once
  std::vector<analysis::RouterLayer> base_routers, cand_routers;
  std::map<int, std::vector<int>> base_selected, cand_selected;
  int n_tokens = 0;
};

// What does not depend on the tokens, per MoE layer (in router order) and side (0 base, 1 cand):
// router health (alignment, row cosines) and the stored bytes of every routed expert.
struct RouterFigures {
  std::vector<analysis::LayerHealth> health[2];
  std::vector<std::vector<std::uint64_t>> expert_bytes[2];
};
RouterFigures router_figures(linalg::Backend& be, const RoutingSides& r, const EvalOptions& opt);

// Per-layer routing figures on the tokens `tokens` (indices into the selections, ascending):
// the "layers" of a report; adds the routing.* metrics to `metrics`.
nlohmann::json routing_layers(const RoutingSides& r, const RouterFigures& w,
                              const std::vector<std::size_t>& tokens, nlohmann::json& metrics);

}  // namespace moerecal::compare
