// The balancing searches' inner loop (recal/balance.cpp): how many of T tokens choose each expert
// under a bias that moves a little at a time, hundreds of times over the same router logits.
// counts() gives exactly what counting route_selection()'s choices gives. Where the rule chooses
// by plain top-k on the bias added to values that do not move (a router bias under
// softmax-then-top-k without groups or a selection bias, or under top-k-then-softmax: the
// logits; a selection bias over sigmoid scores with every group kept: the scores) it routes a
// token again only when the bias has moved, since its choice was last made, by enough to change
// it: by more than half the gap between its k-th and (k+1)-th biased values, less a bound on the
// float rounding. Other rules (groups that drop experts) route every token.
#pragma once

#include <vector>

#include "model/routing.hpp"

namespace moerecal::model {

class SelectionCounts {
 public:
  // logits [T, E] (kept by reference). The bias given to counts() is the router bias when
  // `router_bias_moves`, else the selection bias; `fixed_router_bias` / `fixed_selection_bias`
  // are the other one (null when the rule has none).
  SelectionCounts(const RoutingRule& rule, const float* logits, int n_tokens,
                  bool router_bias_moves, const float* fixed_router_bias,
                  const float* fixed_selection_bias);
  // Tokens per expert [E] under `bias` [E].
  const std::vector<int>& counts(const std::vector<float>& bias);
  // Tokens routed again by the calls so far (T per call without the incremental path).
  long long routed() const { return routed_; }

  enum class Choice { kRouteAll, kBiasedLogits, kBiasedScores };

 private:
  void route(const float* logits, int n, const float* bias);
  void route_all(const float* bias);
  // Token t's values the bias is added to: logits or sigmoid scores [E].
  const float* base(int t) const {
    return (choice_ == Choice::kBiasedScores ? scores_.data() : logits_) +
           std::size_t(t) * rule_.n_experts;
  }
  // Routes the tokens in `again_` under `bias` and records it as their snapshot.
  void route_again(const std::vector<float>& bias);
  double room(const float* z, const float* bias, const int* chosen) const;

  RoutingRule rule_;
  const float* logits_;
  int T_;
  bool router_bias_moves_;
  const float *fixed_router_, *fixed_selection_;
  Choice choice_;
  std::vector<float> scores_;  // [T, E] for kBiasedScores
  double max_abs_value_ = 0, max_abs_bias_ = 0;
  std::vector<int> counts_, chosen_;  // chosen_ [T, k]
  std::vector<double> room_;          // [T]: how far the bias may move before t is routed again
  std::vector<int> snapshot_of_;      // [T]: the bias t was last routed under
  std::vector<std::vector<float>> snapshots_;
  std::vector<int> users_;  // tokens per snapshot
  std::vector<int> again_, routed_experts_;
  std::vector<float> gathered_;
  long long routed_ = 0;
};

}  // namespace moerecal::model
