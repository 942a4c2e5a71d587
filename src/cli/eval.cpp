// moe-recal eval BASE CAND --data FILE: the shadow-eval report and its gate.
#include "report/eval.hpp"

#include <cstdio>
#include <iostream>

#include "cli/data.hpp"
#include "cli/eval_run.hpp"
#include "cli/progress.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "io/checkpoint.hpp"
#include "io/staged_dir.hpp"
#include "linalg/backend.hpp"
#include "linalg/parallel.hpp"
#include "recal/router_set.hpp"
#include "report/eval_render.hpp"

namespace moerecal::cli {

void add_gate_option(CLI::App& sub, std::vector<std::string>& rules) {
  sub.add_option("--gate", rules,
                 "Gate rule METRIC OP NUMBER (OP: < <= > >= ==); repeatable or comma-separated, "
                 "e.g. kl.mean<=0.02,routing.dead.cand<=0")
      ->allow_extra_args(false);
}

nlohmann::json eval_report(const EvalSource& base, const EvalSource& cand, const DataOptions& data,
                           const std::vector<report::GateRule>& rules, const SolverOptions& solver,
                           const GlobalOptions& g) {
  const io::TokenData d = load_data(base.path, data);
  io::check_vocab(d, base.model->spec.vocab);
  std::vector<std::vector<int>> windows;
  for (const auto& w : d.windows) windows.push_back(w.ids);
  auto be = linalg::make_cpu_backend();
  report::EvalOptions opt;
  opt.matrix = expert_matrix_or_throw(solver.expert_matrix);
  opt.solver = principal_options(solver);
  nlohmann::json r;
  {
    Progress progress("eval", d.tokens);
    opt.on_layer = std::ref(progress);
    r = report::evaluate({base.model, cand.model, cand.routers}, windows, *be, opt);
  }
  r["schema_version"] = 1;
  r["inputs"] = {{"base", {{"path", base.path.string()}, {"router_id", base.router_id}}},
                 {"cand", {{"path", cand.path.string()}, {"router_id", cand.router_id}}},
                 {"data",
                  {{"path", data.file.string()},
                   {"sha256", d.sha256},
                   {"sequences", d.records},
                   {"windows", windows.size()},
                   {"tokens", d.tokens},
                   {"ctx", d.ctx},
                   {"max_tokens", data.max_tokens},
                   {"tokenizer", tokenizer_json(d)}}}};
  r["settings"]["ctx"] = d.ctx;
  r["settings"]["max_tokens"] = data.max_tokens;
  r["settings"]["threads"] = linalg::worker_threads();
  r["settings"]["expert_matrix"] = solver.expert_matrix;
  r["gate"] = report::evaluate_gate(rules, r["metrics"]);
  if (!g.quiet) {
    std::fputs(("eval: " + std::to_string(r["n_scored"].get<long long>()) + " scored positions\n" +
                report::eval_summary_text(r["metrics"]))
                   .c_str(),
               stderr);
    for (const auto& n : r["notes"])
      std::fprintf(stderr, "note: %s\n", n.get<std::string>().c_str());
    if (!rules.empty()) std::fputs(report::gate_text(r["gate"]).c_str(), stderr);
  }
  return r;
}

CLI::App* add_eval(CLI::App& app, EvalCmd& c) {
  CLI::App* sub = app.add_subcommand(
      "eval", "Shadow eval: base vs candidate checkpoint on held-out data, with a gate");
  sub->add_option("BASE", c.base, "Checkpoint in production (read only)")->required();
  sub->add_option("CAND", c.cand, "Candidate checkpoint, e.g. a calibrate output (read only)")
      ->required();
  add_data_options(*sub, c.data, true);
  add_gate_option(*sub, c.gate);
  sub->add_option("-o,--output", c.out, "Write the JSON report here (default: standard output)");
  sub->add_option("--md", c.md, "Also write the report as Markdown");
  sub->add_option("--html", c.html, "Also write the report as a self-contained HTML page");
  add_solver_options(*sub, c.solver);
  return sub;
}

int run_eval(const EvalCmd& c, const GlobalOptions& g) {
  const std::vector<report::GateRule> rules = report::parse_gate_rules(c.gate);
  const model::MoeModel base = model::MoeModel::open(c.base);
  const model::MoeModel cand = model::MoeModel::open(c.cand);
  const nlohmann::json r =
      eval_report({&base, c.base, recal::router_id(base), nullptr},
                  {&cand, c.cand, recal::router_id(cand), nullptr}, c.data, rules, c.solver, g);
  if (c.out.empty()) {
    std::cout << r.dump(2) << "\n";
    std::cout.flush();
    if (!std::cout) throw IoError("cannot write to standard output");
  } else {
    io::write_file(c.out, r.dump(2) + "\n");
  }
  if (!c.md.empty()) io::write_file(c.md, report::eval_markdown(r));
  if (!c.html.empty()) io::write_file(c.html, report::eval_html(r));
  return r["gate"]["pass"].get<bool>() ? kExitOk : kExitGateFailed;
}

CLI::App* add_gate(CLI::App& app, GateCmd& c) {
  CLI::App* sub =
      app.add_subcommand("gate", "The gate's verdict on a saved eval report (exit 0 pass, 1 fail)");
  sub->add_option("REPORT", c.report, "Report written by eval -o")->required();
  add_gate_option(*sub, c.gate);
  sub->get_option("--gate")->required();
  return sub;
}

int run_gate(const GateCmd& c, const GlobalOptions& g) {
  const std::vector<report::GateRule> rules = report::parse_gate_rules(c.gate);
  const nlohmann::json r = io::read_json_object(c.report);
  if (!r.contains("schema_version") || r["schema_version"] != 1 || !r.contains("metrics") ||
      !r["metrics"].is_object()) {
    throw FormatError(c.report.string() +
                      ": expected an eval report (schema_version 1 with a metrics object)");
  }
  const nlohmann::json verdict = report::evaluate_gate(rules, r["metrics"]);
  if (!g.quiet) std::fputs(report::gate_text(verdict).c_str(), stderr);
  return verdict["pass"].get<bool>() ? kExitOk : kExitGateFailed;
}

}  // namespace moerecal::cli
