// Options several subcommands share, and their conversion into job requests.
#include <iostream>

#include "cli/commands.hpp"
#include "core/error.hpp"

namespace moerecal::cli {

void add_data_options(CLI::App& sub, DataOptions& d, bool required) {
  auto* o = sub.add_option(
      "--data", d.file,
      "Data: .jsonl, one {\"input_ids\": [...]} or {\"text\": \"...\"} per line, or .txt (one "
      "record, tokenized with the model's tokenizer.json)");
  if (required) o->required();
  sub.add_option("--ctx", d.ctx, "Window length in tokens; longer records are cut into windows")
      ->check(CLI::Range(2, 1 << 20))
      ->capture_default_str();
  sub.add_option("--max-tokens", d.max_tokens, "Cap on the total number of tokens (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

void add_solver_options(CLI::App& sub, SolverOptions& opt) {
  sub.add_option("--expert-matrix", opt.expert_matrix,
                 "Expert matrix whose principal direction is used: gate_up, gate, up or down")
      ->check(CLI::IsMember({"gate_up", "gate", "up", "down"}))
      ->capture_default_str();
  sub.add_option("--tol", opt.tol,
                 "Solver tolerance on sin(theta) between iterates (default 1e-06; calibrate "
                 "without --steps converge: 1e-02, the precision of its alignment figures)")
      ->check(CLI::PositiveNumber);
  sub.add_option("--max-iter", opt.max_iter, "Solver iteration cap per expert")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

void add_gate_option(CLI::App& sub, std::vector<std::string>& rules) {
  sub.add_option("--gate", rules,
                 "Gate rule METRIC OP NUMBER (OP: < <= > >= ==), or slice.NAME.METRIC OP NUMBER "
                 "for one slice of the data; repeatable or comma-separated, e.g. "
                 "kl.mean<=0.02,routing.dead.cand<=0,slice.python.kl.mean<=0.02")
      ->allow_extra_args(false);
}

jobs::DataRequest data_request(const DataOptions& d) { return {d.file, d.ctx, d.max_tokens}; }

jobs::SolverRequest solver_request(const SolverOptions& s) {
  const auto m = analysis::parse_expert_matrix(s.expert_matrix);
  if (!m) {
    throw UsageError("--expert-matrix: expected gate_up, gate, up or down, found '" +
                     s.expert_matrix + "'");
  }
  jobs::SolverRequest r;
  r.matrix = *m;
  r.options.tol = s.tol > 0 ? s.tol : 1e-6;
  r.options.max_iter = s.max_iter;
  return r;
}

std::vector<report::GateRule> gate_rules(const std::vector<std::string>& rules) {
  try {
    return report::parse_gate_rules(rules);
  } catch (const UsageError& e) {
    throw UsageError(std::string("--gate ") + e.what());
  }
}

void print(const std::string& text) {
  std::cout << text;
  std::cout.flush();
  if (!std::cout) throw IoError("cannot write to standard output");
}

}  // namespace moerecal::cli
