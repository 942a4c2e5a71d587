// Expert load on a set of tokens (DESIGN.md §4): load_e = share of the T*k routing slots that go
// to expert e; maxvio = E * max_e load_e - 1; dead = experts with no token; cold = experts below
// 10% of the uniform share; entropy = H(load) / ln E.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "linalg/backend.hpp"
#include "model/routing.hpp"

namespace moerecal::analysis {

struct LoadStats {
  std::vector<double> load;
  double maxvio = 0;
  int dead = 0;
  int cold = 0;
  double entropy = 0;
};

// From per-token selected experts [T, k].
LoadStats load_stats(const int* selected, int n_tokens, int k, int n_experts);

// The load router `rows` [E, d] gives router inputs x [T, d] under the family's routing rule
// (the same model::route the forward pass uses). `router_bias` / `selection_bias` as route takes
// them (null when the rule has none).
LoadStats load_with(linalg::Backend& be, const model::RoutingRule& rule,
                    const std::vector<float>& rows, const float* x, int n_tokens, int d,
                    const float* router_bias = nullptr, const float* selection_bias = nullptr);

nlohmann::json to_json(const LoadStats& s);

}  // namespace moerecal::analysis
