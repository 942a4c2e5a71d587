// --kl-budget X (DESIGN.md §1 "Minimal change"): the moves' strength is searched so that the KL
// of the final next-token distribution on the calibration tokens stays within X while maxvio
// falls as far as it can. Each strategy (MPI alone, uniform or per expert; the balancing move
// alone — row shift or the family's bias —; both together) is scaled by one strength t in [0, 1]
// for every selected layer; t = 1 is tried first, then strength_search.hpp finds the largest t
// within the budget. The strategies' searches advance together, one probe each per lockstep pass.
// The strategy whose feasible point has the lowest mean maxvio wins (ties: lower KL); no move at
// all (t = 0) when none lowers maxvio. Every point tried is kept: the trade-off explored.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "recal/moves.hpp"
#include "recal/strength_search.hpp"
#include "recal/trial.hpp"

namespace moerecal::recal {

struct Strategy {
  std::string name;  // "mpi", "mpi-per-expert", "shift" or "bias", and "mpi[-per-expert]+..."
  Strengths unit;    // the strengths at t = 1
};

struct TrialPoint {
  std::string strategy;
  double t = 0;
  double kl_mean = 0;
  double maxvio_mean = 0;
};

struct BudgetChoice {
  std::string strategy = "none";
  Strengths strengths;
  TrialPoint point;  // what the choice reached
  TrialResult result;
  std::vector<TrialPoint> explored;
};

// The strategies the targets allow (the balancing move is the family bias' refit where the
// targets hold one, --refit-bias, else the row shift).
std::vector<Strategy> strategies(const std::vector<LayerTargets>& targets);

// The router (rounded to its dtypes) of every selected layer for strengths `s`; the others keep
// the checkpoint's, so a trial shares the layers before the first selected one (trial.hpp).
std::map<int, engine::RouterWeights> candidate_routers(linalg::Backend& be,
                                                       const std::vector<LayerTargets>& targets,
                                                       const Strengths& s, Retraction retraction);

BudgetChoice search_budget(linalg::Backend& be, TrialRunner& runner,
                           const std::vector<LayerTargets>& targets, double budget,
                           Retraction retraction, const SearchLimits& limits = {});

}  // namespace moerecal::recal
