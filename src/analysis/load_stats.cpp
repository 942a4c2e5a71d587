#include "analysis/load_stats.hpp"

#include <algorithm>
#include <cmath>

namespace moerecal::analysis {

LoadStats load_stats(const int* selected, int n_tokens, int k, int n_experts) {
  std::vector<int> counts(n_experts, 0);
  for (int i = 0; i < n_tokens * k; ++i) ++counts[selected[i]];
  return load_stats(counts, n_tokens, k);
}

LoadStats load_stats(const std::vector<int>& counts, int n_tokens, int k) {
  const int n_experts = static_cast<int>(counts.size());
  LoadStats s;
  s.load.assign(n_experts, 0.0);
  // One share per slot, added slot by slot (a sum of equal terms depends only on their number).
  const double share = 1.0 / (static_cast<double>(n_tokens) * k);
  for (int e = 0; e < n_experts; ++e) {
    for (int i = 0; i < counts[e]; ++i) s.load[e] += share;
  }
  double mx = 0, h = 0;
  for (double l : s.load) {
    mx = std::max(mx, l);
    s.dead += l == 0;
    s.cold += l < 0.1 / n_experts;
    if (l > 0) h -= l * std::log(l);
  }
  s.maxvio = n_experts * mx - 1.0;
  s.entropy = n_experts > 1 ? h / std::log(static_cast<double>(n_experts)) : 1.0;
  return s;
}

std::vector<float> router_logits(linalg::Backend& be, const RouterLayer& router, const float* x,
                                 int n_tokens) {
  const int d = router.hidden, E = static_cast<int>(router.rows.size() / d);
  std::vector<float> logits(std::size_t(n_tokens) * E);
  be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, n_tokens, E, d, 1.0f, x, d, router.rows.data(),
          d, 0.0f, logits.data(), E);
  return logits;
}

LoadStats load_with(linalg::Backend& be, const model::RoutingRule& rule, const RouterLayer& router,
                    const float* x, int n_tokens) {
  const std::vector<float> logits = router_logits(be, router, x, n_tokens);
  const auto or_null = [](const RouterBias& b) {
    return b.values.empty() ? nullptr : b.values.data();
  };
  std::vector<int> experts;
  model::route_selection(rule, logits.data(), n_tokens, or_null(router.router_bias),
                         or_null(router.selection_bias), experts);
  return load_stats(experts.data(), n_tokens, rule.top_k, rule.n_experts);
}

nlohmann::json to_json(const LoadStats& s) {
  return {{"maxvio", s.maxvio},
          {"dead", s.dead},
          {"cold", s.cold},
          {"entropy", s.entropy},
          {"load", s.load}};
}

}  // namespace moerecal::analysis
