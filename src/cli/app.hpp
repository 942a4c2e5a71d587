// The moe-recal command line: builds the CLI11 app (also used by the man-page agreement test)
// and runs a command line to an exit code. run_main never throws.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.hpp"

namespace moerecal::cli {

struct App {
  std::unique_ptr<CLI::App> app;
  GlobalOptions global;
  InspectCmd inspect;
  CalibrateCmd calibrate;
  DiffCmd diff;
  ApplyCmd apply;
  PerplexityCmd perplexity;
  TokenizeCmd tokenize;
  EvalCmd eval;
  GateCmd gate;
  // parsed subcommand -> Command
  Command selected() const;
};

// Every option and subcommand registered, nothing parsed.
std::unique_ptr<App> build_app();

// Parses argv, runs the command, maps errors to exit codes (DESIGN.md §2). Never throws.
int run_main(int argc, char** argv) noexcept;

// "moe-recal 0.1.0\nBLAS: ...\nCUDA: ..." for --version.
std::string version_text();

}  // namespace moerecal::cli
