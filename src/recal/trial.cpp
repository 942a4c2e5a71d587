#include "recal/trial.hpp"

#include "engine/positions.hpp"

namespace moerecal::recal {
namespace {

// Expert load of every MoE layer from the selections the engine reports.
struct LoadLog final : engine::Observer {
  int k = 0, n_experts = 0;
  std::map<int, analysis::LoadStats>* loads = nullptr;
  void on_router(const engine::RouterEvent& ev) override {
    (*loads)[ev.layer] = analysis::load_stats(ev.selected, ev.n_tokens, k, n_experts);
  }
};

double mean_maxvio(const std::map<int, analysis::LoadStats>& loads) {
  double s = 0;
  for (const auto& [layer, l] : loads) s += l.maxvio;
  return loads.empty() ? 0.0 : s / static_cast<double>(loads.size());
}

}  // namespace

TrialRunner::TrialRunner(const model::MoeModel& m, linalg::Backend& be,
                         const std::vector<std::vector<int>>& windows, std::size_t expert_memory,
                         const std::function<void(int, int)>& progress)
    : m_(m), be_(be), windows_(windows), expert_memory_(expert_memory), head_(m) {
  engine::ForwardOptions fo;
  fo.on_layer = progress;
  base_ = measure(fo, base_hidden_);
}

TrialResult TrialRunner::measure(const engine::ForwardOptions& opt, std::vector<float>& hidden) {
  TrialResult r;
  LoadLog log;
  log.k = m_.spec.top_k();
  log.n_experts = m_.spec.n_experts();
  log.loads = &r.loads;
  engine::ForwardOptions fo = opt;
  fo.observer = &log;
  fo.expert_memory = expert_memory_;
  hidden = engine::run_layers(m_, be_, windows_, fo);
  r.maxvio_mean = mean_maxvio(r.loads);
  return r;
}

TrialResult TrialRunner::run(const std::map<int, engine::RouterWeights>& routers) {
  engine::ForwardOptions fo;
  fo.routers = &routers;
  std::vector<float> hidden;
  TrialResult r = measure(fo, hidden);
  r.kl_mean = engine::position_figures(be_, head_, base_hidden_, head_, hidden, windows_).kl_mean();
  ++trials_;
  return r;
}

}  // namespace moerecal::recal
