// One config struct per subcommand: add_* registers its options on the CLI11 app (with units and
// defaults in the help), run_* validates and runs it. Dispatch is a std::visit in app.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <variant>

namespace moerecal::cli {

struct GlobalOptions {
  std::string device = "auto";
  int threads = 0;  // 0: the BLAS default
  bool quiet = false;
  bool verbose = false;
};

struct SolverOptions {
  std::string expert_matrix = "gate_up";
  double tol = 1e-6;
  int max_iter = 1000;
};

struct InspectCmd {
  std::filesystem::path model;
  bool json = false;
  SolverOptions solver;
};

using Command = std::variant<std::monostate, InspectCmd>;

CLI::App* add_inspect(CLI::App& app, InspectCmd& cmd);
int run_inspect(const InspectCmd& cmd, const GlobalOptions& g);

// Registers --expert-matrix, --tol, --max-iter on a subcommand.
void add_solver_options(CLI::App& sub, SolverOptions& opt);

}  // namespace moerecal::cli
