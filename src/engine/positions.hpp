// Two models' next-token predictions compared on the scored positions of the same windows
// (DESIGN.md §4): per position KL(P_base || P_cand) in nats, p_cand(next) - p_base(next), both
// NLLs and whether the argmaxes agree. Used by eval and by calibrate's KL budget.
#pragma once

#include <cstddef>
#include <vector>

#include "engine/lm_head.hpp"

namespace moerecal::engine {

struct PositionFigures {
  std::vector<double> kl, dp, nll_base, nll_cand;
  std::vector<char> top1_same;
  // The figures of the positions `positions` (indices into these), in that order.
  PositionFigures select(const std::vector<std::size_t>& positions) const;
  double kl_mean() const;
};

// From the final hidden states [T, d] of both sides over `windows` (laid end to end) and their
// output projections (the same object when shared).
PositionFigures position_figures(linalg::Backend& be, const LmHead& head_base,
                                 const std::vector<float>& hidden_base, const LmHead& head_cand,
                                 const std::vector<float>& hidden_cand,
                                 const std::vector<std::vector<int>>& windows);

// PositionFigures::kl_mean() of several candidates against one base sharing the output projection,
// the same figures (the same sums in the same order), with the base's log-probabilities formed
// once for all of them.
std::vector<double> kl_means(linalg::Backend& be, const LmHead& head,
                             const std::vector<float>& hidden_base,
                             const std::vector<const std::vector<float>*>& hidden_cands,
                             const std::vector<std::vector<int>>& windows);

}  // namespace moerecal::engine
