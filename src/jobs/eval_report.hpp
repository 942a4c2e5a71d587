// The eval report shared by `eval` and `calibrate --eval-data`: compare::evaluate on a data file,
// with inputs, settings and the gate's verdict added (DESIGN.md §7 eval -o); the summary and the
// verdict go to stderr unless quiet. Internal to jobs/.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/layer_weights.hpp"
#include "jobs/jobs.hpp"
#include "model/model.hpp"

namespace moerecal::jobs {

struct EvalSource {
  const model::MoeModel* model = nullptr;
  std::filesystem::path path;
  std::string router_id;
  const std::map<int, engine::RouterWeights>* routers = nullptr;  // overrides (calibrate)
};

nlohmann::json eval_report(const EvalSource& base, const EvalSource& cand, const DataRequest& data,
                           const std::vector<report::GateRule>& rules, const SolverRequest& solver,
                           const Context& ctx);

}  // namespace moerecal::jobs
