// Routing metrics of an eval: load, dead/cold, entropy, alignment and wasted bytes per MoE layer
// for both sides, their agreement, and the routing.* totals.
#include <algorithm>

#include "analysis/directions.hpp"
#include "analysis/load_stats.hpp"
#include "analysis/router_health.hpp"
#include "compare/eval_parts.hpp"
#include "model/weights.hpp"

namespace moerecal::compare {
namespace {

struct SideLayer {
  analysis::LoadStats load;
  const analysis::LayerHealth* health = nullptr;
  std::uint64_t wasted = 0;
};

nlohmann::json side_json(const SideLayer& s) {
  return {{"load", s.load.load},
          {"maxvio", s.load.maxvio},
          {"dead", s.load.dead},
          {"cold", s.load.cold},
          {"entropy", s.load.entropy},
          {"alignment", s.health->align_mean},
          {"row_cos_max", s.health->row_cos_max},
          {"wasted_bytes", s.wasted}};
}

std::vector<std::uint64_t> layer_expert_bytes(const model::MoeModel& m, int layer) {
  const model::WeightReader reader(m);
  const model::LayerTensors t = model::layer_tensors(m.spec, layer);
  std::vector<std::uint64_t> bytes;
  for (int e = 0; e < m.spec.n_experts(); ++e)
    bytes.push_back(reader.expert_bytes(t.moe.experts[e]));
  return bytes;
}

// The rows [tokens, k] of a selection [T, k].
std::vector<int> gather(const std::vector<int>& sel, const std::vector<std::size_t>& tokens,
                        int k) {
  std::vector<int> out;
  out.reserve(tokens.size() * k);
  for (std::size_t t : tokens) {
    const auto row = sel.begin() + static_cast<std::ptrdiff_t>(t * k);
    out.insert(out.end(), row, row + k);
  }
  return out;
}

SideLayer side_layer(const model::ModelSpec& s, const analysis::LayerHealth& health,
                     const std::vector<std::uint64_t>& bytes, const std::vector<int>& sel, int T) {
  SideLayer out;
  out.load = analysis::load_stats(sel.data(), T, s.top_k(), s.n_experts());
  out.health = &health;
  for (int e = 0; e < s.n_experts(); ++e) {
    if (out.load.load[e] == 0) out.wasted += bytes[e];
  }
  return out;
}

// Agreement of two selections [T, k]: (mean |S_b & S_c| / k, share of equal top-1).
std::pair<double, double> agreement(const std::vector<int>& a, const std::vector<int>& b, int T,
                                    int k) {
  double topk = 0, top1 = 0;
  for (int t = 0; t < T; ++t) {
    const int* x = a.data() + std::size_t(t) * k;
    const int* y = b.data() + std::size_t(t) * k;
    int common = 0;
    for (int i = 0; i < k; ++i) common += std::count(y, y + k, x[i]) > 0;
    topk += static_cast<double>(common) / k;
    top1 += x[0] == y[0];
  }
  return {topk / T, top1 / T};
}

struct Totals {
  double maxvio[2] = {0, 0}, maxvio_max[2] = {0, 0}, entropy[2] = {0, 0}, align[2] = {0, 0};
  long long dead[2] = {0, 0}, cold[2] = {0, 0};
  std::uint64_t wasted[2] = {0, 0};
  double topk = 0, top1 = 0;

  void add(int side, const SideLayer& s) {
    maxvio[side] += s.load.maxvio;
    maxvio_max[side] = std::max(maxvio_max[side], s.load.maxvio);
    entropy[side] += s.load.entropy;
    align[side] += s.health->align_mean;
    dead[side] += s.load.dead;
    cold[side] += s.load.cold;
    wasted[side] += s.wasted;
  }
};

void add_routing_metrics(const Totals& t, std::size_t n_layers, nlohmann::json& m) {
  const double L = static_cast<double>(std::max<std::size_t>(1, n_layers));
  const char* sides[2] = {"base", "cand"};
  for (int s = 0; s < 2; ++s) {
    const std::string side = sides[s];
    m["routing.maxvio." + side] = t.maxvio[s] / L;
    m["routing.maxvio.max." + side] = t.maxvio_max[s];
    m["routing.entropy." + side] = t.entropy[s] / L;
    m["routing.alignment." + side] = t.align[s] / L;
    m["routing.dead." + side] = t.dead[s];
    m["routing.cold." + side] = t.cold[s];
    m["routing.wasted_bytes." + side] = t.wasted[s];
  }
  m["routing.maxvio.delta"] = (t.maxvio[1] - t.maxvio[0]) / L;
  m["routing.entropy.delta"] = (t.entropy[1] - t.entropy[0]) / L;
  m["routing.dead.delta"] = t.dead[1] - t.dead[0];
  m["routing.cold.delta"] = t.cold[1] - t.cold[0];
  m["routing.wasted_bytes.delta"] =
      static_cast<double>(t.wasted[1]) - static_cast<double>(t.wasted[0]);
  m["routing.topk_agree"] = t.topk / L;
  m["routing.top1_agree"] = t.top1 / L;
}

}  // namespace

RouterFigures router_figures(linalg::Backend& be, const RoutingSides& r, const EvalOptions& opt) {
  RouterFigures w;
  auto directions = [&](const model::MoeModel& m, const analysis::RouterLayer& router) {
    return analysis::layer_directions(m, router.layer, opt.matrix, router.rows, be, opt.solver);
  };
  for (std::size_t i = 0; i < r.base_routers.size(); ++i) {
    const analysis::RouterLayer &rb = r.base_routers[i], &rc = r.cand_routers[i];
    const auto dirs_b = directions(*r.base, rb);
    const auto dirs_c = r.shared ? dirs_b : directions(*r.cand, rc);
    w.health[0].push_back(analysis::router_health(be, rb, dirs_b));
    w.health[1].push_back(analysis::router_health(be, rc, dirs_c));
    w.expert_bytes[0].push_back(layer_expert_bytes(*r.base, rb.layer));
    w.expert_bytes[1].push_back(layer_expert_bytes(*r.cand, rc.layer));
  }
  return w;
}

nlohmann::json routing_layers(const RoutingSides& r, const RouterFigures& w,
                              const std::vector<std::size_t>& tokens, nlohmann::json& metrics) {
  nlohmann::json layers = nlohmann::json::array();
  const int k = r.base->spec.top_k(), T = static_cast<int>(tokens.size());
  Totals tot;
  for (std::size_t i = 0; i < r.base_routers.size(); ++i) {
    const int layer = r.base_routers[i].layer;
    const std::vector<int> sel_b = gather(r.base_selected.at(layer), tokens, k);
    const std::vector<int> sel_c = gather(r.cand_selected.at(layer), tokens, k);
    const SideLayer sb = side_layer(r.base->spec, w.health[0][i], w.expert_bytes[0][i], sel_b, T);
    const SideLayer sc = side_layer(r.cand->spec, w.health[1][i], w.expert_bytes[1][i], sel_c, T);
    const auto [topk, top1] = agreement(sel_b, sel_c, T, k);
    layers.push_back({{"layer", layer},
                      {"topk_agree", topk},
                      {"top1_agree", top1},
                      {"base", side_json(sb)},
                      {"cand", side_json(sc)}});
    tot.add(0, sb);
    tot.add(1, sc);
    tot.topk += topk;
    tot.top1 += top1;
  }
  add_routing_metrics(tot, r.base_routers.size(), metrics);
  return layers;
}

}  // namespace moerecal::compare
