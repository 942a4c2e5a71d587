#include "recal/calibrate_data.hpp"

#include <algorithm>
#include <map>

#include "engine/forward.hpp"

namespace moerecal::recal {
namespace {

LoadStats load_with(linalg::Backend& be, const std::vector<float>& rows, const float* x, int T,
                    int E, int d, int k) {
  std::vector<float> logits(std::size_t(T) * E);
  be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, T, E, d, 1.0f, x, d, rows.data(), d, 0.0f,
          logits.data(), E);
  const std::vector<int> sel = select_top_k(logits.data(), T, E, k);
  return load_stats(sel.data(), T, k, E);
}

class SequentialCalibrator final : public engine::Observer {
 public:
  SequentialCalibrator(const model::MoeModel& m, const std::vector<int>& layers,
                       const DataOptions& opt, linalg::Backend& be)
      : m_(m), layers_(layers), opt_(opt), be_(be) {
    for (RouterLayer& r : load_routers(m)) routers_[r.layer] = std::move(r);
  }

  const std::vector<float>* router_for(int layer, const engine::LayerWeights& w, const float* x,
                                       int T) override {
    const RouterLayer& router = routers_.at(layer);
    const bool selected = std::binary_search(layers_.begin(), layers_.end(), layer);
    const int d = router.hidden, E = router.n_experts, k = m_.spec.top_k;
    const std::vector<ExpertOperand> ops = operands_of(w, d);
    const ActivationMetric act = activation_metric(be_, x, T, d, opt_.shrinkage);
    const LayerMpiResult res = mpi_layer(be_, router, ops, opt_.mpi, &act);
    const auto weight_dirs = operator_directions(router, ops, opt_.mpi.solver, nullptr);
    LayerOutcome o = layer_outcome(be_, router, selected ? res.rows : router.rows, selected,
                                   selected ? res.steps_done : 0, weight_dirs);
    o.has_data = true;
    o.align_method_before = router_health(be_, o.before, res.dirs).align_mean;
    o.align_method_after = router_health(be_, o.after, res.dirs).align_mean;
    o.load_before = load_with(be_, o.before.rows, x, T, E, d, k);
    o.load_after = load_with(be_, o.after.rows, x, T, E, d, k);
    rows_[layer] = o.after.rows;  // the stored (rounded) router is what the model will run
    outcomes_.push_back(std::move(o));
    return &rows_[layer];
  }

  std::vector<LayerOutcome> take() { return std::move(outcomes_); }

 private:
  // The experts' operands over the weights the engine already widened for this layer (no
  // second read of the expert tensors).
  std::vector<ExpertOperand> operands_of(const engine::LayerWeights& w, int d) const {
    std::vector<ExpertOperand> ops(w.experts.size());
    for (std::size_t e = 0; e < ops.size(); ++e) {
      const engine::Mlp& x = w.experts[e];
      ops[e].blocks =
          expert_blocks(opt_.mpi.matrix, x.gate.data(), x.up.data(), x.down.data(), x.width, d);
    }
    return ops;
  }

  const model::MoeModel& m_;
  const std::vector<int>& layers_;
  const DataOptions& opt_;
  linalg::Backend& be_;
  std::map<int, RouterLayer> routers_;
  std::map<int, std::vector<float>> rows_;
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
