#include "recal/budget.hpp"

namespace moerecal::recal {
namespace {

Strengths scaled(const Strengths& unit, double t) {
  return {unit.mpi * t, unit.shift * t, unit.bias * t, unit.per_expert};
}

BudgetChoice choice(const Strategy& s, double t, TrialResult r) {
  BudgetChoice c;
  c.strategy = s.name;
  c.strengths = scaled(s.unit, t);
  c.point = {s.name, t, r.kl_mean, r.maxvio_mean};
  c.result = std::move(r);
  return c;
}

bool better(const TrialPoint& a, const TrialPoint& b) {
  return a.maxvio_mean < b.maxvio_mean || (a.maxvio_mean == b.maxvio_mean && a.kl_mean < b.kl_mean);
}

}  // namespace

std::vector<Strategy> strategies(const std::vector<LayerTargets>& targets) {
  bool bias = false;
  for (const LayerTargets& t : targets) bias = bias || t.has_bias();
  const std::string balance = bias ? "bias" : "shift";
  const Strengths unit_balance = bias ? Strengths{0, 0, 1} : Strengths{0, 1, 0};
  return {{"mpi", {1, 0, 0}},
          {"mpi-per-expert", {1, 0, 0, true}},
          {balance, unit_balance},
          {"mpi+" + balance, {1, unit_balance.shift, unit_balance.bias}},
          {"mpi-per-expert+" + balance, {1, unit_balance.shift, unit_balance.bias, true}}};
}

std::map<int, engine::RouterWeights> candidate_routers(linalg::Backend& be,
                                                       const std::vector<LayerTargets>& targets,
                                                       const Strengths& s, Retraction retraction) {
  std::map<int, engine::RouterWeights> out;
  for (const LayerTargets& t : targets) {
    if (t.selected)
      out[t.inherited.layer] = router_weights(rounded(candidate(be, t, s, retraction)));
  }
  return out;
}

// Every strategy's search advances one probe per round, and a round's probes share one lockstep
// forward pass (each layer's weights read once for all of them).
BudgetChoice search_budget(linalg::Backend& be, TrialRunner& runner,
                           const std::vector<LayerTargets>& targets, double budget,
                           Retraction retraction, const SearchLimits& limits) {
  const std::vector<Strategy> all = strategies(targets);
  const TrialResult& inherited = runner.inherited();
  std::vector<StrengthSearch> searches(all.size(), StrengthSearch(budget, limits));
  std::vector<BudgetChoice> found;  // per strategy: its largest feasible strength (t = 0: none)
  for (const Strategy& s : all) found.push_back(choice(s, 0.0, inherited));
  std::vector<std::vector<TrialPoint>> explored(all.size());
  for (;;) {
    std::vector<std::size_t> open;
    std::vector<std::map<int, engine::RouterWeights>> candidates;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (searches[i].done()) continue;
      open.push_back(i);
      candidates.push_back(
          candidate_routers(be, targets, scaled(all[i].unit, searches[i].next()), retraction));
    }
    if (open.empty()) break;
    std::vector<TrialResult> results = runner.run(candidates);
    for (std::size_t j = 0; j < open.size(); ++j) {
      const std::size_t i = open[j];
      const double t = searches[i].next();
      explored[i].push_back({all[i].name, t, results[j].kl_mean, results[j].maxvio_mean});
      if (searches[i].record(results[j].kl_mean))
        found[i] = choice(all[i], t, std::move(results[j]));
    }
  }
  BudgetChoice best{"none", {}, {"none", 0, 0, inherited.maxvio_mean}, inherited, {}};
  for (BudgetChoice& c : found) {
    if (c.point.t > 0 && better(c.point, best.point)) best = std::move(c);
  }
  for (const auto& points : explored) {
    best.explored.insert(best.explored.end(), points.begin(), points.end());
  }
  return best;
}

}  // namespace moerecal::recal
