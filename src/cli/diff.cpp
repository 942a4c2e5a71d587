// moe-recal diff OLD NEW: per-layer, per-expert router differences.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "report/text.hpp"

namespace moerecal::cli {

CLI::App* add_diff(CLI::App& app, DiffCmd& c) {
  CLI::App* sub = app.add_subcommand(
      "diff", "Compare the routers of two checkpoints or router files (routers/router-v<N>)");
  sub->add_option("OLD", c.old_path, "Checkpoint directory or router .safetensors file")
      ->required();
  sub->add_option("NEW", c.new_path, "Checkpoint directory or router .safetensors file")
      ->required();
  sub->add_flag("--json", c.json, "Print the report as JSON (schema_version 1)");
  sub->add_option("--fail-on-diff", c.fail_on_diff,
                  "Exit 1 when a layer's relative Frobenius difference exceeds this, or when "
                  "non-router tensors differ")
      ->check(CLI::NonNegativeNumber);
  add_solver_options(*sub, c.solver);
  return sub;
}

int run_diff(const DiffCmd& c, const GlobalOptions& g) {
  const nlohmann::json r =
      jobs::diff({c.old_path, c.new_path, solver_request(c.solver)}, g.context);
  print(c.json ? r.dump(2) + "\n" : report::diff_text(r));
  if (c.fail_on_diff < 0) return kExitOk;
  const bool exceeded = r["max_frobenius_rel"].get<double>() > c.fail_on_diff ||
                        !r["problems"].empty() || r["non_router_identical"] == false;
  log::note(exceeded ? "diff: FAIL (difference exceeds --fail-on-diff)" : "diff: pass");
  return exceeded ? kExitGateFailed : kExitOk;
}

}  // namespace moerecal::cli
