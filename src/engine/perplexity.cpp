#include "engine/perplexity.hpp"

#include <cmath>

#include "engine/lm_head.hpp"

namespace moerecal::engine {

double Perplexity::ppl() const { return std::exp(nll_mean()); }

ScoredPositions scored_positions(const std::vector<std::vector<int>>& windows) {
  ScoredPositions sp;
  std::size_t off = 0;
  for (const auto& w : windows) {
    for (std::size_t p = w.size() / 2; p + 1 < w.size(); ++p) {
      sp.rows.push_back(off + p);
      sp.targets.push_back(w[p + 1]);
    }
    off += w.size();
  }
  return sp;
}

Perplexity perplexity(const model::MoeModel& m, linalg::Backend& be,
                      const std::vector<std::vector<int>>& windows, const ForwardOptions& opt) {
  const ScoredPositions sp = scored_positions(windows);
  ForwardOptions fo = opt;
  fo.read_rows = &sp.rows;
  const std::vector<float> h = run_layers(m, be, windows, fo);
  const LmHead head(m);
  Perplexity r;
  std::vector<float> lp(head.vocab);
  LogProbChunks chunks(head, h, sp.rows, 256);
  while (chunks.next(be)) {
    for (int i = 0; i < chunks.size(); ++i) {
      chunks.log_probs(i, lp.data());
      r.nll_sum -= lp[sp.targets[chunks.first() + i]];
    }
  }
  r.n_scored = static_cast<std::int64_t>(sp.targets.size());
  return r;
}

}  // namespace moerecal::engine
