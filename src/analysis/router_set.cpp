#include "analysis/router_set.hpp"

#include "model/weights.hpp"

namespace moerecal::analysis {
namespace {

void read_bias(const model::MoeModel& m, const model::TensorRef& t, RouterBias& out) {
  if (t.empty()) return;
  out.tensor = t.name;
  out.dtype = m.ckpt.get(t.name).info->dtype;
  out.values = model::WeightReader(m).read(t);
}

}  // namespace

std::vector<RouterLayer> load_routers(const model::MoeModel& m) {
  const model::WeightReader reader(m);
  std::vector<RouterLayer> out;
  for (int layer : m.spec.moe_layers) {
    const model::MoeTensors moe = model::layer_tensors(m.spec, layer).moe;
    const model::TensorRef& t = moe.router;
    RouterLayer r;
    r.layer = layer;
    r.tensor = t.name;
    r.dtype = m.ckpt.get(t.name).info->dtype;
    r.n_experts = m.spec.n_experts();
    r.hidden = m.spec.hidden;
    r.rows = reader.read(t);
    read_bias(m, moe.router_bias, r.router_bias);
    read_bias(m, moe.selection_bias, r.selection_bias);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace moerecal::analysis
