#include "recal/calibrate_data.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "engine/forward.hpp"
#include "engine/perplexity.hpp"

namespace moerecal::recal {
namespace {

// The experts' operands over the engine's expert bank: the weights it already widened for this
// layer (no second read of the expert tensors), or, when the layer's experts are streamed, one
// expert at a time (a group per worker within --expert-memory, for the direction solves).
class BankOperands final : public analysis::OperandSource {
 public:
  BankOperands(const engine::ExpertBank& bank, analysis::ExpertMatrix which, int d)
      : bank_(bank), which_(which), d_(d) {}
  int size() const override { return bank_.size(); }
  void with(int e, const std::function<void(const analysis::Blocks&)>& fn) const override {
    with_group(e, 1, [&](const std::vector<analysis::Blocks>& one) { fn(one[0]); });
  }
  int group_limit() const override { return bank_.group_limit(parts()); }
  void with_group(
      int first, int count,
      const std::function<void(const std::vector<analysis::Blocks>&)>& fn) const override {
    bank_.with_group(first, count, parts(), [&](const std::vector<const engine::Mlp*>& group) {
      std::vector<analysis::Blocks> blocks;
      for (const engine::Mlp* x : group) {
        blocks.push_back(analysis::expert_blocks(which_, x->gate.data(), x->up.data(),
                                                 x->down.data(), x->width, d_));
      }
      fn(blocks);
    });
  }

 private:
  // The matrices the operand reads: streamed experts widen only those.
  engine::MlpParts parts() const {
    using analysis::ExpertMatrix;
    return {which_ == ExpertMatrix::kGateUp || which_ == ExpertMatrix::kGate,
            which_ == ExpertMatrix::kGateUp || which_ == ExpertMatrix::kUp,
            which_ == ExpertMatrix::kDown};
  }

  const engine::ExpertBank& bank_;
  analysis::ExpertMatrix which_;
  int d_;
};

// The full balancing moves of a layer on its router inputs x [T, d]: the family bias' refit
// (from the inherited rows and from the MPI rows) when `refit_bias`, else the row shift that adds
// the balancing logit bias (the family's own bias, if any, kept as it is).
void balance_targets(linalg::Backend& be, const model::RoutingRule& rule, const float* x, int T,
                     const BalanceOptions& opt, bool refit_bias, LayerTargets& t) {
  const analysis::LoadStats inherited = analysis::load_with(be, rule, t.inherited, x, T);
  for (double l : inherited.load) {
    t.imbalance.push_back(std::min(1.0, std::abs(rule.n_experts * l - 1.0)));
  }
  analysis::RouterLayer mpi_router = t.inherited;
  if (!t.mpi_rows.empty()) mpi_router = rounded(candidate(be, t, {1, 0, 0}, Retraction::kSphere));
  const bool own = refit_bias && (rule.router_bias || rule.selection_bias);
  const BiasKind kind = own && !rule.router_bias ? BiasKind::kSelection : BiasKind::kRouter;
  std::vector<float> from_old, from_mpi;  // two independent searches, side by side
  be.parallel_for(2, [&](int i, linalg::Backend& wbe) {
    const analysis::RouterLayer& from = i == 0 ? t.inherited : mpi_router;
    (i == 0 ? from_old : from_mpi) = balance_bias(wbe, rule, from, kind, x, T, opt).bias;
  });
  if (own) {
    t.bias_kind = kind;
    t.bias_from_inherited = std::move(from_old);
    t.bias_from_mpi = std::move(from_mpi);
    return;
  }
  const std::vector<float> mu = mean_row(x, T, t.inherited.hidden);
  t.shift_from_inherited = row_shift(from_old, mu);
  t.shift_from_mpi = row_shift(from_mpi, mu);
}

class TargetPass final : public engine::Observer {
 public:
  TargetPass(const model::MoeModel& m, const std::vector<int>& layers, const DataOptions& opt,
             linalg::Backend& be, engine::Observer* watch)
      : m_(m), layers_(layers), opt_(opt), be_(be), watch_(watch) {
    for (analysis::RouterLayer& r : analysis::load_routers(m)) routers_[r.layer] = std::move(r);
  }

  const engine::RouterWeights* router_for(int layer, const engine::LayerWeights& w, const float* x,
                                          int T) override {
    LayerTargets t;
    t.inherited = routers_.at(layer);
    t.selected = std::binary_search(layers_.begin(), layers_.end(), layer);
    if (!t.selected) {
      targets_.push_back(std::move(t));
      return nullptr;
    }
    const int d = t.inherited.hidden;
    const BankOperands ops(w.experts, opt_.mpi.matrix, d);
    if (opt_.activations) {
      const ActivationMetric act = activation_metric(be_, x, T, d, opt_.shrinkage, opt_.centred);
      mpi_targets(be_, ops, opt_.mpi, &act, t);
    } else {
      mpi_targets(be_, ops, opt_.mpi, nullptr, t);
    }
    balance_targets(be_, m_.spec.routing, x, T, opt_.balance, opt_.refit_bias, t);
    propagate_[layer] =
        router_weights(rounded(candidate(be_, t, opt_.propagate, opt_.mpi.retraction)));
    targets_.push_back(std::move(t));
    return &propagate_[layer];
  }

  bool reads_experts(int layer) const override {
    return std::binary_search(layers_.begin(), layers_.end(), layer);
  }

  void on_router(const engine::RouterEvent& ev) override {
    if (watch_) watch_->on_router(ev);
  }

  std::vector<LayerTargets> take() { return std::move(targets_); }

 private:
  const model::MoeModel& m_;
  const std::vector<int>& layers_;
  const DataOptions& opt_;
  linalg::Backend& be_;
  engine::Observer* watch_;
  std::map<int, analysis::RouterLayer> routers_;
  std::map<int, engine::RouterWeights> propagate_;
  std::vector<LayerTargets> targets_;
};

}  // namespace

std::vector<LayerTargets> data_targets(const model::MoeModel& m,
                                       const std::vector<std::vector<int>>& windows,
                                       const std::vector<int>& layers, const DataOptions& opt,
                                       linalg::Backend& be,
                                       const std::function<void(int, int)>& progress,
                                       PassOutputs out) {
  const bool beside = out.inherited_loads || out.inherited_hidden;
  MR_ASSERT(!beside || (out.loads && out.inherited_loads && !opt.propagates_inherited()));
  TargetPass pass(m, layers, opt, be, out.loads);
  engine::ForwardOptions fo;
  fo.observer = &pass;
  fo.on_layer = progress;
  fo.expert_memory = opt.expert_memory;
  std::vector<std::size_t> read;  // none when the hidden states are not handed out
  if (out.hidden || out.inherited_hidden) read = engine::scored_positions(windows).rows;
  fo.read_rows = &read;
  if (!beside) {
    std::vector<float> hidden = engine::run_layers(m, be, windows, fo);
    if (out.hidden) *out.hidden = std::move(hidden);
    return pass.take();
  }
  // The inherited stream joins at the first selected layer: before it both streams are the same.
  const int first = layers.empty() ? m.spec.n_layers : layers.front();
  const std::vector<float> start = engine::run_prefix(m, be, windows, first, fo);
  out.inherited_loads->add_before(out.loads->result().loads, first);
  engine::ForwardOptions inherited;
  inherited.observer = out.inherited_loads;
  inherited.read_rows = &read;
  std::vector<std::vector<float>> hs =
      engine::run_layers_from(m, be, windows, first, start, {fo, inherited});
  if (out.hidden) *out.hidden = std::move(hs[0]);
  if (out.inherited_hidden) *out.inherited_hidden = std::move(hs[1]);
  return pass.take();
}

}  // namespace moerecal::recal
