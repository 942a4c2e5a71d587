// The KL budget's search along one strategy (DESIGN.md §1 "Minimal change"): the largest strength
// t in [0, 1] whose KL(t) stays within the budget, for a KL that grows with t. Each probe is a
// forward pass over the calibration tokens, so the search spends as few as it can: t = 1 first
// (taken whole when it fits), then a secant step on log KL against log t through the two latest
// probes (KL ~ c t^p; the first step assumes p = 1 from the origin), kept inside the bracket of
// the largest feasible and the smallest infeasible t (a bisection step where it falls outside).
// It stops at a feasible t whose KL reaches `band` x budget, when the bracket is narrower than
// `resolution`, or after `max_steps` probes past t = 1.
#pragma once

#include <functional>

namespace moerecal::recal {

struct SearchLimits {
  double band = 0.95;
  double resolution = 1.0 / 64;
  int max_steps = 6;
};

// One strategy's search, one probe at a time, so that several strategies' probes can share a
// forward pass:
//   StrengthSearch s(budget);
//   while (!s.done()) s.record(kl(s.next()));   // s.best(): the largest feasible t probed
class StrengthSearch {
 public:
  explicit StrengthSearch(double budget, const SearchLimits& limits = {});
  bool done() const { return done_; }
  double next() const { return next_; }  // the strength to probe; valid while !done()
  // The KL at next(); true when that strength is the largest feasible one so far.
  bool record(double kl);
  double best() const { return lo_; }  // 0 when no strength probed was feasible

 private:
  struct Probe {
    double t = 0, kl = 0;
  };
  void plan();

  double budget_;
  SearchLimits limits_;
  Probe before_, last_;  // both start as t = 0: no move, no KL
  double lo_ = 0, hi_ = 1, next_ = 1;
  int steps_ = -1;  // probes past t = 1
  bool done_ = false;
};

// The whole search against one KL function: the largest feasible t probed (0 when none was).
double search_strength(const std::function<double(double)>& kl, double budget,
                       const SearchLimits& limits = {});

}  // namespace moerecal::recal
