#include "engine/moe.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/ops.hpp"
#include "linalg/parallel.hpp"

namespace moerecal::engine {
namespace {

using linalg::Trans;

// Top-k of one row of probabilities, best first (ties: lower index first).
void top_k(const float* p, int E, int k, int* idx) {
  std::vector<int> order(E);
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [p](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  std::copy_n(order.begin(), k, idx);
}

}  // namespace

void swiglu_add(linalg::Backend& be, const Mlp& w, const float* x, int n, int d, const float* scale,
                float* out) {
  const int m = w.width;
  std::vector<float> g(std::size_t(n) * m), u(std::size_t(n) * m), y(std::size_t(n) * d);
  be.gemm(Trans::kNo, Trans::kYes, n, m, d, 1.0f, x, d, w.gate.data(), d, 0.0f, g.data(), m);
  be.gemm(Trans::kNo, Trans::kYes, n, m, d, 1.0f, x, d, w.up.data(), d, 0.0f, u.data(), m);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = silu(g[i]) * u[i];
  be.gemm(Trans::kNo, Trans::kYes, n, d, m, 1.0f, g.data(), m, w.down.data(), m, 0.0f, y.data(), d);
  for (int r = 0; r < n; ++r) {
    const float c = scale ? scale[r] : 1.0f;
    for (int j = 0; j < d; ++j) out[std::size_t(r) * d + j] += c * y[std::size_t(r) * d + j];
  }
}

void moe_block(linalg::Backend& be, const model::ModelSpec& s, const LayerWeights& w,
               const std::vector<float>& router, int layer, const float* x, int T, float* out,
               Observer* observer) {
  const int d = s.hidden, E = s.n_experts, k = s.top_k;
  std::vector<float> logits(std::size_t(T) * E), probs;
  be.gemm(Trans::kNo, Trans::kYes, T, E, d, 1.0f, x, d, router.data(), d, 0.0f, logits.data(), E);
  probs = logits;
  softmax_rows(probs.data(), T, E);
  std::vector<int> sel(std::size_t(T) * k);
  std::vector<float> wts(std::size_t(T) * k);
  for (int t = 0; t < T; ++t) {
    top_k(probs.data() + std::size_t(t) * E, E, k, sel.data() + std::size_t(t) * k);
    double sum = 0;
    for (int j = 0; j < k; ++j) sum += probs[std::size_t(t) * E + sel[std::size_t(t) * k + j]];
    for (int j = 0; j < k; ++j) {
      const float p = probs[std::size_t(t) * E + sel[std::size_t(t) * k + j]];
      wts[std::size_t(t) * k + j] = s.norm_topk_prob ? static_cast<float>(p / sum) : p;
    }
  }
  if (observer) observer->on_router({layer, T, x, logits.data(), sel.data(), wts.data()});
  // Grouped GEMMs: gather the tokens routed to each expert.
  std::vector<std::vector<int>> tokens(E);
  std::vector<std::vector<float>> scales(E);
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < k; ++j) {
      tokens[sel[std::size_t(t) * k + j]].push_back(t);
      scales[sel[std::size_t(t) * k + j]].push_back(wts[std::size_t(t) * k + j]);
    }
  }
  // Experts side by side on single-threaded BLAS (skinny GEMMs); results are added in expert
  // order afterwards, so the sum does not depend on scheduling.
  std::vector<std::vector<float>> ys(E);
  linalg::parallel_for(E, [&](int e, linalg::Backend& wbe) {
    const int n = static_cast<int>(tokens[e].size());
    if (n == 0) return;
    std::vector<float> xe(std::size_t(n) * d);
    ys[e].assign(std::size_t(n) * d, 0.0f);
    for (int r = 0; r < n; ++r)
      std::copy_n(x + std::size_t(tokens[e][r]) * d, d, xe.data() + std::size_t(r) * d);
    swiglu_add(wbe, w.experts[e], xe.data(), n, d, scales[e].data(), ys[e].data());
  });
  for (int e = 0; e < E; ++e) {
    const float* ye = ys[e].data();
    for (std::size_t r = 0; r < tokens[e].size(); ++r)
      for (int j = 0; j < d; ++j) out[std::size_t(tokens[e][r]) * d + j] += ye[r * d + j];
  }
  if (w.shared.width == 0) return;
  std::vector<float> gate(T, 1.0f);
  if (!w.shared_gate.empty()) {
    be.gemm(Trans::kNo, Trans::kYes, T, 1, d, 1.0f, x, d, w.shared_gate.data(), d, 0.0f,
            gate.data(), 1);
    for (float& g : gate) g = 1.0f / (1.0f + std::exp(-g));
  }
  swiglu_add(be, w.shared, x, T, d, gate.data(), out);
}

}  // namespace moerecal::engine
