#include "recal/calibrate_data.hpp"

#include <algorithm>
#include <map>

#include "engine/forward.hpp"

namespace moerecal::recal {
namespace {

class SequentialCalibrator final : public engine::Observer {
 public:
  SequentialCalibrator(const model::MoeModel& m, const std::vector<int>& layers,
                       const DataOptions& opt, linalg::Backend& be)
      : m_(m), layers_(layers), opt_(opt), be_(be) {
    for (analysis::RouterLayer& r : analysis::load_routers(m)) routers_[r.layer] = std::move(r);
  }

  const engine::RouterWeights* router_for(int layer, const engine::LayerWeights& w, const float* x,
                                          int T) override {
    const analysis::RouterLayer& router = routers_.at(layer);
    const bool selected = std::binary_search(layers_.begin(), layers_.end(), layer);
    const int d = router.hidden;
    const std::vector<analysis::ExpertOperand> ops = operands_of(w, d);
    const ActivationMetric act = activation_metric(be_, x, T, d, opt_.shrinkage);
    const LayerMpiResult res = mpi_layer(be_, router, ops, opt_.mpi, &act);
    const auto weight_dirs = operator_directions(be_, router, ops, opt_.mpi.solver, nullptr);
    LayerOutcome o = layer_outcome(be_, router, selected ? res.rows : router.rows, selected,
                                   selected ? res.steps_done : 0, weight_dirs);
    o.has_data = true;
    o.align_method_before = analysis::router_health(be_, o.before, res.dirs).align_mean;
    o.align_method_after = analysis::router_health(be_, o.after, res.dirs).align_mean;
    const model::RoutingRule& rule = m_.spec.routing;
    o.load_before = analysis::load_with(be_, rule, o.before, x, T);
    o.load_after = analysis::load_with(be_, rule, o.after, x, T);
    // the stored (rounded) router is what the model will run
    rows_[layer] = {o.after.rows, o.after.router_bias.values, o.after.selection_bias.values};
    outcomes_.push_back(std::move(o));
    return &rows_[layer];
  }

  std::vector<LayerOutcome> take() { return std::move(outcomes_); }

 private:
  // The experts' operands over the weights the engine already widened for this layer (no
  // second read of the expert tensors).
  std::vector<analysis::ExpertOperand> operands_of(const engine::LayerWeights& w, int d) const {
    std::vector<analysis::ExpertOperand> ops(w.experts.size());
    for (std::size_t e = 0; e < ops.size(); ++e) {
      const engine::Mlp& x = w.experts[e];
      ops[e].blocks = analysis::expert_blocks(opt_.mpi.matrix, x.gate.data(), x.up.data(),
                                              x.down.data(), x.width, d);
    }
    return ops;
  }

  const model::MoeModel& m_;
  const std::vector<int>& layers_;
  const DataOptions& opt_;
  linalg::Backend& be_;
  std::map<int, analysis::RouterLayer> routers_;
  std::map<int, engine::RouterWeights> rows_;
  std::vector<LayerOutcome> outcomes_;
};

}  // namespace

std::vector<LayerOutcome> calibrate_activations(const model::MoeModel& m,
                                                const std::vector<std::vector<int>>& windows,
                                                const std::vector<int>& layers,
                                                const DataOptions& opt, linalg::Backend& be,
                                                const std::function<void(int, int)>& progress) {
  SequentialCalibrator cal(m, layers, opt, be);
  engine::ForwardOptions fo;
  fo.observer = &cal;
  fo.on_layer = progress;
  engine::run_layers(m, be, windows, fo);
  return cal.take();
}

}  // namespace moerecal::recal
