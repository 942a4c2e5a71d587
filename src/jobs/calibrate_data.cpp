// calibrate --data: targets from the calibration tokens, the moves' strength (plain steps or the
// KL budget's search), and the effect measured on the calibration tokens.
#include "recal/calibrate_data.hpp"

#include "core/error.hpp"
#include "jobs/calibrate_steps.hpp"
#include "jobs/data.hpp"
#include "jobs/progress.hpp"
#include "recal/budget.hpp"

namespace moerecal::jobs {
namespace {

nlohmann::json point_json(const recal::TrialPoint& p) {
  return {
      {"strategy", p.strategy}, {"t", p.t}, {"kl_mean", p.kl_mean}, {"maxvio_mean", p.maxvio_mean}};
}

// Plain steps' strengths (no KL budget). alpha > 0 (the request checks it), so the calibration
// pass that propagates them is never the inherited model's: its forward is the candidate's.
recal::Strengths steps_strengths(const CalibrateRequest& r) {
  MR_ASSERT(r.alpha > 0);
  return {r.alpha, 0, r.refit_bias ? 1.0 : 0.0};
}

recal::DataOptions data_options(const CalibrateRequest& r, const Context& ctx) {
  recal::DataOptions o;
  o.mpi = r.mpi;
  o.activations = r.activations;
  o.shrinkage = r.shrinkage;
  o.centred = r.centred;
  o.expert_memory = ctx.expert_memory;
  o.refit_bias = r.refit_bias;
  // Plain steps: each layer fitted to the recalibrated model's activations (sequential); a KL
  // budget chooses the strength afterwards, so the targets are taken on the inherited model's.
  if (r.kl_budget < 0) o.propagate = steps_strengths(r);
  return o;
}

// The calibration pass' own forward: with plain steps, the candidate's (steps_strengths).
struct TargetForward {
  recal::LoadLog loads;
  std::vector<float> hidden;
};

// The strengths the run uses and what they do on the calibration tokens (`selection`).
recal::Strengths choose(const CalibrateRequest& r, linalg::Backend& be, recal::TrialRunner& runner,
                        const std::vector<recal::LayerTargets>& targets, const TargetForward& pass,
                        recal::TrialResult& result, nlohmann::json& selection) {
  const recal::TrialResult& base = runner.inherited();
  selection = {{"maxvio_mean_inherited", base.maxvio_mean}};
  if (r.kl_budget < 0) {
    const recal::Strengths s = steps_strengths(r);
    result = runner.measured(pass.hidden, pass.loads);
    selection.update({{"mode", "steps"},
                      {"strengths", recal::to_json(s)},
                      {"kl_mean", result.kl_mean},
                      {"maxvio_mean", result.maxvio_mean}});
    return s;
  }
  recal::BudgetChoice c = recal::search_budget(be, runner, targets, r.kl_budget, r.mpi.retraction);
  nlohmann::json explored = nlohmann::json::array();
  for (const auto& p : c.explored) explored.push_back(point_json(p));
  selection.update({{"mode", "kl-budget"},
                    {"kl_budget", r.kl_budget},
                    {"strategy", c.strategy},
                    {"t", c.point.t},
                    {"strengths", recal::to_json(c.strengths)},
                    {"kl_mean", c.point.kl_mean},
                    {"maxvio_mean", c.point.maxvio_mean},
                    {"trials", runner.trials()},
                    {"explored", explored}});
  result = std::move(c.result);
  return c.strengths;
}

// The trials' progress line: "KL budget: trials A-B" for each lockstep pass.
void show_trials(recal::TrialRunner& runner, Progress& progress, std::int64_t tokens) {
  runner.on_pass = [&progress, tokens](int first, int n) {
    const std::string which = n == 1 ? std::to_string(first)
                                     : std::to_string(first) + "-" + std::to_string(first + n - 1);
    progress.restart(std::string(n == 1 ? "KL budget: trial " : "KL budget: trials ") + which,
                     tokens * n);
  };
  runner.on_layer = std::ref(progress);
}

// The calibration pass: the targets, and the forwards the run compares. Under a KL budget the
// targets are taken on the inherited model's activations, so the pass is the inherited forward
// the search compares with. With plain steps it propagates the steps' routers, so it is the
// candidate's forward, and the inherited model runs beside it in lockstep.
recal::TrialRunner calibration_pass(const model::MoeModel& m, const std::vector<int>& layers,
                                    const recal::DataOptions& opt, const Data& d,
                                    linalg::Backend& be, std::vector<recal::LayerTargets>& targets,
                                    TargetForward& pass) {
  const bool candidate = !opt.propagates_inherited();
  recal::LoadLog inherited_loads(m.spec);
  std::vector<float> inherited_hidden;
  {
    Progress progress("calibrate", d.tokens.tokens);
    recal::PassOutputs out{&pass.loads, &pass.hidden};
    if (candidate) {
      out.inherited_loads = &inherited_loads;
      out.inherited_hidden = &inherited_hidden;
    }
    targets = recal::data_targets(m, d.windows, layers, opt, be, std::ref(progress), out);
  }
  if (!candidate) {
    inherited_hidden = std::move(pass.hidden);
    inherited_loads = pass.loads;
  }
  return recal::TrialRunner(m, be, d.windows, opt.expert_memory, std::move(inherited_hidden),
                            inherited_loads);
}

}  // namespace

nlohmann::json calibration_json(const DataRequest& req, const Data& d) {
  return {{"file", req.file.string()},
          {"sha256", d.tokens.sha256},
          {"sequences", d.tokens.records},
          {"windows", d.windows.size()},
          {"tokens", d.tokens.tokens},
          {"ctx", d.tokens.ctx},
          {"tokenizer", tokenizer_json(d.tokens)},
          {"record_fingerprints", d.tokens.record_fingerprints}};
}

std::vector<recal::LayerOutcome> calibrate_with_data(const CalibrateRequest& r,
                                                     const model::MoeModel& m,
                                                     const std::vector<int>& layers,
                                                     const Context& ctx, linalg::Backend& be,
                                                     nlohmann::json& calibration,
                                                     nlohmann::json& selection) {
  const Data d = load_data(r.model, r.data, m.spec.vocab);
  calibration = calibration_json(r.data, d);
  const recal::DataOptions opt = data_options(r, ctx);
  std::vector<recal::LayerTargets> targets;
  TargetForward pass{recal::LoadLog(m.spec), {}};
  recal::TrialRunner runner = calibration_pass(m, layers, opt, d, be, targets, pass);
  recal::TrialResult result;
  Progress progress("KL budget", 0);
  show_trials(runner, progress, d.tokens.tokens);
  const recal::Strengths s = choose(r, be, runner, targets, pass, result, selection);
  std::vector<recal::LayerOutcome> outs;
  for (const recal::LayerTargets& t : targets) {
    recal::LayerOutcome o = recal::layer_outcome(be, t, s, r.mpi.retraction);
    recal::add_data_figures(be, t, runner.inherited().loads.at(t.inherited.layer),
                            result.loads.at(t.inherited.layer), o);
    outs.push_back(std::move(o));
  }
  return outs;
}

}  // namespace moerecal::jobs
