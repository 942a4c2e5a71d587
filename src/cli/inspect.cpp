// moe-recal inspect MODEL [--json]: architecture, storage and weight-only router health.
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "recal/directions.hpp"
#include "recal/router_health.hpp"
#include "recal/router_set.hpp"

namespace moerecal::cli {
namespace {

struct Inspection {
  model::MoeModel model;
  std::string router_id;
  int router_version = 0;
  std::map<std::string, int> dtypes;  // dtype name -> tensor count
  std::size_t n_tensors = 0;
  std::vector<recal::LayerHealth> layers;
};

recal::ExpertMatrix expert_matrix_or_throw(const std::string& s) {
  auto m = recal::parse_expert_matrix(s);
  if (!m)
    throw UsageError("--expert-matrix: expected gate_up, gate, up or down, found '" + s + "'");
  return *m;
}

Inspection inspect_model(const InspectCmd& cmd) {
  const recal::ExpertMatrix which = expert_matrix_or_throw(cmd.solver.expert_matrix);
  Inspection r{model::MoeModel::open(cmd.model), "", 0, {}, 0, {}};
  r.router_id = recal::router_id(r.model);
  r.router_version = recal::router_version(cmd.model);
  for (const auto& shard : r.model.ckpt.shards()) {
    for (const io::TensorInfo& t : shard->tensors()) ++r.dtypes[std::string(dtype_name(t.dtype))];
    r.n_tensors += shard->tensors().size();
  }
  auto be = linalg::make_cpu_backend();
  const linalg::PrincipalOptions opt = principal_options(cmd.solver);
  for (const recal::RouterLayer& router : recal::load_routers(r.model)) {
    auto dirs = recal::layer_directions(r.model, router.layer, which, router.rows, *be, opt);
    r.layers.push_back(recal::router_health(*be, router, dirs));
  }
  return r;
}

nlohmann::json to_json(const Inspection& r, const InspectCmd& cmd) {
  const model::ModelSpec& s = r.model.spec;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& h : r.layers) layers.push_back(recal::to_json(h));
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& sh : r.model.ckpt.shards()) shards.push_back(sh->path().filename().string());
  return {{"schema_version", 1},
          {"model", cmd.model.string()},
          {"family", s.model_type},
          {"n_layers", s.n_layers},
          {"moe_layers", s.moe_layers},
          {"n_experts", s.n_experts},
          {"top_k", s.top_k},
          {"hidden_size", s.hidden},
          {"expert_width", s.expert_width},
          {"norm_topk_prob", s.norm_topk_prob},
          {"shared_expert_width", s.shared_width},
          {"dtypes", r.dtypes},
          {"n_tensors", r.n_tensors},
          {"shards", shards},
          {"payload_bytes", r.model.ckpt.payload_bytes()},
          {"router_version", r.router_version},
          {"router_id", r.router_id},
          {"expert_matrix", cmd.solver.expert_matrix},
          {"layers", layers}};
}

void print_text(const Inspection& r, const InspectCmd& cmd) {
  const model::ModelSpec& s = r.model.spec;
  std::printf("%s: %s, %d layers (%zu MoE), %d experts, top-%d, hidden %d, expert width %d\n",
              cmd.model.string().c_str(), s.model_type.c_str(), s.n_layers, s.moe_layers.size(),
              s.n_experts, s.top_k, s.hidden, s.expert_width);
  std::string dt;
  for (const auto& [name, n] : r.dtypes)
    dt += (dt.empty() ? "" : ", ") + name + " x" + std::to_string(n);
  std::printf("storage: %zu tensors in %zu file(s), %.3f MiB payload, dtypes %s\n", r.n_tensors,
              r.model.ckpt.shards().size(), r.model.ckpt.payload_bytes() / 1048576.0, dt.c_str());
  std::printf("router: version %d, id %s\n", r.router_version, r.router_id.c_str());
  std::printf("router health (alignment vs the principal direction of %s):\n",
              cmd.solver.expert_matrix.c_str());
  std::printf("%5s  %-10s %-10s %-10s  %-11s  %-10s %-10s  %s\n", "layer", "norm.min", "norm.mean",
              "norm.max", "row_cos_max", "align.mean", "align.min", "router tensor");
  for (const auto& h : r.layers) {
    std::printf("%5d  %-10.5f %-10.5f %-10.5f  %-11.5f  %-10.5f %-10.5f  %s\n", h.layer, h.norm_min,
                h.norm_mean, h.norm_max, h.row_cos_max, h.align_mean, h.align_min,
                h.router_tensor.c_str());
  }
}

}  // namespace

recal::ExpertMatrix expert_matrix_or_throw(const std::string& s) {
  auto m = recal::parse_expert_matrix(s);
  if (!m)
    throw UsageError("--expert-matrix: expected gate_up, gate, up or down, found '" + s + "'");
  return *m;
}

linalg::PrincipalOptions principal_options(const SolverOptions& s) {
  linalg::PrincipalOptions opt;
  opt.tol = s.tol;
  opt.max_iter = s.max_iter;
  return opt;
}

void add_solver_options(CLI::App& sub, SolverOptions& opt) {
  sub.add_option("--expert-matrix", opt.expert_matrix,
                 "Expert matrix whose principal direction is used: gate_up, gate, up or down")
      ->check(CLI::IsMember({"gate_up", "gate", "up", "down"}))
      ->capture_default_str();
  sub.add_option("--tol", opt.tol, "Solver tolerance on sin(theta) between iterates")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--max-iter", opt.max_iter, "Solver iteration cap per expert")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

CLI::App* add_inspect(CLI::App& app, InspectCmd& cmd) {
  CLI::App* sub = app.add_subcommand(
      "inspect", "Architecture, storage and weight-only router health of a checkpoint");
  sub->add_option("MODEL", cmd.model, "Hugging Face checkpoint directory")->required();
  sub->add_flag("--json", cmd.json, "Print the report as JSON (schema_version 1)");
  add_solver_options(*sub, cmd.solver);
  return sub;
}

int run_inspect(const InspectCmd& cmd, const GlobalOptions&) {
  const Inspection r = inspect_model(cmd);
  if (cmd.json) {
    std::cout << to_json(r, cmd).dump(2) << "\n";
  } else {
    print_text(r, cmd);
  }
  std::cout.flush();
  if (!std::cout) throw IoError("cannot write to standard output");
  return kExitOk;
}

}  // namespace moerecal::cli
