// calibrate: MPI and the balancing moves on every router into a new versioned checkpoint
// (DESIGN.md §1-§3).
#include "recal/calibrate.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "jobs/calibrate_steps.hpp"
#include "jobs/eval_report.hpp"
#include "jobs/progress.hpp"
#include "lineage/changelog.hpp"
#include "lineage/output_checkpoint.hpp"
#include "report/eval_render.hpp"

namespace moerecal::jobs {
namespace {

constexpr const char* kUnmeasured =
    "data-free: the effect of the new routers on the model's predictions was not measured; "
    "measure it with --data (KL budget) or --eval-data FILE (held-out eval)";

std::vector<int> selected_layers(const CalibrateRequest& r, const model::ModelSpec& s) {
  try {
    return recal::parse_layers(r.layers, s);
  } catch (const UsageError& e) {
    throw UsageError(std::string("--layers: ") + e.what());
  }
}

void check_request(const CalibrateRequest& r, const model::ModelSpec& s) {
  if (r.mpi.retraction == recal::Retraction::kStiefel && s.n_experts() > s.hidden) {
    throw UsageError("--retraction stiefel needs n_experts <= hidden_size, but the model has " +
                     std::to_string(s.n_experts()) + " experts and hidden size " +
                     std::to_string(s.hidden));
  }
  if (r.refit_bias && !s.routing.router_bias && !s.routing.selection_bias) {
    throw UsageError("--refit-bias: the " + s.model_type +
                     " router has no bias to refit (DeepSeek-V3 lineage and gpt-oss have one)");
  }
}

std::vector<recal::LayerOutcome> data_free(const CalibrateRequest& r, const model::MoeModel& m,
                                           const std::vector<int>& layers, linalg::Backend& be) {
  std::vector<recal::LayerTargets> targets;
  {
    Progress progress("calibrate", 0);
    targets = recal::weight_targets(m, layers, r.mpi, be, std::ref(progress));
  }
  std::vector<recal::LayerOutcome> outs;
  for (const auto& t : targets)
    outs.push_back(recal::layer_outcome(be, t, {r.alpha, 0, 0}, r.mpi.retraction));
  return outs;
}

nlohmann::json new_entry(const CalibrateRequest& r, const Context& ctx, const std::string& backend,
                         const std::vector<int>& layers) {
  nlohmann::json method = r.method;
  method["layers"] = layers;
  nlohmann::json notes = {
      "experts and shared experts are kept as they are; router biases and selection biases "
      "change only with --refit-bias"};
  if (r.data.file.empty() && r.eval_data.file.empty()) notes.push_back(kUnmeasured);
  return {{"action", "calibrate"},
          {"created_utc", lineage::utc_now()},
          {"tool", {{"name", "moe-recal"}, {"version", MOE_RECAL_VERSION}, {"backend", backend}}},
          {"command", ctx.command_line},
          {"method", method},
          {"calibration", nullptr},
          {"notes", notes},
          {"layers", nlohmann::json::array()}};
}

// The eval of input vs output on --eval-data: its summary goes into the entry, its reports into
// `files`. Returns the gate's verdict.
bool add_eval(const CalibrateRequest& r, const model::MoeModel& m,
              const lineage::RouterPayloads& payloads,
              const std::map<int, engine::RouterWeights>& routers, const Context& ctx,
              nlohmann::json& entry, std::map<std::string, std::string>& files) {
  DataRequest data = r.data;
  data.file = r.eval_data.file;
  nlohmann::json rep = eval_report({&m, r.model, lineage::router_id(m), nullptr},
                                   {&m, r.out, lineage::router_id(m, payloads), &routers}, data,
                                   r.gate, {r.mpi.matrix, r.mpi.solver}, ctx);
  rep["calibration_selection"] = entry.contains("selection") ? entry["selection"] : nullptr;
  const bool passed = rep["gate"]["pass"].get<bool>();
  entry["eval"] = {{"report", "eval-report.json"},
                   {"data", rep["inputs"]["data"]},
                   {"metrics", rep["metrics"]},
                   {"rules", rep["gate"]["rules"]},
                   {"gate", r.gate.empty() ? "none"
                            : passed       ? "passed"
                                           : "failed"}};
  files["eval-report.json"] = rep.dump(2) + "\n";
  files["eval-report.md"] = report::eval_markdown(rep);
  files["eval-report.html"] = report::eval_html(rep);
  return passed;
}

// Writes OUT (or, with --dry-run, only the router id) and completes the entry.
void write(lineage::OutputWriter* writer, const model::MoeModel& m, const CalibrateRequest& r,
           const lineage::RouterPayloads& payloads, const std::map<std::string, std::string>& files,
           nlohmann::json& entry) {
  if (!writer) {
    entry["router_id"] = lineage::router_id(m, payloads);
    entry["dry_run"] = true;
    return;
  }
  const lineage::OutputResult out = writer->finish(payloads, entry, files);
  entry["version"] = out.version;
  entry["router_id"] = out.router_id;
  log::note("wrote " + r.out.string() + ": router v" + std::to_string(out.version) + " " +
            out.router_id);
}

}  // namespace

CalibrateResult calibrate(const CalibrateRequest& r, const Context& ctx) {
  const model::MoeModel m = model::MoeModel::open(r.model);
  const std::vector<int> layers = selected_layers(r, m.spec);
  check_request(r, m.spec);
  const std::unique_ptr<linalg::Backend> be = linalg::make_backend(ctx.device);
  std::unique_ptr<lineage::OutputWriter> writer;  // starts copying while the routers are computed
  if (!r.dry_run) writer = std::make_unique<lineage::OutputWriter>(m, r.out, r.force);
  CalibrateResult res{new_entry(r, ctx, be->name(), layers), true};
  const auto outs = r.data.file.empty()
                        ? data_free(r, m, layers, *be)
                        : calibrate_with_data(r, m, layers, ctx, *be, res.entry["calibration"],
                                              res.entry["selection"]);
  if (r.data.file.empty() && r.eval_data.file.empty()) log::note(kUnmeasured);
  lineage::RouterPayloads payloads;
  std::map<int, engine::RouterWeights> routers;
  for (const auto& o : outs) {
    res.entry["layers"].push_back(recal::to_json(o));
    payloads.insert(o.payloads.begin(), o.payloads.end());
    if (o.changed) routers[o.before.layer] = recal::router_weights(o.after);
  }
  std::map<std::string, std::string> files;
  if (!r.eval_data.file.empty()) {
    res.gate_passed = add_eval(r, m, payloads, routers, ctx, res.entry, files);
  }
  write(writer.get(), m, r, payloads, files, res.entry);
  return res;
}

}  // namespace moerecal::jobs
