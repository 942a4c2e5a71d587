// eval: does the eval data overlap the data the candidate's router was calibrated on?
#include <set>

#include "core/error.hpp"
#include "jobs/eval_report.hpp"
#include "lineage/router_id.hpp"

namespace moerecal::jobs {
namespace {

using nlohmann::json;

// The calibration's record fingerprints, or null when the entry did not record them.
json recorded_fingerprints(const json& calibration) {
  const json& f =
      calibration.contains("record_fingerprints") ? calibration["record_fingerprints"] : json();
  if (!f.is_array()) return nullptr;
  for (const auto& x : f) {
    if (!x.is_string()) return nullptr;
  }
  return f;
}

std::string overlap_note(const json& o) {
  const std::string version = "v" + o["version"].dump();
  const std::string file = o["calibration_file"].is_string()
                               ? o["calibration_file"].get<std::string>()
                               : std::string("?");
  const std::string tail =
      ": its figures measure the fit to the calibration records, not held-out behaviour";
  if (o["same_file"].get<bool>()) {
    return "the eval data is the calibration data of the candidate's router " + version + " (" +
           file + ", same sha256)" + tail;
  }
  return o["shared_records"].dump() + " of " + o["eval_records"].dump() +
         " eval records are calibration records of the candidate's router " + version + " (" +
         file + ", same token ids)" + tail;
}

}  // namespace

json calibration_overlap(const json& entries, const io::TokenData& data, json& notes) {
  if (!entries.is_array() || entries.empty() || !entries.back().is_object()) return nullptr;
  const json& entry = entries.back();
  if (!entry.contains("calibration") || !entry["calibration"].is_object()) return nullptr;
  const json& cal = entry["calibration"];
  const json fingerprints = recorded_fingerprints(cal);
  json shared = nullptr;
  if (fingerprints.is_array()) {
    const std::set<std::string> seen(fingerprints.begin(), fingerprints.end());
    long long n = 0;
    for (const std::string& f : data.record_fingerprints) n += seen.count(f) ? 1 : 0;
    shared = n;
  }
  const json sha = cal.contains("sha256") ? cal["sha256"] : json();
  json o = {{"version", entry.contains("version") ? entry["version"] : json()},
            {"calibration_file", cal.contains("file") ? cal["file"] : json()},
            {"calibration_sha256", sha},
            {"same_file", sha.is_string() && sha.get<std::string>() == data.sha256},
            {"eval_records", data.record_fingerprints.size()},
            {"shared_records", shared}};
  if (o["same_file"].get<bool>() || (shared.is_number() && shared.get<long long>() > 0))
    notes.push_back(overlap_note(o));
  return o;
}

void candidate_calibration(const std::filesystem::path& cand, const io::TokenData& data,
                           json& report) {
  report["calibration_overlap"] = nullptr;
  report["calibration_selection"] = nullptr;
  try {
    const json entries = lineage::read_changelog_entries(cand);
    report["calibration_overlap"] = calibration_overlap(entries, data, report["notes"]);
    if (!entries.empty() && entries.back().contains("selection") &&
        entries.back()["selection"].is_object()) {
      report["calibration_selection"] = entries.back()["selection"];
    }
  } catch (const FormatError& e) {
    report["notes"].push_back(std::string("calibration overlap not checked: ") + e.what());
  }
}

}  // namespace moerecal::jobs
