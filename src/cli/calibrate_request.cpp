// calibrate's options -> jobs::CalibrateRequest (the flag names go onto library errors here).
#include <cmath>

#include "cli/commands.hpp"
#include "core/error.hpp"

namespace moerecal::cli {
namespace {

// The default KL budget of calibrate --data (DESIGN.md §1): what a rollout gate would accept.
constexpr double kDefaultKlBudget = 0.02;
constexpr double kReportTol = 1e-2;  // sin(theta) of the figures' directions without converge
// Block of those solves: 1, the Krylov solver (linalg/krylov.hpp). It applies the operator to one
// vector per iteration, which the CPU's fused Gram kernel does in one streaming pass over the
// expert; at 1e-2 it needs 5-7 products where a block of 2 needed 5-6 iterations of 4 columns.
constexpr int kReportBlock = 1;

bool activations(const CalibrateCmd& c) {
  if (c.direction == "auto") return !c.data.file.empty();
  if (c.direction == "activations" && c.data.file.empty()) {
    throw UsageError("--direction activations needs calibration data: give --data FILE");
  }
  return c.direction == "activations";
}

template <class F>
auto flagged(const char* flag, F&& f) {
  try {
    return f();
  } catch (const UsageError& e) {
    throw UsageError(std::string(flag) + ": " + e.what());
  }
}

recal::MpiOptions mpi_options(const CalibrateCmd& c) {
  recal::MpiOptions o;
  const jobs::SolverRequest s = solver_request(c.solver);
  o.matrix = s.matrix;
  o.solver = s.options;
  o.steps = c.steps.empty() ? 1 : flagged("--steps", [&] { return recal::parse_steps(c.steps); });
  o.radius = flagged("--radius", [&] { return recal::parse_radius(c.radius); });
  o.retraction =
      c.retraction == "stiefel" ? recal::Retraction::kStiefel : recal::Retraction::kSphere;
  // N power steps never need a solve: the principal directions only feed the changelog's
  // alignment figures, to the report precision unless --tol asks for more.
  if (c.solver.tol <= 0 && o.steps != recal::kConverge) {
    o.solver.tol = kReportTol;
    o.solver.block = kReportBlock;
  }
  o.figures = !c.no_alignment;
  return o;
}

// The KL budget in effect (< 0: plain steps).
double kl_budget(const CalibrateCmd& c) {
  const bool data = !c.data.file.empty();
  if (c.kl_budget == "none") return -1;
  if (c.kl_budget.empty()) return data && c.steps.empty() && c.alpha < 0 ? kDefaultKlBudget : -1;
  if (!data) throw UsageError("--kl-budget needs calibration data: give --data FILE");
  if (c.alpha >= 0) {
    throw UsageError("--alpha sets the MPI step's strength and --kl-budget chooses it: give one");
  }
  char* end = nullptr;
  const double v = std::strtod(c.kl_budget.c_str(), &end);
  if (*end != '\0' || !(v >= 0) || !std::isfinite(v)) {
    throw UsageError("--kl-budget: expected a non-negative number or none, found '" + c.kl_budget +
                     "'");
  }
  return v;
}

nlohmann::json method_json(const CalibrateCmd& c, const jobs::CalibrateRequest& r) {
  const recal::MpiOptions& o = r.mpi;
  nlohmann::json j = {
      {"algorithm", "manifold-power-iteration"},
      {"direction", r.activations ? "activations" : "weights"},
      {"expert_matrix", c.solver.expert_matrix},
      {"steps", o.steps == recal::kConverge ? nlohmann::json("converge") : nlohmann::json(o.steps)},
      {"radius", c.radius},
      {"retraction", c.retraction},
      {"alpha", r.alpha},
      {"kl_budget", r.kl_budget >= 0 ? nlohmann::json(r.kl_budget) : nlohmann::json(nullptr)},
      {"refit_bias", r.refit_bias},
      {"alignment_figures", o.figures},
      {"solver",
       {{"method", o.solver.block == 1 ? "Krylov (full basis) + Rayleigh-Ritz"
                                       : "block power iteration + Rayleigh-Ritz"},
        {"block", o.solver.block},
        {"tol", o.solver.tol},
        {"max_iter", o.solver.max_iter}}}};
  if (r.activations) j["shrinkage"] = c.shrinkage, j["centred"] = r.centred;
  return j;
}

void check_data_options(const CalibrateCmd& c) {
  if (c.out.empty() && !c.dry_run) throw UsageError("calibrate: -o OUT is required (or --dry-run)");
  if (!c.gate.empty() && c.eval_data.file.empty()) {
    throw UsageError("calibrate: --gate needs --eval-data FILE (the data the eval runs on)");
  }
  if (c.refit_bias && c.data.file.empty()) {
    throw UsageError("--refit-bias needs calibration data: give --data FILE");
  }
  if (c.alpha >= 0 && !(c.alpha > 0 && c.alpha <= 1)) {
    throw UsageError("--alpha: expected a fraction in (0, 1], found " + std::to_string(c.alpha));
  }
}

}  // namespace

jobs::CalibrateRequest calibrate_request(const CalibrateCmd& c) {
  check_data_options(c);
  jobs::CalibrateRequest r;
  r.gate = gate_rules(c.gate);  // a malformed rule fails before any work
  r.mpi = mpi_options(c);
  r.activations = activations(c);
  r.centred = c.centre == "on";
  r.alpha = c.alpha < 0 ? 1.0 : c.alpha;
  r.kl_budget = kl_budget(c);
  r.refit_bias = c.refit_bias;
  r.method = method_json(c, r);
  r.model = c.model, r.out = c.out, r.force = c.force, r.dry_run = c.dry_run;
  r.shrinkage = c.shrinkage;
  r.data = data_request(c.data);
  r.layers = c.layers;
  r.eval_data = data_request(c.eval_data);
  return r;
}

}  // namespace moerecal::cli
