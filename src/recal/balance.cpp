#include "recal/balance.hpp"

#include <algorithm>
#include <cmath>

#include "model/selection_counts.hpp"

namespace moerecal::recal {
namespace {

const float* or_null(const std::vector<float>& v) { return v.empty() ? nullptr : v.data(); }

// Mean over tokens of (max - min) of the values the bias is added to: logits for a router bias,
// sigmoid or softmax scores for a selection bias.
double score_spread(const model::RoutingRule& rule, const std::vector<float>& logits, int T,
                    BiasKind kind) {
  const int E = rule.n_experts;
  double total = 0;
  for (int t = 0; t < T; ++t) {
    const float* z = logits.data() + std::size_t(t) * E;
    const auto [lo, hi] = std::minmax_element(z, z + E);
    double spread = *hi - *lo;
    if (kind == BiasKind::kSelection && rule.score == model::ScoreFn::kSigmoid) {
      spread = 1.0 / (1.0 + std::exp(-*hi)) - 1.0 / (1.0 + std::exp(-*lo));
    }
    total += spread;
  }
  return T > 0 ? total / T : 0.0;
}

// Step size of the sign update: doubled after 5 improvements in a row or 5 steps on a plateau
// (no token changed its experts), halved after 10 steps that moved tokens without improving.
struct StepSize {
  double u = 0;
  int streak = 0, flat = 0, worse = 0;
  // True when the search should go back to the best bias found.
  bool update(bool improved, bool plateau) {
    if (improved) {
      worse = flat = 0;
      if (++streak >= 5) u *= 2, streak = 0;
      return false;
    }
    streak = 0;
    if (plateau) {
      if (++flat >= 5) u *= 2, flat = 0;
      return false;
    }
    if (++worse < 10) return false;
    u *= 0.5;
    worse = flat = 0;
    return true;
  }
};

// b_e += u sign(1/E - load_e): the aux-loss-free update.
void sign_step(std::vector<float>& bias, const std::vector<double>& load, double u) {
  const double target = 1.0 / static_cast<double>(bias.size());
  for (std::size_t e = 0; e < bias.size(); ++e) {
    const double gap = target - load[e];
    bias[e] += static_cast<float>(gap > 0 ? u : gap < 0 ? -u : 0.0);
  }
}

}  // namespace

BalanceResult balance_bias(linalg::Backend& be, const model::RoutingRule& rule,
                           const analysis::RouterLayer& router, BiasKind kind, const float* x,
                           int T, const BalanceOptions& opt) {
  const int E = rule.n_experts;
  const std::vector<float> logits = analysis::router_logits(be, router, x, T);
  const std::vector<float>& start =
      kind == BiasKind::kRouter ? router.router_bias.values : router.selection_bias.values;
  std::vector<float> bias = start.empty() ? std::vector<float>(E, 0.0f) : start;
  model::SelectionCounts selection(rule, logits.data(), T, kind == BiasKind::kRouter,
                                   or_null(router.router_bias.values),
                                   or_null(router.selection_bias.values));
  const auto load_of = [&](const std::vector<float>& b) {
    return analysis::load_stats(selection.counts(b), T, rule.top_k);
  };
  BalanceResult best{bias, load_of(bias), 0, 0};
  // The first step scales with the spread of the scores and of the bias itself (a skewed
  // inherited bias may need to move further than the scores spread).
  const auto [b_lo, b_hi] = std::minmax_element(bias.begin(), bias.end());
  StepSize step;
  step.u = opt.first_step * (score_spread(rule, logits, T, kind) + (*b_hi - *b_lo));
  best.step = step.u;
  analysis::LoadStats load = best.load;
  for (int it = 1; it <= opt.max_iters && step.u > 0; ++it) {
    sign_step(bias, load.load, step.u);
    const std::vector<double> previous = std::move(load.load);
    load = load_of(bias);
    best.iterations = it;
    const bool improved = load.maxvio < best.load.maxvio;
    if (improved) {
      best.bias = bias;
      best.load = load;
      if (best.load.maxvio <= 1e-9) break;
    }
    if (step.update(improved, load.load == previous)) {  // oscillating: back to the best
      bias = best.bias;
      load = best.load;
    }
  }
  return best;
}

}  // namespace moerecal::recal
