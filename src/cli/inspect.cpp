// moe-recal inspect MODEL [--json]: architecture, storage and weight-only router health.
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "report/text.hpp"

namespace moerecal::cli {

CLI::App* add_inspect(CLI::App& app, InspectCmd& cmd) {
  CLI::App* sub = app.add_subcommand(
      "inspect", "Architecture, storage and weight-only router health of a checkpoint");
  sub->add_option("MODEL", cmd.model, "Hugging Face checkpoint directory")->required();
  sub->add_flag("--json", cmd.json, "Print the report as JSON (schema_version 1)");
  add_solver_options(*sub, cmd.solver);
  return sub;
}

int run_inspect(const InspectCmd& cmd, const GlobalOptions& g) {
  const nlohmann::json r = jobs::inspect({cmd.model, solver_request(cmd.solver)}, g.context);
  print(cmd.json ? r.dump(2) + "\n" : report::inspect_text(r));
  return kExitOk;
}

}  // namespace moerecal::cli
