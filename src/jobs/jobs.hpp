// One function per command (DESIGN.md §2): each takes a request (the options of its command,
// already parsed into library types) and returns the report the command prints. The command line
// (src/cli) only parses options into these requests and prints the results.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/expert_operand.hpp"
#include "io/token_data.hpp"
#include "linalg/backend.hpp"
#include "linalg/principal.hpp"
#include "recal/mpi.hpp"
#include "recal/outcome.hpp"
#include "report/gate.hpp"

namespace moerecal::jobs {

// What every job may need from the global options.
struct Context {
  linalg::Device device = linalg::Device::kCpu;
  bool quiet = false;                                // no verdict lines on stderr
  std::string command_line;                          // as typed, for changelogs
  std::size_t expert_memory = std::size_t(4) << 30;  // bytes of resident f32 experts per layer
};

struct DataRequest {
  std::filesystem::path file;
  int ctx = 512;
  long long max_tokens = 0;
};

struct SolverRequest {
  analysis::ExpertMatrix matrix = analysis::ExpertMatrix::kGateUp;
  linalg::PrincipalOptions options;
};

// inspect MODEL: the DESIGN.md §7 inspect --json object.
struct InspectRequest {
  std::filesystem::path model;
  SolverRequest solver;
};
nlohmann::json inspect(const InspectRequest& r, const Context& ctx);

// calibrate MODEL -o OUT: the changelog entry (with version and router_id) and the gate verdict.
struct CalibrateRequest {
  std::filesystem::path model;
  std::filesystem::path out;  // empty with dry_run
  bool force = false;
  bool dry_run = false;
  bool activations = false;  // --direction activations (needs data)
  double shrinkage = 0.1;
  bool centred = true;  // --centre: covariance instead of the second moment
  DataRequest data;     // file empty: data-free
  recal::MpiOptions mpi;
  double alpha = 1.0;       // fraction of the geodesic towards the MPI rows
  double kl_budget = -1;    // >= 0: search the moves' strength within this KL (needs data)
  bool refit_bias = false;  // move the family bias to its balancing refit (needs data)
  std::string layers;       // "0-3,7"; empty = all
  nlohmann::json method;    // every option in effect, for the changelog
  DataRequest eval_data;    // file empty: no eval
  std::vector<report::GateRule> gate;
};
struct CalibrateResult {
  nlohmann::json entry;
  bool gate_passed = true;
};
CalibrateResult calibrate(const CalibrateRequest& r, const Context& ctx);

// eval BASE CAND --data F: the eval report (DESIGN.md §7) with the gate's verdict.
struct EvalRequest {
  std::filesystem::path base, cand;
  DataRequest data;
  std::vector<report::GateRule> gate;
  SolverRequest solver;
};
nlohmann::json eval(const EvalRequest& r, const Context& ctx);

// diff OLD NEW: the diff --json object.
struct DiffRequest {
  std::filesystem::path old_path, new_path;
  SolverRequest solver;
};
nlohmann::json diff(const DiffRequest& r, const Context& ctx);

// apply MODEL ROUTER -o OUT: the changelog entry written.
struct ApplyRequest {
  std::filesystem::path model, router, out;
  bool force = false;
};
nlohmann::json apply(const ApplyRequest& r, const Context& ctx);

// perplexity MODEL --data F: the perplexity --json object.
struct PerplexityRequest {
  std::filesystem::path model;
  DataRequest data;
};
nlohmann::json perplexity(const PerplexityRequest& r, const Context& ctx);

// tokenize MODEL FILE: calls fn for every record's ids in file order; returns the tokenizer used
// (empty when every record gave input_ids).
std::string tokenize(const std::filesystem::path& model, const std::filesystem::path& file,
                     const std::function<void(const io::Record&)>& fn);

}  // namespace moerecal::jobs
