#include "recal/calibrate_data.hpp"

#include <algorithm>
#include <map>

#include "engine/forward.hpp"

namespace moerecal::recal {
namespace {

// The experts' operands over the engine's expert bank: the weights it already widened for this
// layer (no second read of the expert tensors), or, when the layer's experts are streamed, one
// expert at a time.
class BankOperands final : public analysis::OperandSource {
 public:
  BankOperands(const engine::ExpertBank& bank, analysis::ExpertMatrix which, int d)
      : bank_(bank), which_(which), d_(d) {}
  int size() const override { return bank_.size(); }
  void with(int e, const std::function<void(const analysis::Blocks&)>& fn) const override {
    bank_.with(e, [&](const engine::Mlp& x) {
      fn(analysis::expert_blocks(which_, x.gate.data(), x.up.data(), x.down.data(), x.width, d_));
    });
  }

 private:
  const engine::ExpertBank& bank_;
  analysis::ExpertMatrix which_;
  int d_;
};

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
    const BankOperands ops(w.experts, opt_.mpi.matrix, d);
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
  fo.expert_memory = opt.expert_memory;
  engine::run_layers(m, be, windows, fo);
  return cal.take();
}

}  // namespace moerecal::recal
