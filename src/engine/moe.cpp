#include "engine/moe.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/ffn.hpp"
#include "engine/ops.hpp"
#include "model/routing.hpp"

namespace moerecal::engine {
namespace {

using linalg::Trans;

// Expert indices by falling token count (ties by index): experts with the most tokens start
// first, so the last to finish is a short one.
std::vector<int> largest_first(const std::vector<std::vector<int>>& tokens) {
  std::vector<int> order(tokens.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return tokens[a].size() > tokens[b].size(); });
  return order;
}

// The tokens routed to each expert and their routing weights, in token order (only the tokens
// t with apply[t] when `apply` is set).
struct ByExpert {
  std::vector<std::vector<int>> tokens;
  std::vector<std::vector<float>> scales;
};
ByExpert by_expert(const model::Routes& routes, int E, const std::vector<char>* apply) {
  ByExpert b{std::vector<std::vector<int>>(E), std::vector<std::vector<float>>(E)};
  for (int t = 0; t < routes.n_tokens; ++t) {
    if (apply && !(*apply)[t]) continue;
    for (int j = 0; j < routes.k; ++j) {
      const std::size_t slot = std::size_t(t) * routes.k + j;
      b.tokens[routes.experts[slot]].push_back(t);
      b.scales[routes.experts[slot]].push_back(routes.weights[slot]);
    }
  }
  return b;
}

// The routed experts: gather the tokens routed to each expert, run the experts side by side on
// the backend's workers (skinny GEMMs), largest first, then add the results, scaled by the routing
// weights, in expert order so the sum does not depend on scheduling.
void routed_experts(linalg::Backend& be, const model::ModelSpec& s, const LayerWeights& w,
                    const model::Routes& routes, const float* x, float* out, MoeWorkspace& ws,
                    const std::vector<char>* apply) {
  const int d = s.hidden, E = w.experts.size();
  const ByExpert routed = by_expert(routes, E, apply);
  const auto& tokens = routed.tokens;
  const auto& scales = routed.scales;
  // Expert e's outputs are rows [first[e], first[e + 1]) of one buffer.
  std::vector<std::size_t> first(E + 1, 0);
  for (int e = 0; e < E; ++e) first[e + 1] = first[e] + tokens[e].size();
  float* ys = ws.expert_out(first[E] * d);
  const std::vector<int> order = largest_first(tokens);
  be.parallel_for(E, [&](int i, linalg::Backend& wbe) {
    const int e = order[i];
    const int n = static_cast<int>(tokens[e].size());
    if (n == 0) return w.experts.check(e);
    thread_local std::vector<float> xe_buf;
    float* xe = scratch(xe_buf, std::size_t(n) * d);
    for (int r = 0; r < n; ++r)
      std::copy_n(x + std::size_t(tokens[e][r]) * d, d, xe + std::size_t(r) * d);
    float* ye = ys + first[e] * d;
    w.experts.with(e, [&](const Mlp& mlp) { swiglu(wbe, mlp, xe, n, d, ye, s.expert_act); });
    release_large(xe_buf);
  });
  for (int e = 0; e < E; ++e) {
    const float* ye = ys + first[e] * d;
    for (std::size_t r = 0; r < tokens[e].size(); ++r) {
      const float c = scales[e][r];
      float* o = out + std::size_t(tokens[e][r]) * d;
      for (int j = 0; j < d; ++j) o[j] += c * ye[r * d + j];
    }
  }
}

void shared_expert(linalg::Backend& be, const LayerWeights& w, const float* x, int T, int d,
                   float* out) {
  if (w.shared.width == 0) return;
  std::vector<float> gate(T, 1.0f);
  if (!w.shared_gate.empty()) {
    be.gemm(Trans::kNo, Trans::kYes, T, 1, d, 1.0f, x, d, w.shared_gate.data(), d, 0.0f,
            gate.data(), 1);
    for (float& g : gate) g = 1.0f / (1.0f + std::exp(-g));
  }
  swiglu_add(be, w.shared, x, T, d, gate.data(), out);
}

const float* or_null(const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }

}  // namespace

void moe_block(linalg::Backend& be, const model::ModelSpec& s, const LayerWeights& w,
               const RouterWeights& router, int layer, const float* x, int T, float* out,
               Observer* observer, MoeWorkspace& ws, const std::vector<char>* apply) {
  const int d = s.hidden, E = s.n_experts();
  std::vector<float> logits(std::size_t(T) * E);
  be.gemm(Trans::kNo, Trans::kYes, T, E, d, 1.0f, x, d, router.rows.data(), d, 0.0f, logits.data(),
          E);
  model::Routes routes;
  model::route(s.routing, logits.data(), T, or_null(router.router_bias),
               or_null(router.selection_bias), routes);
  if (observer) {
    observer->on_router({layer, T, x, logits.data(), routes.experts.data(), routes.weights.data()});
  }
  routed_experts(be, s, w, routes, x, out, ws, apply);
  shared_expert(be, w, x, T, d, out);
}

}  // namespace moerecal::engine
