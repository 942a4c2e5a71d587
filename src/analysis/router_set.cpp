#include "analysis/router_set.hpp"

#include "model/weights.hpp"

namespace moerecal::analysis {

std::vector<RouterLayer> load_routers(const model::MoeModel& m) {
  const model::WeightReader reader(m.ckpt);
  std::vector<RouterLayer> out;
  for (int layer : m.spec.moe_layers) {
    const model::TensorRef t = model::layer_tensors(m.spec, layer).moe.router;
    RouterLayer r;
    r.layer = layer;
    r.tensor = t.name;
    r.dtype = m.ckpt.get(t.name).info->dtype;
    r.n_experts = m.spec.n_experts();
    r.hidden = m.spec.hidden;
    r.rows = reader.read(t);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace moerecal::analysis
