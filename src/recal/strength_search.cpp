#include "recal/strength_search.hpp"

#include <cmath>

namespace moerecal::recal {

StrengthSearch::StrengthSearch(double budget, const SearchLimits& limits)
    : budget_(budget), limits_(limits) {}

bool StrengthSearch::record(double kl) {
  const Probe p{next_, kl};
  ++steps_;
  before_ = last_;  // before the first probe, last_ is t = 0 with no KL
  last_ = p;
  if (!(kl <= budget_)) {  // NaN counts as over the budget
    hi_ = p.t;
    plan();
    return false;
  }
  lo_ = p.t;
  done_ = p.t == 1 || kl >= limits_.band * budget_;
  if (!done_) plan();
  return true;
}

// Where KL ~ c t^p through before_ and last_ reaches the middle of the band (p = 1 through the
// origin when before_ says nothing about the slope); a bisection step where that is not inside
// the bracket.
void StrengthSearch::plan() {
  if (steps_ >= limits_.max_steps || hi_ - lo_ <= limits_.resolution) {
    done_ = true;
    return;
  }
  const Probe &a = before_, &b = last_;
  double p = 1;
  if (a.t > 0 && a.kl > 0 && b.kl > 0 && a.t != b.t)
    p = std::log(b.kl / a.kl) / std::log(b.t / a.t);
  const double aim = 0.5 * (1 + limits_.band) * budget_;
  double t = -1;
  if (p > 0 && std::isfinite(p) && b.kl > 0) t = b.t * std::pow(aim / b.kl, 1 / p);
  const double margin = 1e-3 * (hi_ - lo_);
  next_ = t >= lo_ + margin && t <= hi_ - margin ? t : 0.5 * (lo_ + hi_);
}

double search_strength(const std::function<double(double)>& kl, double budget,
                       const SearchLimits& limits) {
  StrengthSearch s(budget, limits);
  while (!s.done()) s.record(kl(s.next()));
  return s.best();
}

}  // namespace moerecal::recal
