// eval: the shadow-eval report and its gate.
#include "compare/eval.hpp"

#include <cstdio>
#include <map>

#include "jobs/data.hpp"
#include "jobs/eval_report.hpp"
#include "jobs/progress.hpp"
#include "lineage/router_id.hpp"
#include "report/text.hpp"

namespace moerecal::jobs {
namespace {

nlohmann::json inputs_json(const EvalSource& base, const EvalSource& cand, const DataRequest& data,
                           const Data& d) {
  return {{"base", {{"path", base.path.string()}, {"router_id", base.router_id}}},
          {"cand", {{"path", cand.path.string()}, {"router_id", cand.router_id}}},
          {"data",
           {{"path", data.file.string()},
            {"sha256", d.tokens.sha256},
            {"sequences", d.tokens.records},
            {"windows", d.windows.size()},
            {"tokens", d.tokens.tokens},
            {"ctx", d.tokens.ctx},
            {"max_tokens", data.max_tokens},
            {"tokenizer", tokenizer_json(d.tokens)}}}};
}

// Window indices of every slice of the data.
std::map<std::string, std::vector<std::size_t>> slice_windows(const io::TokenData& d) {
  std::map<std::string, std::vector<std::size_t>> slices;
  for (std::size_t i = 0; i < d.windows.size(); ++i) {
    if (!d.windows[i].slice.empty()) slices[d.windows[i].slice].push_back(i);
  }
  return slices;
}

void print_verdict(const nlohmann::json& r, bool gated) {
  std::fputs(("eval: " + std::to_string(r["n_scored"].get<long long>()) + " scored positions\n" +
              report::eval_summary_text(r["metrics"]) + report::eval_slices_text(r["slices"]))
                 .c_str(),
             stderr);
  for (const auto& n : r["notes"]) std::fprintf(stderr, "note: %s\n", n.get<std::string>().c_str());
  if (gated) std::fputs(report::gate_text(r["gate"]).c_str(), stderr);
}

}  // namespace

nlohmann::json eval_report(const EvalSource& base, const EvalSource& cand, const DataRequest& data,
                           const std::vector<report::GateRule>& rules, const SolverRequest& solver,
                           const Context& ctx) {
  const Data d = load_data(base.path, data, base.model->spec.vocab);
  const std::unique_ptr<linalg::Backend> be = linalg::make_backend(ctx.device);
  compare::EvalOptions opt{
      solver.matrix, solver.options, {}, ctx.expert_memory, slice_windows(d.tokens)};
  nlohmann::json r;
  {
    Progress progress("eval", d.tokens.tokens);
    opt.on_layer = std::ref(progress);
    r = compare::evaluate({base.model, cand.model, cand.routers}, d.windows, *be, opt);
  }
  r["schema_version"] = 1;
  r["inputs"] = inputs_json(base, cand, data, d);
  r["settings"]["ctx"] = d.tokens.ctx;
  r["settings"]["max_tokens"] = data.max_tokens;
  r["settings"]["threads"] = linalg::worker_threads();
  r["settings"]["expert_matrix"] = std::string(analysis::expert_matrix_name(solver.matrix));
  // calibrate --eval-data's candidate (routers given) has no changelog of its own yet: calibrate
  // adds its selection itself.
  if (cand.routers) {
    r["calibration_overlap"] = nullptr;
    r["calibration_selection"] = nullptr;
  } else {
    candidate_calibration(cand.path, d.tokens, r);
  }
  r["gate"] = report::evaluate_gate(rules, r["metrics"], r["slices"]);
  if (!ctx.quiet) print_verdict(r, !rules.empty());
  return r;
}

nlohmann::json eval(const EvalRequest& r, const Context& ctx) {
  const model::MoeModel base = model::MoeModel::open(r.base);
  const model::MoeModel cand = model::MoeModel::open(r.cand);
  return eval_report({&base, r.base, lineage::router_id(base), nullptr},
                     {&cand, r.cand, lineage::router_id(cand), nullptr}, r.data, r.gate, r.solver,
                     ctx);
}

}  // namespace moerecal::jobs
