// moe-recal calibrate MODEL -o OUT [--data FILE]: Manifold Power Iteration on every router.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "report/text.hpp"

namespace moerecal::cli {
namespace {

// --steps, --alpha, --kl-budget, --refit-bias, --centre: how far the routers move.
void add_move_options(CLI::App& sub_app, CalibrateCmd& c) {
  CLI::App* sub = &sub_app;
  sub->add_option("--steps", c.steps,
                  "Power-then-retract steps: a number (0: rows not moved) or converge (default 1)");
  sub->add_option("--alpha", c.alpha,
                  "Fraction of the way along the sphere's geodesic from each old row to its MPI "
                  "result, in (0, 1] (default 1; with --data it replaces the KL budget)");
  sub->add_option("--kl-budget", c.kl_budget,
                  "With --data: the largest KL(inherited || new) of the next-token distribution "
                  "on the calibration tokens; the moves' strength is searched within it "
                  "(default 0.02 unless --steps or --alpha is given; none: plain steps)");
  sub->add_flag("--refit-bias", c.refit_bias,
                "With --data: refit the router's own bias (DeepSeek-V3 selection bias, gpt-oss "
                "router bias) on the calibration tokens after the rows are set");
  sub->add_option("--centre", c.centre,
                  "--direction activations: on = covariance of the router inputs (mean "
                  "removed), off = their second moment")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
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
  add_move_options(*sub, c);
  sub->add_option("--radius", c.radius, "Row norm after retraction: mean, keep or a number")
      ->capture_default_str();
  sub->add_option("--retraction", c.retraction, "sphere (per row) or stiefel (orthogonal rows)")
      ->check(CLI::IsMember({"sphere", "stiefel"}))
      ->capture_default_str();
  sub->add_option("--layers", c.layers, "MoE layers to change, e.g. 0-3,7 (default: all)");
  sub->add_flag("--force", c.force, "Replace an existing output directory");
  sub->add_flag("--dry-run", c.dry_run, "Print what would change and write nothing");
  sub->add_flag("--no-alignment", c.no_alignment,
                "Skip the principal-direction solves behind the alignment figures (recorded as "
                "null): only the power steps read the experts (no effect with --steps converge)");
  sub->add_flag("--json", c.json, "Print the changelog entry as JSON instead of the table");
  add_solver_options(*sub, c.solver);
  sub->add_option("--eval-data", c.eval_data.file,
                  "After recalibrating, run eval (input vs output) on this held-out data; the "
                  "report goes into OUT and its summary into the changelog entry");
  add_gate_option(*sub, c.gate);
  return sub;
}

int run_calibrate(const CalibrateCmd& c, const GlobalOptions& g) {
  const jobs::CalibrateResult res = jobs::calibrate(calibrate_request(c), g.context);
  print(c.json ? res.entry.dump(2) + "\n" : report::calibrate_text(res.entry));
  return res.gate_passed ? kExitOk : kExitGateFailed;
}

}  // namespace moerecal::cli
