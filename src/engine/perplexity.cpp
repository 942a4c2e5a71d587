#include "engine/perplexity.hpp"

#include <cmath>

#include "engine/ops.hpp"

namespace moerecal::engine {

double Perplexity::ppl() const { return std::exp(nll_mean()); }

Perplexity perplexity(const model::MoeModel& m, linalg::Backend& be,
                      const std::vector<std::vector<int>>& windows, const ForwardOptions& opt) {
  const int d = m.spec.hidden, V = m.spec.vocab;
  const std::vector<float> h = run_layers(m, be, windows, opt);
  const std::vector<float> head =
      m.ckpt.read_f32(m.spec.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight");
  // Gather the scored rows and their targets.
  std::vector<float> rows;
  std::vector<int> targets;
  std::size_t off = 0;
  for (const auto& w : windows) {
    const std::size_t n = w.size();
    for (std::size_t p = n / 2; p + 1 < n; ++p) {
      rows.insert(rows.end(), h.begin() + (off + p) * d, h.begin() + (off + p + 1) * d);
      targets.push_back(w[p + 1]);
    }
    off += n;
  }
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
