#include "engine/perplexity.hpp"

#include <cmath>

#include "engine/ops.hpp"

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
  const int d = m.spec.hidden, V = m.spec.vocab;
  const std::vector<float> h = run_layers(m, be, windows, opt);
  const std::vector<float> head = read_lm_head(m);
  const ScoredPositions sp = scored_positions(windows);
  const std::vector<int>& targets = sp.targets;
  std::vector<float> rows;
  for (std::size_t row : sp.rows)
    rows.insert(rows.end(), h.begin() + row * d, h.begin() + (row + 1) * d);
  Perplexity r;
  constexpr std::size_t kChunk = 256;  // rows of logits formed at a time
  std::vector<float> logits(kChunk * V), lp(V);
  for (std::size_t r0 = 0; r0 < targets.size(); r0 += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, targets.size() - r0));
    be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, n, V, d, 1.0f, rows.data() + r0 * d, d,
            head.data(), d, 0.0f, logits.data(), V);
    for (int i = 0; i < n; ++i) {
      log_softmax_row(logits.data() + std::size_t(i) * V, lp.data(), V);
      r.nll_sum -= lp[targets[r0 + i]];
    }
  }
  r.n_scored = static_cast<std::int64_t>(targets.size());
  return r;
}

}  // namespace moerecal::engine
