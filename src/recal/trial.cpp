#include "recal/trial.hpp"

#include "engine/perplexity.hpp"
#include "engine/positions.hpp"

namespace moerecal::recal {

void LoadLog::on_router(const engine::RouterEvent& ev) {
  loads_[ev.layer] = analysis::load_stats(ev.selected, ev.n_tokens, k_, n_experts_);
}

TrialResult LoadLog::result() const {
  TrialResult r;
  r.loads = loads_;
  for (const auto& [layer, l] : loads_) r.maxvio_mean += l.maxvio;
  if (!loads_.empty()) r.maxvio_mean /= static_cast<double>(loads_.size());
  return r;
}

TrialRunner::TrialRunner(const model::MoeModel& m, linalg::Backend& be,
                         const std::vector<std::vector<int>>& windows, std::size_t expert_memory,
                         const std::function<void(int, int)>& progress)
    : m_(m),
      be_(be),
      windows_(windows),
      expert_memory_(expert_memory),
      head_(m),
      scored_(engine::scored_positions(windows).rows) {
  engine::ForwardOptions fo;
  fo.on_layer = progress;
  base_ = measure(fo, base_hidden_);
}

TrialRunner::TrialRunner(const model::MoeModel& m, linalg::Backend& be,
                         const std::vector<std::vector<int>>& windows, std::size_t expert_memory,
                         std::vector<float> inherited_hidden, const LoadLog& inherited_loads)
    : m_(m),
      be_(be),
      windows_(windows),
      expert_memory_(expert_memory),
      head_(m),
      scored_(engine::scored_positions(windows).rows),
      base_hidden_(std::move(inherited_hidden)),
      base_(inherited_loads.result()) {}

TrialResult TrialRunner::measure(const engine::ForwardOptions& opt, std::vector<float>& hidden) {
  LoadLog log(m_.spec);
  engine::ForwardOptions fo = opt;
  fo.observer = &log;
  fo.expert_memory = expert_memory_;
  fo.read_rows = &scored_;
  hidden = engine::run_layers(m_, be_, windows_, fo);
  return log.result();
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
