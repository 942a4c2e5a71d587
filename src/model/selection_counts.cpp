#include "model/selection_counts.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace moerecal::model {
namespace {

constexpr double kNever = -1.0;  // a room no move fits in: route the token every time

// Whether route_selection() chooses by plain top-k on the moving bias added to values that do not
// move: the logits (a moving router bias, where route_selection decides on the logits; where the
// softmax would round the k-th and (k+1)-th together it falls back to route(), and room() gives
// such a token no room), or the sigmoid scores (a moving selection bias, every group kept).
SelectionCounts::Choice choice_of(const RoutingRule& r, bool router_bias_moves,
                                  const float* fixed_selection_bias) {
  using C = SelectionCounts::Choice;
  if (router_bias_moves) {
    const bool on_logits =
        r.top_k_then_softmax || (r.score == ScoreFn::kSoftmax && fixed_selection_bias == nullptr &&
                                 r.group_score == GroupScore::kNone);
    return on_logits ? C::kBiasedLogits : C::kRouteAll;
  }
  const bool every_group = r.group_score == GroupScore::kNone || r.topk_group == r.n_group;
  return !r.top_k_then_softmax && r.score == ScoreFn::kSigmoid && every_group ? C::kBiasedScores
                                                                              : C::kRouteAll;
}

// The sigmoid scores [T, E] as route() forms them (the router bias, if any, added first).
std::vector<float> sigmoid_scores(const float* logits, std::size_t T, int E,
                                  const float* router_bias) {
  std::vector<float> s(T * E);
  for (std::size_t i = 0; i < s.size(); ++i) {
    float z = logits[i];
    if (router_bias != nullptr) z += router_bias[i % E];
    s[i] = sigmoid_score(z);
  }
  return s;
}

double max_abs(const float* v, std::size_t n) {
  double m = 0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(double{v[i]}));
  return m;
}

}  // namespace

SelectionCounts::SelectionCounts(const RoutingRule& rule, const float* logits, int n_tokens,
                                 bool router_bias_moves, const float* fixed_router_bias,
                                 const float* fixed_selection_bias)
    : rule_(rule),
      logits_(logits),
      T_(n_tokens),
      router_bias_moves_(router_bias_moves),
      fixed_router_(fixed_router_bias),
      fixed_selection_(fixed_selection_bias),
      choice_(choice_of(rule, router_bias_moves, fixed_selection_bias)),
      counts_(rule.n_experts, 0) {
  if (choice_ == Choice::kRouteAll) return;
  if (choice_ == Choice::kBiasedScores) {
    scores_ = sigmoid_scores(logits, T_, rule.n_experts, fixed_router_bias);
  }
  chosen_.resize(std::size_t(T_) * rule.top_k);
  room_.assign(T_, kNever);
  snapshot_of_.assign(T_, -1);
  max_abs_value_ = max_abs(base(0), std::size_t(T_) * rule.n_experts);
}

const std::vector<int>& SelectionCounts::counts(const std::vector<float>& bias) {
  MR_ASSERT(static_cast<int>(bias.size()) == rule_.n_experts);
  if (choice_ == Choice::kRouteAll) {
    route_all(bias.data());
    return counts_;
  }
  // Each biased value is rounded to float when made: a gap between two of them is off by at most
  // 4 roundings of 2^-24 of the largest magnitude, half of eps below, for the old and new bias.
  max_abs_bias_ = std::max(max_abs_bias_, max_abs(bias.data(), bias.size()));
  const double eps = std::ldexp(max_abs_value_ + max_abs_bias_, -22);
  std::vector<double> moved(snapshots_.size(), std::numeric_limits<double>::infinity());
  for (std::size_t s = 0; s < snapshots_.size(); ++s) {
    if (users_[s] == 0) continue;
    double m = 0;
    for (std::size_t e = 0; e < bias.size(); ++e) {
      m = std::max(m, std::fabs(double{bias[e]} - double{snapshots_[s][e]}));
    }
    moved[s] = m;
  }
  again_.clear();
  for (int t = 0; t < T_; ++t) {
    const int s = snapshot_of_[t];
    if (s < 0 || !(moved[s] + eps < room_[t])) again_.push_back(t);
  }
  if (!again_.empty()) route_again(bias);
  return counts_;
}

void SelectionCounts::route(const float* logits, int n, const float* bias) {
  route_selection(rule_, logits, n, router_bias_moves_ ? bias : fixed_router_,
                  router_bias_moves_ ? fixed_selection_ : bias, routed_experts_);
}

void SelectionCounts::route_all(const float* bias) {
  route(logits_, T_, bias);
  std::fill(counts_.begin(), counts_.end(), 0);
  for (int e : routed_experts_) ++counts_[e];
  routed_ += T_;
}

void SelectionCounts::route_again(const std::vector<float>& bias) {
  const int E = rule_.n_experts, k = rule_.top_k, n = static_cast<int>(again_.size());
  for (std::size_t s = 0; s < snapshots_.size(); ++s) {
    if (users_[s] == 0) std::vector<float>().swap(snapshots_[s]);
  }
  const int snapshot = static_cast<int>(snapshots_.size());
  snapshots_.push_back(bias);
  users_.push_back(0);
  gathered_.resize(std::size_t(n) * E);
  for (int i = 0; i < n; ++i) {
    std::copy_n(logits_ + std::size_t(again_[i]) * E, E, gathered_.data() + std::size_t(i) * E);
  }
  route(gathered_.data(), n, bias.data());
  for (int i = 0; i < n; ++i) {
    const int t = again_[i];
    int* chosen = chosen_.data() + std::size_t(t) * k;
    if (snapshot_of_[t] >= 0) {
      --users_[snapshot_of_[t]];
      for (int j = 0; j < k; ++j) --counts_[chosen[j]];
    }
    std::copy_n(routed_experts_.begin() + std::size_t(i) * k, k, chosen);
    for (int j = 0; j < k; ++j) ++counts_[chosen[j]];
    snapshot_of_[t] = snapshot;
    ++users_[snapshot];
    room_[t] = room(base(t), bias.data(), chosen);
  }
  routed_ += n;
}

// How far (max norm) the bias may move before the token's choice can change. Every biased value
// moves by at most that much, so the gap between the chosen and the rest shrinks by at most twice
// it: the choice stays while the gap is positive, and for softmax-then-top-k while route_selection
// still decides on the logits (gap at least 1e-6, the (k+1)-th within 80 of the largest).
double SelectionCounts::room(const float* z, const float* bias, const int* chosen) const {
  const int E = rule_.n_experts, k = rule_.top_k;
  if (k == E) return std::numeric_limits<double>::infinity();
  thread_local std::vector<char> is_chosen;
  is_chosen.assign(E, 0);
  for (int j = 0; j < k; ++j) is_chosen[chosen[j]] = 1;
  double lowest_chosen = std::numeric_limits<double>::infinity();
  double best_rest = -std::numeric_limits<double>::infinity(), best = best_rest;
  for (int e = 0; e < E; ++e) {
    const float v = z[e] + bias[e];  // as route() forms it
    if (!std::isfinite(v)) return kNever;
    best = std::max(best, double{v});
    if (is_chosen[e]) {
      lowest_chosen = std::min(lowest_chosen, double{v});
    } else {
      best_rest = std::max(best_rest, double{v});
    }
  }
  const double gap = lowest_chosen - best_rest;
  if (rule_.top_k_then_softmax || choice_ == Choice::kBiasedScores) {
    return gap > 0 ? gap / 2 : kNever;
  }
  if (!(gap >= kDecideGap && best_rest - best > -kDecideWithin)) return kNever;
  return std::min(gap - kDecideGap, best_rest - best + kDecideWithin) / 2;
}

}  // namespace moerecal::model
