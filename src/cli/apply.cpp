// moe-recal apply MODEL ROUTER.safetensors -o OUT: swap in any router version (rollback).
#include "cli/commands.hpp"
#include "core/error.hpp"

namespace moerecal::cli {

CLI::App* add_apply(CLI::App& app, ApplyCmd& c) {
  CLI::App* sub = app.add_subcommand(
      "apply", "Write MODEL with the routers of a router file swapped in (rollback, roll forward)");
  sub->add_option("MODEL", c.model, "Hugging Face checkpoint directory (read only)")->required();
  sub->add_option("ROUTER", c.router, "Router file, e.g. OUT/routers/router-v0.safetensors")
      ->required();
  sub->add_option("-o,--output", c.out, "Output checkpoint directory (must not exist)")->required();
  sub->add_flag("--force", c.force, "Replace an existing output directory");
  return sub;
}

int run_apply(const ApplyCmd& c, const GlobalOptions& g) {
  jobs::apply({c.model, c.router, c.out, c.force}, g.context);
  return kExitOk;
}

}  // namespace moerecal::cli
