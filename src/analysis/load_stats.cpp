#include "analysis/load_stats.hpp"

#include <algorithm>
#include <cmath>

namespace moerecal::analysis {

LoadStats load_stats(const int* selected, int n_tokens, int k, int n_experts) {
  LoadStats s;
  s.load.assign(n_experts, 0.0);
  const double slots = static_cast<double>(n_tokens) * k;
  for (int i = 0; i < n_tokens * k; ++i) s.load[selected[i]] += 1.0 / slots;
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

LoadStats load_with(linalg::Backend& be, const model::RoutingRule& rule,
                    const std::vector<float>& rows, const float* x, int n_tokens, int d,
                    const float* router_bias, const float* selection_bias) {
  const int E = rule.n_experts;
  std::vector<float> logits(std::size_t(n_tokens) * E);
  be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, n_tokens, E, d, 1.0f, x, d, rows.data(), d, 0.0f,
          logits.data(), E);
  model::Routes routes;
  model::route(rule, logits.data(), n_tokens, router_bias, selection_bias, routes);
  return load_stats(routes.experts.data(), n_tokens, rule.top_k, E);
}

nlohmann::json to_json(const LoadStats& s) {
  return {{"maxvio", s.maxvio},
          {"dead", s.dead},
          {"cold", s.cold},
          {"entropy", s.entropy},
          {"load", s.load}};
}

}  // namespace moerecal::analysis
