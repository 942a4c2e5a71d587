#include "recal/strength_search.hpp"

#include <cmath>

namespace moerecal::recal {
namespace {

struct Probe {
  double t = 0, kl = 0;
};

// Where KL ~ c t^p through `a` and `b` (b the latest probe) reaches `aim`; p = 1 through the
// origin when `a` says nothing about the slope.
double secant(const Probe& a, const Probe& b, double aim) {
  double p = 1;
  if (a.t > 0 && a.kl > 0 && b.kl > 0 && a.t != b.t)
    p = std::log(b.kl / a.kl) / std::log(b.t / a.t);
  if (!(p > 0) || !std::isfinite(p) || !(b.kl > 0)) return -1;
  return b.t * std::pow(aim / b.kl, 1 / p);
}

}  // namespace

double search_strength(const std::function<double(double)>& kl, double budget,
                       const StrengthSearch& opt) {
  Probe last{1, kl(1)};
  if (last.kl <= budget) return 1;
  Probe before;  // t = 0: no move, no KL
  double lo = 0, hi = 1;
  const double aim = 0.5 * (1 + opt.band) * budget;
  for (int i = 0; i < opt.max_probes && hi - lo > opt.resolution; ++i) {
    double t = secant(before, last, aim);
    const double margin = 1e-3 * (hi - lo);  // a step that lands on the bracket's ends: bisect
    if (!(t >= lo + margin && t <= hi - margin)) t = 0.5 * (lo + hi);
    before = last;
    last = {t, kl(t)};
    if (last.kl > budget) {
      hi = t;
      continue;
    }
    lo = t;
    if (last.kl >= opt.band * budget) break;
  }
  return lo;
}

}  // namespace moerecal::recal
