#include "recal/calibrate.hpp"

#include <algorithm>
#include <sstream>

#include "analysis/directions.hpp"
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

void mpi_targets(linalg::Backend& be, const analysis::OperandSource& ops, const MpiOptions& opt,
                 const ActivationMetric* act, LayerTargets& t) {
  if (opt.steps == 0) {  // rows stay: directions for the figures only
    if (opt.figures) {
      t.weight_dirs = analysis::principal_directions(be, t.inherited.rows, ops, opt.solver);
    }
    return;
  }
  const LayerMpiResult res = mpi_layer(be, t.inherited, ops, opt, act);
  t.mpi_rows = res.rows;
  t.method_dirs = res.dirs;
  t.steps_done = res.steps_done;
  t.converged = res.converged;
  t.weight_dirs = act && opt.figures
                      ? operator_directions(be, t.inherited, ops, opt.solver, nullptr)
                      : res.dirs;
}

std::vector<LayerTargets> weight_targets(const model::MoeModel& m, const std::vector<int>& layers,
                                         const MpiOptions& opt, linalg::Backend& be,
                                         const std::function<void(int, int)>& progress) {
  std::vector<LayerTargets> out;
  std::vector<analysis::RouterLayer> routers = analysis::load_routers(m);
  for (std::size_t i = 0; i < routers.size(); ++i) {
    if (progress) progress(static_cast<int>(i), static_cast<int>(routers.size()));
    LayerTargets t;
    t.inherited = std::move(routers[i]);
    t.selected = std::binary_search(layers.begin(), layers.end(), t.inherited.layer);
    if (t.selected) {
      mpi_targets(be, analysis::ModelOperands(m, t.inherited.layer, opt.matrix), opt, nullptr, t);
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace moerecal::recal
