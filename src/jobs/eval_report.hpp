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
#include "io/token_data.hpp"
#include "jobs/jobs.hpp"
#include "model/model.hpp"

namespace moerecal::jobs {

struct EvalSource {
  const model::MoeModel* model = nullptr;
  std::filesystem::path path;
  std::string router_id;
  const std::map<int, engine::RouterWeights>* routers = nullptr;  // overrides (calibrate)
};

// How the eval data overlaps the calibration data of the newest changelog entry in `entries`
// (the candidate's): null when that entry recorded no calibration data, else {version,
// calibration_file, calibration_sha256, same_file (equal sha256), eval_records (records that gave
// a window), shared_records (eval records whose io::record_fingerprint the calibration recorded;
// null when it recorded none)}. Appends a note to `notes` when the files are the same or records
// are shared.
nlohmann::json calibration_overlap(const nlohmann::json& entries, const io::TokenData& data,
                                   nlohmann::json& notes);

// From the changelog of checkpoint `cand`: report["calibration_overlap"] (calibration_overlap())
// and report["calibration_selection"] (the newest entry's "selection": the trade-off calibrate
// explored; null without one). A malformed changelog gives a note and nulls.
void candidate_calibration(const std::filesystem::path& cand, const io::TokenData& data,
                           nlohmann::json& report);

nlohmann::json eval_report(const EvalSource& base, const EvalSource& cand, const DataRequest& data,
                           const std::vector<report::GateRule>& rules, const SolverRequest& solver,
                           const Context& ctx);

}  // namespace moerecal::jobs
