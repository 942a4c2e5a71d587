#include "recal/trial.hpp"

#include <algorithm>

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

TrialResult TrialRunner::run(const Routers& routers) {
  return std::move(run_each({&routers}).front());
}

TrialResult TrialRunner::measured(const std::vector<float>& hidden, const LoadLog& loads) {
  TrialResult r = loads.result();
  r.kl_mean = engine::kl_means(be_, head_, base_hidden_, {&hidden}, windows_).front();
  return r;
}

std::vector<TrialResult> TrialRunner::run(const std::vector<Routers>& candidates) {
  std::vector<const Routers*> each;
  for (const Routers& c : candidates) each.push_back(&c);
  return run_each(each);
}

std::size_t TrialRunner::lockstep_width(const Routers& routers) const {
  std::size_t bytes = base_hidden_.size() * sizeof(float);
  for (const auto& [layer, r] : routers) {
    bytes += (r.rows.size() + r.router_bias.size() + r.selection_bias.size()) * sizeof(float);
  }
  return 1 + std::min(kLockstepMemory, expert_memory_) / std::max<std::size_t>(bytes, 1);
}

const std::vector<float>& TrialRunner::prefix(int layer) {
  if (layer != prefix_layer_) {
    engine::ForwardOptions fo;
    fo.expert_memory = expert_memory_;
    fo.read_rows = &scored_;
    prefix_ = engine::run_prefix(m_, be_, windows_, layer, fo);
    prefix_layer_ = layer;
  }
  return prefix_;
}

std::vector<TrialResult> TrialRunner::run_each(const std::vector<const Routers*>& candidates) {
  std::vector<TrialResult> out;
  if (candidates.empty()) return out;
  const std::size_t width = lockstep_width(*candidates.front());
  int shared = m_.spec.n_layers;  // the layers before the first one a candidate changes
  for (const Routers* c : candidates)
    shared = std::min(shared, c->empty() ? shared : c->begin()->first);
  const std::vector<float>* start = shared > 0 ? &prefix(shared) : nullptr;
  for (std::size_t first = 0; first < candidates.size(); first += width) {
    const std::size_t n = std::min(width, candidates.size() - first);
    std::vector<LoadLog> logs(n, LoadLog(m_.spec));
    std::vector<engine::ForwardOptions> streams(n);
    if (on_pass) on_pass(trials_ + 1, static_cast<int>(n));
    streams.front().on_layer = on_layer;
    for (std::size_t i = 0; i < n; ++i) {
      logs[i].add_before(base_.loads, shared);
      streams[i].routers = candidates[first + i];
      streams[i].observer = &logs[i];
      streams[i].expert_memory = expert_memory_;
      streams[i].read_rows = &scored_;
    }
    const std::vector<std::vector<float>> hidden =
        start ? engine::run_layers_from(m_, be_, windows_, shared, *start, streams)
              : engine::run_layers_lockstep(m_, be_, windows_, streams);
    std::vector<const std::vector<float>*> sides;
    for (const std::vector<float>& h : hidden) sides.push_back(&h);
    const std::vector<double> kl = engine::kl_means(be_, head_, base_hidden_, sides, windows_);
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(logs[i].result());
      out.back().kl_mean = kl[i];
      ++trials_;
    }
  }
  return out;
}

}  // namespace moerecal::recal
