// What a candidate set of routers does on the calibration windows, against the inherited model:
// KL(inherited || candidate) of the next-token distribution on the scored positions (as eval
// scores them) and the expert load of every MoE layer. The inherited model runs once; each trial
// runs the candidate once, and several candidates run in one lockstep pass (each layer's weights
// read and widened once for all of them). The layers before the first one a candidate changes run
// once for all trials (engine::run_prefix).
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "analysis/load_stats.hpp"
#include "engine/forward.hpp"
#include "engine/lm_head.hpp"

namespace moerecal::recal {

struct TrialResult {
  double kl_mean = 0;
  double maxvio_mean = 0;  // over MoE layers
  std::map<int, analysis::LoadStats> loads;
};

// The expert load of every MoE layer, from the selections a forward pass reports.
class LoadLog final : public engine::Observer {
 public:
  explicit LoadLog(const model::ModelSpec& s) : k_(s.top_k()), n_experts_(s.n_experts()) {}
  void on_router(const engine::RouterEvent& ev) override;
  // Takes the loads of the layers before `layer` from another pass (a prefix both passes share).
  void add_before(const std::map<int, analysis::LoadStats>& loads, int layer) {
    loads_.insert(loads.begin(), loads.lower_bound(layer));
  }
  // loads and their mean maxvio; kl_mean 0.
  TrialResult result() const;

 private:
  int k_, n_experts_;
  std::map<int, analysis::LoadStats> loads_;
};

class TrialRunner {
 public:
  using Routers = std::map<int, engine::RouterWeights>;  // candidate routers by MoE layer
  // Runs the inherited model over `windows` (kept by reference).
  TrialRunner(const model::MoeModel& m, linalg::Backend& be,
              const std::vector<std::vector<int>>& windows, std::size_t expert_memory,
              const std::function<void(int, int)>& progress = nullptr);
  // Takes the inherited model's pass made elsewhere (its final-norm hidden states and loads).
  TrialRunner(const model::MoeModel& m, linalg::Backend& be,
              const std::vector<std::vector<int>>& windows, std::size_t expert_memory,
              std::vector<float> inherited_hidden, const LoadLog& inherited_loads);
  // Candidate routers by MoE layer (others keep the checkpoint's).
  TrialResult run(const Routers& routers);
  // A candidate's pass made elsewhere (its final-norm hidden states, the scored rows read as
  // `run` reads them, and its loads): the same result as `run` on its routers. Not a trial.
  TrialResult measured(const std::vector<float>& hidden, const LoadLog& loads);
  // Several candidates, in lockstep passes of as many as the memory allows (at least one).
  std::vector<TrialResult> run(const std::vector<Routers>& candidates);
  // What a lockstep pass may hold for its streams beyond the first (hidden states and routers):
  // expert_memory, at most this.
  static constexpr std::size_t kLockstepMemory = std::size_t(2) << 30;
  const TrialResult& inherited() const { return base_; }
  // Progress of the trials: on_pass(first trial number, candidates) before each lockstep pass,
  // then on_layer(layer, number of layers) as each of its layers starts.
  std::function<void(int, int)> on_pass, on_layer;
  int trials() const { return trials_; }

 private:
  TrialResult measure(const engine::ForwardOptions& base_opt, std::vector<float>& hidden);
  std::vector<TrialResult> run_each(const std::vector<const Routers*>& candidates);
  std::size_t lockstep_width(const Routers& routers) const;
  // The residual stream entering `layer` on the checkpoint's routers (kept for the last `layer`
  // asked for); the loads of the layers before it are the inherited model's.
  const std::vector<float>& prefix(int layer);

  const model::MoeModel& m_;
  linalg::Backend& be_;
  const std::vector<std::vector<int>>& windows_;
  std::size_t expert_memory_;
  engine::LmHead head_;
  std::vector<std::size_t> scored_;  // the rows the KL reads (engine::scored_positions)
  std::vector<float> base_hidden_;
  int prefix_layer_ = -1;
  std::vector<float> prefix_;
  TrialResult base_;
  int trials_ = 0;
};

}  // namespace moerecal::recal
