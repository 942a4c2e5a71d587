#include "cli/app.hpp"

#include <cstdio>
#include <iostream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "linalg/backend.hpp"
#include "lineage/changelog.hpp"

namespace moerecal::cli {
namespace {

void add_global_options(CLI::App& app, GlobalOptions& g) {
  app.add_option("--device", g.device, "Compute device: auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--threads", g.threads, "CPU threads for BLAS and per-expert work (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--expert-memory", g.expert_memory_mib,
                 "MiB of f32 routed experts of one layer kept in memory where a pass reads them "
                 "more than once (eval, calibrate --data); a layer that needs more, and every "
                 "single-read pass, streams them, one expert per worker at a time (up to 4 "
                 "within this budget for calibrate's direction solves)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("-q,--quiet", g.quiet, "Only errors on stderr; the exit code is unchanged");
  app.add_flag("-v,--verbose", g.verbose, "More detail on stderr");
}

void apply_global(GlobalOptions& g, int argc, char** argv) {
  log::set_level(g.quiet     ? log::Level::kQuiet
                 : g.verbose ? log::Level::kVerbose
                             : log::Level::kNormal);
  const auto device = linalg::parse_device(g.device);
  MR_ASSERT(device.has_value());  // CLI11 checked the value
  try {
    linalg::make_backend(*device);  // refuse a device this build cannot use before any work
  } catch (const UsageError& e) {
    throw UsageError("--device " + g.device + ": " + e.what());
  }
  if (g.threads > 0) linalg::set_cpu_threads(g.threads);
  g.context = {*device, g.quiet, lineage::command_line(argc, argv),
               static_cast<std::size_t>(g.expert_memory_mib) << 20};
}

struct Runner {
  const GlobalOptions& g;
  int operator()(std::monostate) const { return kExitOk; }
  int operator()(const InspectCmd& c) const { return run_inspect(c, g); }
  int operator()(const CalibrateCmd& c) const { return run_calibrate(c, g); }
  int operator()(const DiffCmd& c) const { return run_diff(c, g); }
  int operator()(const ApplyCmd& c) const { return run_apply(c, g); }
  int operator()(const PerplexityCmd& c) const { return run_perplexity(c, g); }
  int operator()(const TokenizeCmd& c) const { return run_tokenize(c, g); }
  int operator()(const EvalCmd& c) const { return run_eval(c, g); }
  int operator()(const GateCmd& c) const { return run_gate(c, g); }
};

int report(const std::exception& e, int code) {
  std::fprintf(stderr, "moe-recal: error: %s\n", e.what());
  return code;
}

}  // namespace

Command App::selected() const {
  for (const CLI::App* sub : app->get_subcommands()) {
    const std::string& n = sub->get_name();
    if (n == "inspect") return inspect;
    if (n == "calibrate") return calibrate;
    if (n == "diff") return diff;
    if (n == "apply") return apply;
    if (n == "perplexity") return perplexity;
    if (n == "tokenize") return tokenize;
    if (n == "eval") return eval;
    if (n == "gate") return gate;
  }
  return std::monostate{};
}

std::string version_text() {
  return "moe-recal " MOE_RECAL_VERSION "\nBLAS: " + linalg::cpu_blas_info() +
         "\nCUDA: " + linalg::cuda_info() + "\n";
}

std::unique_ptr<App> build_app() {
  auto a = std::make_unique<App>();
  a->app = std::make_unique<CLI::App>(
      "moe-recal: post-hoc router recalibration of Mixture-of-Experts checkpoints", "moe-recal");
  a->app->set_version_flag("--version", version_text());
  a->app->require_subcommand(1);
  add_global_options(*a->app, a->global);
  add_inspect(*a->app, a->inspect);
  add_calibrate(*a->app, a->calibrate);
  add_diff(*a->app, a->diff);
  add_apply(*a->app, a->apply);
  add_perplexity(*a->app, a->perplexity);
  add_tokenize(*a->app, a->tokenize);
  add_eval(*a->app, a->eval);
  add_gate(*a->app, a->gate);
  return a;
}

int run_main(int argc, char** argv) noexcept {
  try {
    std::unique_ptr<App> a = build_app();
    try {
      a->app->parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return a->app->exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return a->app->exit(e);
    } catch (const CLI::CallForVersion& e) {
      return a->app->exit(e);
    } catch (const CLI::ParseError& e) {
      std::fprintf(stderr, "moe-recal: error: %s\nRun 'moe-recal --help' for usage.\n", e.what());
      return kExitBadInput;
    }
    apply_global(a->global, argc, argv);
    return std::visit(Runner{a->global}, a->selected());
  } catch (const Error& e) {
    return report(e, exit_code_for(e));
  } catch (const std::bad_alloc& e) {
    return report(e, kExitRuntime);
  } catch (const std::exception& e) {
    return report(e, kExitRuntime);
  } catch (...) {
    std::fputs("moe-recal: error: unknown failure\n", stderr);
    return kExitRuntime;
  }
}

}  // namespace moerecal::cli
