#include "analysis/router_set.hpp"

#include <algorithm>

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

nlohmann::json value_stats(const std::vector<float>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  double mean = 0;
  for (float x : v) mean += x / static_cast<double>(v.size());
  return {{"min", *lo}, {"mean", mean}, {"max", *hi}};
}

nlohmann::json to_json(const RouterBias& b, const char* kind) {
  if (b.tensor.empty()) return nullptr;
  nlohmann::json j = {
      {"kind", kind}, {"tensor", b.tensor}, {"dtype", std::string(dtype_name(b.dtype))}};
  j.update(value_stats(b.values));
  return j;
}

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
