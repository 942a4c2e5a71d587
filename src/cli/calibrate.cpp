// moe-recal calibrate MODEL -o OUT [--data FILE]: Manifold Power Iteration on every router.
#include "recal/calibrate.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/data.hpp"
#include "cli/eval_run.hpp"
#include "cli/progress.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "recal/calibrate_data.hpp"
#include "report/changelog.hpp"
#include "report/eval_render.hpp"
#include "report/output_checkpoint.hpp"

namespace moerecal::cli {
namespace {

std::string direction(const CalibrateCmd& c) {
  if (c.direction == "auto") return c.data.file.empty() ? "weights" : "activations";
  if (c.direction == "activations" && c.data.file.empty()) {
    throw UsageError("--direction activations needs calibration data: give --data FILE");
  }
  return c.direction;
}

recal::MpiOptions mpi_options(const CalibrateCmd& c) {
  recal::MpiOptions o;
  o.matrix = expert_matrix_or_throw(c.solver.expert_matrix);
  o.steps = recal::parse_steps(c.steps);
  o.radius = recal::parse_radius(c.radius);
  o.retraction =
      c.retraction == "stiefel" ? recal::Retraction::kStiefel : recal::Retraction::kSphere;
  o.solver = principal_options(c.solver);
  return o;
}

nlohmann::json method_json(const CalibrateCmd& c, const recal::MpiOptions& o,
                           const std::vector<int>& layers) {
  nlohmann::json j = {
      {"algorithm", "manifold-power-iteration"},
      {"direction", direction(c)},
      {"expert_matrix", c.solver.expert_matrix},
      {"steps", o.steps == 0 ? nlohmann::json("converge") : nlohmann::json(o.steps)},
      {"radius", c.radius},
      {"retraction", c.retraction},
      {"layers", layers},
      {"solver",
       {{"method", "block power iteration + Rayleigh-Ritz"},
        {"block", o.solver.block},
        {"tol", o.solver.tol},
        {"max_iter", o.solver.max_iter}}}};
  if (direction(c) == "activations") j["shrinkage"] = c.shrinkage;
  return j;
}

void print_table(const std::vector<recal::LayerOutcome>& outs) {
  std::printf("%5s  %-7s  %-21s  %-21s  %-21s  %-10s\n", "layer", "changed",
              "alignment before->after", "row_cos_max before->after", "norm mean before->after",
              "cos(old,new) min");
  for (const auto& o : outs) {
    std::printf("%5d  %-7s  %9.5f -> %-9.5f  %9.5f -> %-9.5f  %9.5f -> %-9.5f  %-10.5f\n",
                o.before.layer, o.changed ? "yes" : "no", o.health_before.align_mean,
                o.health_after.align_mean, o.health_before.row_cos_max, o.health_after.row_cos_max,
                o.health_before.norm_mean, o.health_after.norm_mean, o.old_new_cos_min);
  }
}

std::vector<recal::LayerOutcome> run(const CalibrateCmd& c, const model::MoeModel& m,
                                     const std::vector<int>& layers, const recal::MpiOptions& opt,
                                     linalg::Backend& be, nlohmann::json& calibration) {
  if (direction(c) == "weights") {
    if (!c.data.file.empty()) {
      throw UsageError(
          "--direction weights is data-free; drop --data or use --direction activations");
    }
    Progress progress("calibrate", 0);
    return recal::calibrate_weights(m, layers, opt, be, std::ref(progress));
  }
  const io::TokenData data = load_data(c.model, c.data);
  io::check_vocab(data, m.spec.vocab);
  std::vector<std::vector<int>> windows;
  for (const auto& w : data.windows) windows.push_back(w.ids);
  calibration = {
      {"file", c.data.file.string()},     {"sha256", data.sha256}, {"sequences", data.records},
      {"windows", windows.size()},        {"tokens", data.tokens}, {"ctx", data.ctx},
      {"tokenizer", tokenizer_json(data)}};
  Progress progress("calibrate", data.tokens);
  return recal::calibrate_activations(m, windows, layers, {opt, c.shrinkage}, be,
                                      std::ref(progress));
}

}  // namespace

CLI::App* add_calibrate(CLI::App& app, CalibrateCmd& c) {
  CLI::App* sub = app.add_subcommand(
      "calibrate",
      "Recompute every router row with Manifold Power Iteration into a new checkpoint");
  sub->add_option("MODEL", c.model, "Hugging Face checkpoint directory (read only)")->required();
  sub->add_option("-o,--output", c.out, "Output checkpoint directory (must not exist)");
  sub->add_option("--direction", c.direction,
                  "Operator: weights (A = W^T W) or activations (A = C W^T W, needs --data); "
                  "auto picks activations when --data is given")
      ->check(CLI::IsMember({"auto", "weights", "activations"}))
      ->capture_default_str();
  sub->add_option("--shrinkage", c.shrinkage,
                  "Shrinkage of C towards (tr C / d) I for --direction activations, in [0, 1]")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  add_data_options(*sub, c.data, false);
  sub->add_option("--steps", c.steps, "Power-then-retract steps: a positive integer or converge")
      ->capture_default_str();
  sub->add_option("--radius", c.radius, "Row norm after retraction: mean, keep or a number")
      ->capture_default_str();
  sub->add_option("--retraction", c.retraction, "sphere (per row) or stiefel (orthogonal rows)")
      ->check(CLI::IsMember({"sphere", "stiefel"}))
      ->capture_default_str();
  sub->add_option("--layers", c.layers, "MoE layers to change, e.g. 0-3,7 (default: all)");
  sub->add_flag("--force", c.force, "Replace an existing output directory");
  sub->add_flag("--dry-run", c.dry_run, "Print what would change and write nothing");
  sub->add_flag("--json", c.json, "Print the changelog entry as JSON instead of the table");
  add_solver_options(*sub, c.solver);
  sub->add_option("--eval-data", c.eval_data.file,
                  "After recalibrating, run eval (input vs output) on this held-out data; the "
                  "report goes into OUT and its summary into the changelog entry");
  add_gate_option(*sub, c.gate);
  return sub;
}

int run_calibrate(const CalibrateCmd& c, const GlobalOptions& g) {
  if (c.out.empty() && !c.dry_run) throw UsageError("calibrate: -o OUT is required (or --dry-run)");
  if (!c.gate.empty() && c.eval_data.file.empty()) {
    throw UsageError("calibrate: --gate needs --eval-data FILE (the data the eval runs on)");
  }
  report::parse_gate_rules(c.gate);  // a malformed rule fails before any work
  const recal::MpiOptions opt = mpi_options(c);
  const model::MoeModel m = model::MoeModel::open(c.model);
  const std::vector<int> layers = recal::parse_layers(c.layers, m.spec);
  auto be = linalg::make_cpu_backend();
  std::unique_ptr<report::OutputWriter> writer;  // starts copying while the routers are computed
  if (!c.dry_run) writer = std::make_unique<report::OutputWriter>(m, c.out, c.force);
  nlohmann::json calibration = nullptr;
  const auto outs = run(c, m, layers, opt, *be, calibration);

  nlohmann::json entry = {
      {"action", "calibrate"},
      {"created_utc", report::utc_now()},
      {"tool", {{"name", "moe-recal"}, {"version", MOE_RECAL_VERSION}, {"backend", be->name()}}},
      {"command", g.command_line},
      {"method", method_json(c, opt, layers)},
      {"calibration", calibration},
      {"notes",
       {"experts, shared experts, router biases and selection biases "
        "are kept as they are; only router weights change"}},
      {"layers", nlohmann::json::array()}};
  report::RouterPayloads payloads;
  std::map<int, std::vector<float>> new_routers;
  for (const auto& o : outs) {
    entry["layers"].push_back(report::layer_figures(o));
    if (!o.changed) continue;
    payloads[o.before.tensor] = o.after_bytes;
    new_routers[o.before.layer] = o.after.rows;
  }
  std::map<std::string, std::string> extra_files;
  bool gate_passed = true;
  if (!c.eval_data.file.empty()) {
    DataOptions ed = c.data;
    ed.file = c.eval_data.file;
    const nlohmann::json rep =
        eval_report({&m, c.model, recal::router_id(m), nullptr},
                    {&m, c.out, report::router_id_with(m, payloads), &new_routers}, ed,
                    report::parse_gate_rules(c.gate), c.solver, g);
    gate_passed = rep["gate"]["pass"].get<bool>();
    entry["eval"] = {{"report", "eval-report.json"},
                     {"data", rep["inputs"]["data"]},
                     {"metrics", rep["metrics"]},
                     {"rules", rep["gate"]["rules"]},
                     {"gate", c.gate.empty() ? "none"
                              : gate_passed  ? "passed"
                                             : "failed"}};
    extra_files["eval-report.json"] = rep.dump(2) + "\n";
    extra_files["eval-report.md"] = report::eval_markdown(rep);
  }
  if (writer) {
    const report::OutputResult res = writer->finish(payloads, entry, extra_files);
    entry["version"] = res.version;
    entry["router_id"] = res.router_id;
    log::note("wrote " + c.out.string() + ": router v" + std::to_string(res.version) + " " +
              res.router_id);
  } else {
    entry["router_id"] = report::router_id_with(m, payloads);
    entry["dry_run"] = true;
  }
  if (c.json) {
    std::cout << entry.dump(2) << "\n";
  } else {
    print_table(outs);
  }
  std::cout.flush();
  if (!std::cout) throw IoError("cannot write to standard output");
  return gate_passed ? kExitOk : kExitGateFailed;
}

}  // namespace moerecal::cli
