// Expert load on a set of tokens (DESIGN.md §4): load_e = share of the T*k routing slots that go
// to expert e; maxvio = E * max_e load_e - 1; dead = experts with no token; cold = experts below
// 10% of the uniform share; entropy = H(load) / ln E.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "analysis/router_set.hpp"
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
// From the number of tokens that selected each expert [E]; the same figures, bit for bit.
LoadStats load_stats(const std::vector<int>& counts, int n_tokens, int k);

// The router's logits [T, E] of inputs x [T, d]: x rows^T, without any bias.
std::vector<float> router_logits(linalg::Backend& be, const RouterLayer& router, const float* x,
                                 int n_tokens);

// The load a router (rows and biases) gives router inputs x [T, d] under the family's routing
// rule (the choice of model::route, which the forward pass uses, via model::route_selection).
LoadStats load_with(linalg::Backend& be, const model::RoutingRule& rule, const RouterLayer& router,
                    const float* x, int n_tokens);

nlohmann::json to_json(const LoadStats& s);

}  // namespace moerecal::analysis
