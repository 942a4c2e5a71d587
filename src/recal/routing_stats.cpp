#include "recal/routing_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moerecal::recal {

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

std::vector<int> select_top_k(const float* logits, int n_tokens, int n_experts, int k) {
  std::vector<int> out(std::size_t(n_tokens) * k), order(n_experts);
  for (int t = 0; t < n_tokens; ++t) {
    const float* z = logits + std::size_t(t) * n_experts;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [z](int a, int b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
    std::copy_n(order.begin(), k, out.begin() + std::size_t(t) * k);
  }
  return out;
}

nlohmann::json to_json(const LoadStats& s) {
  return {{"maxvio", s.maxvio},
          {"dead", s.dead},
          {"cold", s.cold},
          {"entropy", s.entropy},
          {"load", s.load}};
}

}  // namespace moerecal::recal
