// apply: swap in any router version (rollback, roll forward).
#include "core/log.hpp"
#include "jobs/jobs.hpp"
#include "lineage/changelog.hpp"
#include "lineage/output_checkpoint.hpp"
#include "lineage/router_file.hpp"

namespace moerecal::jobs {

nlohmann::json apply(const ApplyRequest& r, const Context& ctx) {
  const model::MoeModel m = model::MoeModel::open(r.model);
  const io::SafetensorsFile f = io::SafetensorsFile::open(r.router);
  std::vector<std::string> notes;
  const lineage::RouterPayloads payloads = lineage::read_router_file(m, f, notes);
  notes.push_back("experts and every non-router tensor are kept as they are");
  lineage::OutputWriter writer(m, r.out, r.force);
  nlohmann::json entry = {
      {"action", "apply"},
      {"created_utc", lineage::utc_now()},
      {"tool", {{"name", "moe-recal"}, {"version", MOE_RECAL_VERSION}, {"backend", "none"}}},
      {"command", ctx.command_line},
      {"source", lineage::router_file_source(f)},
      {"notes", notes}};
  const lineage::OutputResult res = writer.finish(payloads, entry);
  log::note("wrote " + r.out.string() + ": router v" + std::to_string(res.version) + " " +
            res.router_id + " from " + r.router.string());
  entry["version"] = res.version;
  entry["router_id"] = res.router_id;
  return entry;
}

}  // namespace moerecal::jobs
