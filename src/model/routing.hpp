// The routing rule of a family (ARCHITECTURES.md §2.3, §3.3, §4.4, §6.4, §6.6, §7.4, §13) and the
// one function that applies it: router logits -> experts and weights per token. The forward pass,
// calibrate's load figures and eval all route through route(), so selection is the same
// everywhere. Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

namespace moerecal::model {

// How router logits become scores.
enum class ScoreFn { kSoftmax, kSigmoid };
// Group score of group-limited selection: none (plain top-k), max of the group (DeepSeek-V2
// group_limited_greedy), or sum of the group's top two (DeepSeek-V3 noaux_tc).
enum class GroupScore { kNone, kMax, kTopTwoSum };

struct RoutingRule {
  int n_experts = 0;
  int top_k = 0;
  ScoreFn score = ScoreFn::kSoftmax;
  // gpt-oss: top-k on the (biased) logits, then softmax over the k selected logits only.
  bool top_k_then_softmax = false;
  bool renormalize = false;  // weights / sum of the k weights (norm_topk_prob)
  double renorm_eps = 0.0;   // added to that sum (DeepSeek-V3: 1e-20)
  int n_group = 1;           // group-limited selection: experts in n_group equal groups,
  int topk_group = 1;        // of which the topk_group best by GroupScore stay eligible
  GroupScore group_score = GroupScore::kNone;
  double scaling = 1.0;         // routed_scaling_factor
  bool router_bias = false;     // a bias added to the logits (gpt-oss mlp.router.bias)
  bool selection_bias = false;  // a bias that chooses but does not weight (DeepSeek-V3)
};

// What a router decided for T tokens: experts [T, k] best first (ties: lower index first) and the
// weight each gets [T, k].
struct Routes {
  int n_tokens = 0;
  int k = 0;
  std::vector<int> experts;
  std::vector<float> weights;
};

// Routes T tokens from their router logits [T, E] (x W^T, no bias). `router_bias` [E] is added to
// the logits when the rule has one, `selection_bias` [E] is added to the scores for selection only;
// either may be null when the rule has none. Reuses the buffers of `out`.
//   softmax:  p = softmax(z + b); groups; top-k on p; w = p[sel] (/ sum + eps); w *= scaling
//   sigmoid:  s = sigmoid(z); c = s + bias; groups (others masked to 0.0, as transformers does);
//             top-k on c; w = s[sel] (/ (sum + eps)); w *= scaling
//   top_k_then_softmax: top-k on z + b; w = softmax over the k selected logits
void route(const RoutingRule& rule, const float* logits, int n_tokens, const float* router_bias,
           const float* selection_bias, Routes& out);

// The experts route() selects for each token [T, k], without computing their weights: for
// softmax-then-top-k without a selection bias or groups, top-k on the logits wherever that is
// provably the same choice (the softmax's exponentials skipped), and top-k-then-softmax needs no
// softmax for the choice at all; other rules call route(). Each token's k experts are the same
// set as route()'s; their order can differ only between experts of equal weight. For load
// figures (the balancing searches route the same tokens hundreds of times).
void route_selection(const RoutingRule& rule, const float* logits, int n_tokens,
                     const float* router_bias, const float* selection_bias,
                     std::vector<int>& experts);

// The sigmoid score route() gives a (biased) logit: 1 / (1 + e^-z) in double, rounded to float.
float sigmoid_score(float z);

// Where route_selection() chooses softmax-then-top-k on the logits alone: the k-th and (k+1)-th
// biased logits at least kDecideGap apart, and the (k+1)-th within kDecideWithin of the largest.
inline constexpr double kDecideGap = 1e-6, kDecideWithin = 80.0;

// The rule as inspect shows it: {"score", "order", "renormalize", "n_group", "topk_group",
// "group_score", "scaling", "router_bias", "selection_bias"}.
nlohmann::json to_json(const RoutingRule& rule);

}  // namespace moerecal::model
