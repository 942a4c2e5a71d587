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
  f.nll_base.push_back(-double{pb[target]});
  f.nll_cand.push_back(-double{pc[target]});
  f.top1_same.push_back(std::max_element(pb, pb + V) - pb == std::max_element(pc, pc + V) - pc);
}

}  // namespace

PositionFigures PositionFigures::select(const std::vector<std::size_t>& positions) const {
  PositionFigures s;
  for (std::size_t p : positions) {
    s.kl.push_back(kl.at(p));
    s.dp.push_back(dp.at(p));
    s.nll_base.push_back(nll_base.at(p));
    s.nll_cand.push_back(nll_cand.at(p));
    s.top1_same.push_back(top1_same.at(p));
  }
  return s;
}

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
  double dp_sum = 0, dp_sq = 0, nll_base = 0, nll_cand = 0;
  for (double x : f.dp) dp_sum += x, dp_sq += x * x;
  for (double x : f.nll_base) nll_base += x;
  for (double x : f.nll_cand) nll_cand += x;
  long long top1_same = 0;
  for (char same : f.top1_same) top1_same += same;
  return {{"kl.mean", kl.mean},
          {"kl.stderr", kl.stderr_mean},
          {"kl.median", kl.median},
          {"kl.p90", kl.p90},
          {"kl.p99", kl.p99},
          {"kl.p999", kl.p999},
          {"kl.max", kl.max},
          {"top1_agree", static_cast<double>(top1_same) / n},
          {"ppl.base", std::exp(nll_base / n)},
          {"ppl.cand", std::exp(nll_cand / n)},
          {"ppl.ln_ratio", (nll_cand - nll_base) / n},
          {"dp.mean", dp_sum / n},
          {"dp.rms", std::sqrt(dp_sq / n)}};
}

}  // namespace moerecal::compare
