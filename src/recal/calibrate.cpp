#include "recal/calibrate.hpp"

#include <algorithm>
#include <sstream>

#include "core/error.hpp"

namespace moerecal::recal {
namespace {

int parse_index(const std::string& part, const std::string& text) {
  std::size_t used = 0;
  int v = -1;
  try {
    v = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || v < 0) {
    throw UsageError("expected layer indices like 0-3,7, found '" + part + "'");
  }
  return v;
}

void require_moe(int layer, const model::ModelSpec& spec) {
  if (spec.is_moe_layer(layer)) return;
  std::string moe;
  for (int l : spec.moe_layers) moe += (moe.empty() ? "" : ",") + std::to_string(l);
  throw UsageError("layer " + std::to_string(layer) + " is not a MoE layer (MoE layers: " + moe +
                   ")");
}

LayerOutcome calibrate_layer(const model::MoeModel& m, const analysis::RouterLayer& router,
                             bool selected, const MpiOptions& opt, linalg::Backend& be) {
  const analysis::ModelOperands ops(m, router.layer, opt.matrix);
  const LayerMpiResult res = mpi_layer(be, router, ops, opt);
  return layer_outcome(be, router, selected ? res.rows : router.rows, selected,
                       selected ? res.steps_done : 0, res.dirs);
}

}  // namespace

std::vector<int> parse_layers(const std::string& s, const model::ModelSpec& spec) {
  if (s.empty() || s == "all") return spec.moe_layers;
  std::vector<int> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    const std::size_t dash = part.find('-');
    const int lo = parse_index(part, part.substr(0, dash));
    const int hi = dash == std::string::npos ? lo : parse_index(part, part.substr(dash + 1));
    if (hi < lo) throw UsageError("empty range '" + part + "'");
    for (int i = lo; i <= hi; ++i) {
      require_moe(i, spec);
      out.push_back(i);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<LayerOutcome> calibrate_weights(const model::MoeModel& m,
                                            const std::vector<int>& layers, const MpiOptions& opt,
                                            linalg::Backend& be,
                                            const std::function<void(int, int)>& progress) {
  std::vector<analysis::RouterLayer> routers = analysis::load_routers(m);
  std::vector<LayerOutcome> out;
  for (std::size_t i = 0; i < routers.size(); ++i) {
    if (progress) progress(static_cast<int>(i), static_cast<int>(routers.size()));
    const bool selected = std::binary_search(layers.begin(), layers.end(), routers[i].layer);
    out.push_back(calibrate_layer(m, routers[i], selected, opt, be));
  }
  return out;
}

}  // namespace moerecal::recal
