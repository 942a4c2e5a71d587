// calibrate: MPI on every router into a new versioned checkpoint (DESIGN.md §1-§3).
#include "recal/calibrate.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "jobs/data.hpp"
#include "jobs/eval_report.hpp"
#include "jobs/progress.hpp"
#include "lineage/changelog.hpp"
#include "lineage/output_checkpoint.hpp"
#include "recal/calibrate_data.hpp"
#include "report/eval_render.hpp"

namespace moerecal::jobs {
namespace {

std::vector<int> selected_layers(const CalibrateRequest& r, const model::ModelSpec& s) {
  try {
    return recal::parse_layers(r.layers, s);
  } catch (const UsageError& e) {
    throw UsageError(std::string("--layers: ") + e.what());
  }
}

void check_retraction(const CalibrateRequest& r, const model::ModelSpec& s) {
  if (r.mpi.retraction != recal::Retraction::kStiefel || s.n_experts() <= s.hidden) return;
  throw UsageError("--retraction stiefel needs n_experts <= hidden_size, but the model has " +
                   std::to_string(s.n_experts()) + " experts and hidden size " +
                   std::to_string(s.hidden));
}

std::vector<recal::LayerOutcome> run_method(const CalibrateRequest& r, const model::MoeModel& m,
                                            const std::vector<int>& layers, const Context& ctx,
                                            linalg::Backend& be, nlohmann::json& calibration) {
  if (!r.activations) {
    Progress progress("calibrate", 0);
    return recal::calibrate_weights(m, layers, r.mpi, be, std::ref(progress));
  }
  const Data d = load_data(r.model, r.data, m.spec.vocab);
  calibration = {{"file", r.data.file.string()},
                 {"sha256", d.tokens.sha256},
                 {"sequences", d.tokens.records},
                 {"windows", d.windows.size()},
                 {"tokens", d.tokens.tokens},
                 {"ctx", d.tokens.ctx},
                 {"tokenizer", tokenizer_json(d.tokens)},
                 {"record_fingerprints", d.tokens.record_fingerprints}};
  Progress progress("calibrate", d.tokens.tokens);
  return recal::calibrate_activations(m, d.windows, layers, {r.mpi, r.shrinkage, ctx.expert_memory},
                                      be, std::ref(progress));
}

nlohmann::json new_entry(const CalibrateRequest& r, const Context& ctx, const std::string& backend,
                         const std::vector<int>& layers, const nlohmann::json& calibration) {
  nlohmann::json method = r.method;
  method["layers"] = layers;
  return {{"action", "calibrate"},
          {"created_utc", lineage::utc_now()},
          {"tool", {{"name", "moe-recal"}, {"version", MOE_RECAL_VERSION}, {"backend", backend}}},
          {"command", ctx.command_line},
          {"method", method},
          {"calibration", calibration},
          {"notes",
           {"experts, shared experts, router biases and selection biases "
            "are kept as they are; only router weights change"}},
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
  const nlohmann::json rep = eval_report({&m, r.model, lineage::router_id(m), nullptr},
                                         {&m, r.out, lineage::router_id(m, payloads), &routers},
                                         data, r.gate, {r.mpi.matrix, r.mpi.solver}, ctx);
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
  return passed;
}

}  // namespace

CalibrateResult calibrate(const CalibrateRequest& r, const Context& ctx) {
  const model::MoeModel m = model::MoeModel::open(r.model);
  const std::vector<int> layers = selected_layers(r, m.spec);
  check_retraction(r, m.spec);
  const std::unique_ptr<linalg::Backend> be = linalg::make_backend(ctx.device);
  std::unique_ptr<lineage::OutputWriter> writer;  // starts copying while the routers are computed
  if (!r.dry_run) writer = std::make_unique<lineage::OutputWriter>(m, r.out, r.force);
  nlohmann::json calibration = nullptr;
  const auto outs = run_method(r, m, layers, ctx, *be, calibration);
  CalibrateResult res{new_entry(r, ctx, be->name(), layers, calibration), true};
  lineage::RouterPayloads payloads;
  std::map<int, engine::RouterWeights> routers;
  for (const auto& o : outs) {
    res.entry["layers"].push_back(recal::to_json(o));
    if (!o.changed) continue;
    payloads[o.before.tensor] = o.after_bytes;
    routers[o.before.layer] = {o.after.rows, o.after.router_bias.values,
                               o.after.selection_bias.values};
  }
  std::map<std::string, std::string> files;
  if (!r.eval_data.file.empty())
    res.gate_passed = add_eval(r, m, payloads, routers, ctx, res.entry, files);
  if (!writer) {
    res.entry["router_id"] = lineage::router_id(m, payloads);
    res.entry["dry_run"] = true;
    return res;
  }
  const lineage::OutputResult out = writer->finish(payloads, res.entry, files);
  res.entry["version"] = out.version;
  res.entry["router_id"] = out.router_id;
  log::note("wrote " + r.out.string() + ": router v" + std::to_string(out.version) + " " +
            out.router_id);
  return res;
}

}  // namespace moerecal::jobs
