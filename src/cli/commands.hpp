// One options struct per subcommand: add_* registers its options on the CLI11 app (with units and
// defaults in the help), run_* turns them into the job's request (library errors get the flag
// name added here), runs the job and prints its report. Dispatch is a std::visit in app.cpp.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "jobs/jobs.hpp"

namespace moerecal::cli {

struct GlobalOptions {
  std::string device = "auto";
  int threads = 0;  // 0: the BLAS default
  long long expert_memory_mib = 4096;
  bool quiet = false;
  bool verbose = false;
  jobs::Context context;  // filled from the above once parsed
};

struct SolverOptions {
  std::string expert_matrix = "gate_up";
  double tol = 0;  // 0: the command's default (1e-6; 1e-2 for calibrate's figures)
  int max_iter = 1000;
};

struct DataOptions {
  std::filesystem::path file;
  int ctx = 512;
  long long max_tokens = 0;
};

struct InspectCmd {
  std::filesystem::path model;
  bool json = false;
  SolverOptions solver;
};

struct CalibrateCmd {
  std::filesystem::path model;
  std::filesystem::path out;
  std::string direction = "auto";  // activations with --data, else weights
  double shrinkage = 0.1;
  DataOptions data;
  std::string steps;  // empty: 1 (and, with --data, a KL budget unless --alpha is given)
  std::string radius = "mean";
  std::string retraction = "sphere";
  std::string layers;
  double alpha = -1;      // < 0: not given (1)
  std::string kl_budget;  // a number, "none", or empty: 0.02 with --data and plain defaults
  bool refit_bias = false;
  std::string centre = "on";
  bool no_alignment = false;
  bool force = false;
  bool dry_run = false;
  bool json = false;
  SolverOptions solver;
  DataOptions eval_data;  // --eval-data FILE (--ctx / --max-tokens shared with --data)
  std::vector<std::string> gate;
};

struct DiffCmd {
  std::filesystem::path old_path;
  std::filesystem::path new_path;
  bool json = false;
  double fail_on_diff = -1;  // < 0: never fail
  SolverOptions solver;
};

struct ApplyCmd {
  std::filesystem::path model;
  std::filesystem::path router;
  std::filesystem::path out;
  bool force = false;
};

struct PerplexityCmd {
  std::filesystem::path model;
  DataOptions data;
  bool json = false;
};

struct TokenizeCmd {
  std::filesystem::path model;
  std::filesystem::path file;
  bool json = false;
};

struct EvalCmd {
  std::filesystem::path base;
  std::filesystem::path cand;
  DataOptions data;
  std::vector<std::string> gate;
  std::filesystem::path out;
  std::filesystem::path md;
  std::filesystem::path html;
  SolverOptions solver;
};

struct GateCmd {
  std::filesystem::path report;
  std::vector<std::string> gate;
};

using Command = std::variant<std::monostate, InspectCmd, CalibrateCmd, DiffCmd, ApplyCmd,
                             PerplexityCmd, TokenizeCmd, EvalCmd, GateCmd>;

CLI::App* add_inspect(CLI::App& app, InspectCmd& cmd);
int run_inspect(const InspectCmd& cmd, const GlobalOptions& g);
CLI::App* add_calibrate(CLI::App& app, CalibrateCmd& cmd);
int run_calibrate(const CalibrateCmd& cmd, const GlobalOptions& g);
jobs::CalibrateRequest calibrate_request(const CalibrateCmd& c);  // calibrate_request.cpp
CLI::App* add_diff(CLI::App& app, DiffCmd& cmd);
int run_diff(const DiffCmd& cmd, const GlobalOptions& g);
CLI::App* add_apply(CLI::App& app, ApplyCmd& cmd);
int run_apply(const ApplyCmd& cmd, const GlobalOptions& g);
CLI::App* add_perplexity(CLI::App& app, PerplexityCmd& cmd);
int run_perplexity(const PerplexityCmd& cmd, const GlobalOptions& g);
CLI::App* add_tokenize(CLI::App& app, TokenizeCmd& cmd);
int run_tokenize(const TokenizeCmd& cmd, const GlobalOptions& g);
CLI::App* add_eval(CLI::App& app, EvalCmd& cmd);
int run_eval(const EvalCmd& cmd, const GlobalOptions& g);
CLI::App* add_gate(CLI::App& app, GateCmd& cmd);
int run_gate(const GateCmd& cmd, const GlobalOptions& g);

// Shared options (options.cpp).
void add_data_options(CLI::App& sub, DataOptions& d, bool required);  // --data, --ctx, --max-tokens
void add_solver_options(CLI::App& sub, SolverOptions& opt);  // --expert-matrix, --tol, --max-iter
void add_gate_option(CLI::App& sub, std::vector<std::string>& rules);  // --gate (repeatable)

// Options -> requests; a library UsageError gets its flag's name in front.
jobs::DataRequest data_request(const DataOptions& d);
jobs::SolverRequest solver_request(const SolverOptions& s);
std::vector<report::GateRule> gate_rules(const std::vector<std::string>& rules);

// Writes `text` to stdout; IoError when that fails.
void print(const std::string& text);

}  // namespace moerecal::cli
