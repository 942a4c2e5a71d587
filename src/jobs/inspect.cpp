// inspect: architecture, storage and weight-only router health (DESIGN.md §2, §7).
#include <map>

#include "analysis/directions.hpp"
#include "analysis/router_health.hpp"
#include "jobs/jobs.hpp"
#include "lineage/router_id.hpp"

namespace moerecal::jobs {
namespace {

nlohmann::json storage_json(const model::MoeModel& m) {
  std::map<std::string, int> dtypes;  // dtype name -> tensor count
  std::size_t n_tensors = 0;
  nlohmann::json shards = nlohmann::json::array();
  for (const auto& shard : m.ckpt.shards()) {
    for (const io::TensorInfo& t : shard->tensors()) ++dtypes[std::string(dtype_name(t.dtype))];
    n_tensors += shard->tensors().size();
    shards.push_back(shard->path().filename().string());
  }
  return {{"dtypes", dtypes},
          {"n_tensors", n_tensors},
          {"shards", shards},
          {"payload_bytes", m.ckpt.payload_bytes()}};
}

nlohmann::json health_json(const model::MoeModel& m, const SolverRequest& solver,
                           linalg::Backend& be) {
  nlohmann::json layers = nlohmann::json::array();
  for (const analysis::RouterLayer& router : analysis::load_routers(m)) {
    const auto dirs =
        analysis::layer_directions(m, router.layer, solver.matrix, router.rows, be, solver.options);
    nlohmann::json layer = analysis::to_json(analysis::router_health(be, router, dirs));
    nlohmann::json biases = nlohmann::json::array();
    for (nlohmann::json b : {analysis::to_json(router.router_bias, "router"),
                             analysis::to_json(router.selection_bias, "selection")}) {
      if (!b.is_null()) biases.push_back(std::move(b));
    }
    layer["biases"] = std::move(biases);
    layers.push_back(std::move(layer));
  }
  return layers;
}

// Block-scaled storage the checkpoint declares (quantization_config), or null.
nlohmann::json quantization_json(const model::ModelSpec& s) {
  if (s.fp8.block_rows > 0) {
    return {{"format", "fp8_e4m3"},
            {"weight_block_size", {s.fp8.block_rows, s.fp8.block_cols}},
            {"scales", "<weight>_scale_inv (F32, one per block)"}};
  }
  if (s.mxfp4) {
    return {
        {"format", "mxfp4"}, {"block", 32}, {"scales", "<tensor>_scales (U8 exponent, 2^(s-127))"}};
  }
  return nullptr;
}

}  // namespace

nlohmann::json inspect(const InspectRequest& r, const Context& ctx) {
  const model::MoeModel m = model::MoeModel::open(r.model);
  const model::ModelSpec& s = m.spec;
  const std::unique_ptr<linalg::Backend> be = linalg::make_backend(ctx.device);
  nlohmann::json j = {{"schema_version", 1},
                      {"model", r.model.string()},
                      {"family", s.model_type},
                      {"n_layers", s.n_layers},
                      {"moe_layers", s.moe_layers},
                      {"n_experts", s.n_experts()},
                      {"top_k", s.top_k()},
                      {"hidden_size", s.hidden},
                      {"expert_width", s.expert_width},
                      {"norm_topk_prob", s.routing.renormalize},
                      {"routing", model::to_json(s.routing)},
                      {"quantization", quantization_json(s)},
                      {"shared_expert_width", s.shared.width},
                      {"router_version", lineage::router_version(r.model)},
                      {"router_id", lineage::router_id(m)},
                      {"expert_matrix", std::string(analysis::expert_matrix_name(r.solver.matrix))},
                      {"layers", health_json(m, r.solver, *be)}};
  j.update(storage_json(m));
  return j;
}

}  // namespace moerecal::jobs
