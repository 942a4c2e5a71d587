#include "recal/budget.hpp"

namespace moerecal::recal {
namespace {

Strengths scaled(const Strengths& unit, double t) {
  return {unit.mpi * t, unit.shift * t, unit.bias * t, unit.per_expert};
}

struct Probe {
  linalg::Backend& be;
  TrialRunner& runner;
  const std::vector<LayerTargets>& targets;
  Retraction retraction;
  std::vector<TrialPoint>& explored;

  TrialResult operator()(const Strategy& s, double t) {
    TrialResult r = runner.run(candidate_routers(be, targets, scaled(s.unit, t), retraction));
    explored.push_back({s.name, t, r.kl_mean, r.maxvio_mean});
    return r;
  }
};

BudgetChoice choice(const Strategy& s, double t, TrialResult r) {
  BudgetChoice c;
  c.strategy = s.name;
  c.strengths = scaled(s.unit, t);
  c.point = {s.name, t, r.kl_mean, r.maxvio_mean};
  c.result = std::move(r);
  return c;
}

// The largest strength within the budget for one strategy (t = 0 when none is).
BudgetChoice best_of(Probe& probe, const Strategy& s, double budget, const StrengthSearch& search,
                     const TrialResult& inherited) {
  BudgetChoice c = choice(s, 0.0, inherited);
  const auto kl = [&](double t) {
    TrialResult r = probe(s, t);
    const double v = r.kl_mean;
    if (v <= budget && t > c.point.t) c = choice(s, t, std::move(r));
    return v;
  };
  search_strength(kl, budget, search);
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
    out[t.inherited.layer] = router_weights(rounded(candidate(be, t, s, retraction)));
  }
  return out;
}

BudgetChoice search_budget(linalg::Backend& be, TrialRunner& runner,
                           const std::vector<LayerTargets>& targets, double budget,
                           Retraction retraction, const StrengthSearch& search) {
  std::vector<TrialPoint> explored;
  Probe probe{be, runner, targets, retraction, explored};
  const TrialResult& inherited = runner.inherited();
  BudgetChoice best{"none", {}, {"none", 0, 0, inherited.maxvio_mean}, inherited, {}};
  for (const Strategy& s : strategies(targets)) {
    BudgetChoice c = best_of(probe, s, budget, search, inherited);
    if (c.point.t > 0 && better(c.point, best.point)) best = std::move(c);
  }
  best.explored = std::move(explored);
  return best;
}

}  // namespace moerecal::recal
