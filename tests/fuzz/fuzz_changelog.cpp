// router-changelog.json as a checkpoint carries it: read, versioned, rendered as Markdown, and
// compared with a small data set as eval's calibration-overlap note does.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "io/token_data.hpp"
#include "jobs/eval_report.hpp"
#include "lineage/changelog.hpp"
#include "lineage/router_id.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moerecal;
  const auto dir = fuzz::scratch_dir();
  fuzz::write_bytes(dir / "router-changelog.json", fuzz::as_text(data, size));
  try {
    (void)lineage::router_version(dir);
    const nlohmann::json entries = lineage::read_changelog_entries(dir);
    (void)lineage::changelog_markdown(entries);
    io::TokenData d;
    d.path = "eval.jsonl";
    d.sha256 = std::string(64, 'a');
    d.records = 1;
    d.record_fingerprints = {io::record_fingerprint({1, 2, 3})};
    nlohmann::json notes = nlohmann::json::array();
    (void)jobs::calibration_overlap(entries, d, notes);
    nlohmann::json report = {{"notes", nlohmann::json::array()}};
    jobs::candidate_calibration(dir, d, report);
  } catch (const Error&) {
  }
  return 0;
}
