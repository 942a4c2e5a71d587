// Model metrics of an eval: KL, agreement, perplexities and dp on the scored positions.
#include <algorithm>
#include <cmath>

#include "compare/eval_parts.hpp"
#include "engine/lm_head.hpp"
#include "report/eval_stats.hpp"

namespace moerecal::compare {
PositionFigures position_figures(linalg::Backend& be, const model::MoeModel& base,
                                 const model::MoeModel& cand, bool shared,
                                 const std::vector<std::vector<int>>& windows,
                                 const std::vector<float>& hb, const std::vector<float>& hc) {
  const engine::LmHead head_b(base);
  const std::unique_ptr<engine::LmHead> own_c =
      shared ? nullptr : std::make_unique<engine::LmHead>(cand);
  return engine::position_figures(be, head_b, hb, shared ? head_b : *own_c, hc, windows);
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
