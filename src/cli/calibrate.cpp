// moe-recal calibrate MODEL -o OUT [--data FILE]: Manifold Power Iteration on every router.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "report/text.hpp"

namespace moerecal::cli {
namespace {

bool activations(const CalibrateCmd& c) {
  if (c.direction == "auto") return !c.data.file.empty();
  if (c.direction == "activations" && c.data.file.empty()) {
    throw UsageError("--direction activations needs calibration data: give --data FILE");
  }
  if (c.direction == "weights" && !c.data.file.empty()) {
    throw UsageError(
        "--direction weights is data-free; drop --data or use --direction activations");
  }
  return c.direction == "activations";
}

template <class F>
auto flagged(const char* flag, F&& f) {
  try {
    return f();
  } catch (const UsageError& e) {
    throw UsageError(std::string(flag) + ": " + e.what());
  }
}

recal::MpiOptions mpi_options(const CalibrateCmd& c) {
  recal::MpiOptions o;
  const jobs::SolverRequest s = solver_request(c.solver);
  o.matrix = s.matrix;
  o.solver = s.options;
  o.steps = flagged("--steps", [&] { return recal::parse_steps(c.steps); });
  o.radius = flagged("--radius", [&] { return recal::parse_radius(c.radius); });
  o.retraction =
      c.retraction == "stiefel" ? recal::Retraction::kStiefel : recal::Retraction::kSphere;
  return o;
}

nlohmann::json method_json(const CalibrateCmd& c, const recal::MpiOptions& o, bool act) {
  nlohmann::json j = {
      {"algorithm", "manifold-power-iteration"},
      {"direction", act ? "activations" : "weights"},
      {"expert_matrix", c.solver.expert_matrix},
      {"steps", o.steps == 0 ? nlohmann::json("converge") : nlohmann::json(o.steps)},
      {"radius", c.radius},
      {"retraction", c.retraction},
      {"solver",
       {{"method", "block power iteration + Rayleigh-Ritz"},
        {"block", o.solver.block},
        {"tol", o.solver.tol},
        {"max_iter", o.solver.max_iter}}}};
  if (act) j["shrinkage"] = c.shrinkage;
  return j;
}

jobs::CalibrateRequest request(const CalibrateCmd& c) {
  if (c.out.empty() && !c.dry_run) throw UsageError("calibrate: -o OUT is required (or --dry-run)");
  if (!c.gate.empty() && c.eval_data.file.empty()) {
    throw UsageError("calibrate: --gate needs --eval-data FILE (the data the eval runs on)");
  }
  jobs::CalibrateRequest r;
  r.gate = gate_rules(c.gate);  // a malformed rule fails before any work
  r.mpi = mpi_options(c);
  r.activations = activations(c);
  r.method = method_json(c, r.mpi, r.activations);
  r.model = c.model, r.out = c.out, r.force = c.force, r.dry_run = c.dry_run;
  r.shrinkage = c.shrinkage;
  r.data = data_request(c.data);
  r.layers = c.layers;
  r.eval_data = data_request(c.eval_data);
  return r;
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
  const jobs::CalibrateResult res = jobs::calibrate(request(c), g.context);
  print(c.json ? res.entry.dump(2) + "\n" : report::calibrate_text(res.entry));
  return res.gate_passed ? kExitOk : kExitGateFailed;
}

}  // namespace moerecal::cli
