// Model metrics of an eval: KL, agreement, perplexities and dp on the scored positions.
#include <algorithm>
#include <cmath>

#include "compare/eval_parts.hpp"
#include "engine/lm_head.hpp"
#include "engine/perplexity.hpp"
#include "report/eval_stats.hpp"

namespace moerecal::compare {
namespace {

void add_position(const float* pb, const float* pc, int V, int target, PositionFigures& f) {
  double kl = 0;
  for (int v = 0; v < V; ++v) kl += std::exp(double{pb[v]}) * (double{pb[v]} - pc[v]);
  f.kl.push_back(kl);
  f.dp.push_back(std::exp(double{pc[target]}) - std::exp(double{pb[target]}));
  f.nll_base -= pb[target];
  f.nll_cand -= pc[target];
  f.top1_same += std::max_element(pb, pb + V) - pb == std::max_element(pc, pc + V) - pc;
}

}  // namespace

PositionFigures position_figures(linalg::Backend& be, const model::MoeModel& base,
                                 const model::MoeModel& cand, bool shared,
                                 const std::vector<std::vector<int>>& windows,
                                 const std::vector<float>& hb, const std::vector<float>& hc) {
  const engine::LmHead head_b(base);
  const std::unique_ptr<engine::LmHead> own_c =
      shared ? nullptr : std::make_unique<engine::LmHead>(cand);
  const engine::LmHead& head_c = shared ? head_b : *own_c;
  const engine::ScoredPositions sp = engine::scored_positions(windows);
  constexpr std::size_t kChunk = 128;
  engine::LogProbChunks cb(head_b, hb, sp.rows, kChunk), cc(head_c, hc, sp.rows, kChunk);
  const int V = head_b.vocab;
  std::vector<float> pb(V), pc(V);
  PositionFigures f;
  while (cb.next(be) && cc.next(be)) {
    for (int i = 0; i < cb.size(); ++i) {
      cb.log_probs(i, pb.data());
      cc.log_probs(i, pc.data());
      add_position(pb.data(), pc.data(), V, sp.targets[cb.first() + i], f);
    }
  }
  return f;
}

nlohmann::json model_metrics(const PositionFigures& f) {
  const report::Summary kl = report::summarize(f.kl);
  const double n = static_cast<double>(std::max<std::size_t>(1, f.kl.size()));
  double dp_sum = 0, dp_sq = 0;
  for (double x : f.dp) dp_sum += x, dp_sq += x * x;
  return {{"kl.mean", kl.mean},
          {"kl.stderr", kl.stderr_mean},
          {"kl.median", kl.median},
          {"kl.p90", kl.p90},
          {"kl.p99", kl.p99},
          {"kl.p999", kl.p999},
          {"kl.max", kl.max},
          {"top1_agree", static_cast<double>(f.top1_same) / n},
          {"ppl.base", std::exp(f.nll_base / n)},
          {"ppl.cand", std::exp(f.nll_cand / n)},
          {"ppl.ln_ratio", (f.nll_cand - f.nll_base) / n},
          {"dp.mean", dp_sum / n},
          {"dp.rms", std::sqrt(dp_sq / n)}};
}

}  // namespace moerecal::compare
