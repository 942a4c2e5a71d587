// The two halves of an eval (compare/eval.cpp): model metrics on the scored positions and routing
// metrics per MoE layer. Internal to compare/.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "analysis/router_set.hpp"
#include "compare/eval.hpp"

namespace moerecal::compare {

// Per scored position: KL(P_base || P_cand), p_cand(correct) - p_base(correct); NLL sums and
// argmax agreement.
struct PositionFigures {
  std::vector<double> kl, dp;
  double nll_base = 0, nll_cand = 0;
  long long top1_same = 0;
};

// From the final hidden states of both sides; `shared` when both use one lm_head.
PositionFigures position_figures(linalg::Backend& be, const model::MoeModel& base,
                                 const model::MoeModel& cand, bool shared,
                                 const std::vector<std::vector<int>>& windows,
                                 const std::vector<float>& hb, const std::vector<float>& hc);

// kl.*, top1_agree, ppl.*, dp.* of the metric table.
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

// Per-layer routing figures ("layers" of the report); adds the routing.* metrics to `metrics`.
nlohmann::json routing_layers(linalg::Backend& be, const RoutingSides& r, const EvalOptions& opt,
                              nlohmann::json& metrics);

}  // namespace moerecal::compare
