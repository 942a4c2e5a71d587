// The KL budget's search along one strategy (DESIGN.md §1 "Minimal change"): the largest strength
// t in [0, 1] whose KL(t) stays within the budget, for a KL that grows with t. Each probe is a
// forward pass over the calibration tokens, so the search spends as few as it can: t = 1 first
// (taken whole when it fits), then a secant step on log KL against log t through the two latest
// probes (KL ~ c t^p; the first step assumes p = 1 from the origin), kept inside the bracket of
// the largest feasible and the smallest infeasible t (a bisection step where it falls outside).
// It stops at a feasible t whose KL reaches `band` x budget, when the bracket is narrower than
// `resolution`, or after `max_probes` probes past t = 1.
#pragma once

#include <functional>

namespace moerecal::recal {

struct StrengthSearch {
  double band = 0.95;
  double resolution = 1.0 / 64;
  int max_probes = 6;
};

// Calls kl(t) for every t it probes; returns the largest feasible t probed (0 when none was).
double search_strength(const std::function<double(double)>& kl, double budget,
                       const StrengthSearch& opt = {});

}  // namespace moerecal::recal
