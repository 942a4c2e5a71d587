// moe-recal eval BASE CAND --data FILE: the shadow-eval report and its gate; moe-recal gate
// REPORT.json: the same verdict from a saved report.
#include <cstdio>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "io/checkpoint.hpp"
#include "io/staged_dir.hpp"
#include "report/eval_render.hpp"

namespace moerecal::cli {

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
  const jobs::EvalRequest req{c.base, c.cand, data_request(c.data), gate_rules(c.gate),
                              solver_request(c.solver)};
  const nlohmann::json r = jobs::eval(req, g.context);
  if (c.out.empty()) {
    print(r.dump(2) + "\n");
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
  const std::vector<report::GateRule> rules = gate_rules(c.gate);
  const nlohmann::json r = io::read_json_object(c.report);
  if (!r.contains("schema_version") || r["schema_version"] != 1 || !r.contains("metrics") ||
      !r["metrics"].is_object()) {
    throw FormatError(c.report.string() +
                      ": expected an eval report (schema_version 1 with a metrics object)");
  }
  const nlohmann::json verdict = report::evaluate_gate(
      rules, r["metrics"], r.contains("slices") ? r["slices"] : nlohmann::json());
  if (!g.quiet) std::fputs(report::gate_text(verdict).c_str(), stderr);
  return verdict["pass"].get<bool>() ? kExitOk : kExitGateFailed;
}

}  // namespace moerecal::cli
