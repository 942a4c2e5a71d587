// moe-recal diff OLD NEW: per-layer, per-expert router differences.
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "report/router_diff.hpp"

namespace moerecal::cli {
namespace {

std::string opt_str(const std::optional<double>& v) {
  char buf[32];
  if (!v) return "-";
  std::snprintf(buf, sizeof buf, "%.5f", *v);
  return buf;
}

void print_text(const report::DiffReport& r) {
  std::printf("%5s  %-12s %-12s %-10s %-10s  %-21s  %s\n", "layer", "frobenius", "relative",
              "cos.mean", "cos.min", "alignment old->new", "tensor");
  for (const auto& l : r.layers) {
    std::printf("%5d  %-12.6g %-12.6g %-10.6f %-10.6f  %9s -> %-9s  %s\n", l.layer, l.frobenius,
                l.frobenius_rel, l.cos_mean, l.cos_min, opt_str(l.align_before).c_str(),
                opt_str(l.align_after).c_str(), l.tensor.c_str());
  }
  for (const auto& p : r.problems) std::printf("problem: %s\n", p.c_str());
  if (r.non_router_identical) {
    std::printf("non-router tensors: %s\n", *r.non_router_identical ? "identical" : "DIFFERENT");
    for (const auto& d : r.non_router_differences) std::printf("  differs: %s\n", d.c_str());
  }
}

}  // namespace

CLI::App* add_diff(CLI::App& app, DiffCmd& c) {
  CLI::App* sub = app.add_subcommand(
      "diff", "Compare the routers of two checkpoints or router files (routers/router-v<N>)");
  sub->add_option("OLD", c.old_path, "Checkpoint directory or router .safetensors file")
      ->required();
  sub->add_option("NEW", c.new_path, "Checkpoint directory or router .safetensors file")
      ->required();
  sub->add_flag("--json", c.json, "Print the report as JSON (schema_version 1)");
  sub->add_option("--fail-on-diff", c.fail_on_diff,
                  "Exit 1 when a layer's relative Frobenius difference exceeds this, or when "
                  "non-router tensors differ")
      ->check(CLI::NonNegativeNumber);
  add_solver_options(*sub, c.solver);
  return sub;
}

int run_diff(const DiffCmd& c, const GlobalOptions&) {
  const report::RouterSide a = report::open_router_side(c.old_path);
  const report::RouterSide b = report::open_router_side(c.new_path);
  auto be = linalg::make_cpu_backend();
  const report::DiffReport r = report::diff_routers(
      a, b, expert_matrix_or_throw(c.solver.expert_matrix), principal_options(c.solver), *be);
  if (c.json) {
    std::cout << report::to_json(r).dump(2) << "\n";
  } else {
    print_text(r);
  }
  std::cout.flush();
  if (!std::cout) throw IoError("cannot write to standard output");
  if (c.fail_on_diff < 0) return kExitOk;
  const bool exceeded = r.max_frobenius_rel > c.fail_on_diff || !r.problems.empty() ||
                        (r.non_router_identical && !*r.non_router_identical);
  log::note(exceeded ? "diff: FAIL (difference exceeds --fail-on-diff)" : "diff: pass");
  return exceeded ? kExitGateFailed : kExitOk;
}

}  // namespace moerecal::cli
