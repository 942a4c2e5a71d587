// The eval report shared by `eval` and `calibrate --eval-data`: runs report::evaluate on a data
// file, adds inputs, settings and the gate's verdict (DESIGN.md §7 eval -o), prints the verdict.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "model/model_spec.hpp"
#include "report/gate.hpp"

namespace moerecal::cli {

struct EvalSource {
  const model::MoeModel* model = nullptr;
  std::filesystem::path path;
  std::string router_id;
  const std::map<int, std::vector<float>>* routers = nullptr;  // overrides (calibrate)
};

// The full report. Verdict lines go to stderr unless quiet.
nlohmann::json eval_report(const EvalSource& base, const EvalSource& cand, const DataOptions& data,
                           const std::vector<report::GateRule>& rules, const SolverOptions& solver,
                           const GlobalOptions& g);

// Registers --gate (repeatable, comma-separated rules).
void add_gate_option(CLI::App& sub, std::vector<std::string>& rules);

}  // namespace moerecal::cli
