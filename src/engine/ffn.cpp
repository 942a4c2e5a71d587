#include "engine/ffn.hpp"

#include <algorithm>
#include <cmath>

#include "engine/ops.hpp"

namespace moerecal::engine {

void linear(linalg::Backend& be, const float* x, int T, int d, const std::vector<float>& w, int n,
            const std::vector<float>& b, float* y) {
  be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, T, n, d, 1.0f, x, d, w.data(), d, 0.0f, y, n);
  if (b.empty()) return;
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < n; ++j) y[std::size_t(t) * n + j] += b[j];
}

namespace {

// h = (clamp(up) + 1) * gate * sigmoid(alpha * gate), gate clamped from above (gpt-oss).
void clamped_glu(std::vector<float>& g, const std::vector<float>& u,
                 const model::ExpertActivation& act) {
  const float limit = static_cast<float>(act.limit), alpha = static_cast<float>(act.alpha);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const float gate = std::min(g[i], limit), up = std::clamp(u[i], -limit, limit);
    g[i] = (up + 1.0f) * (gate / (1.0f + std::exp(-alpha * gate)));
  }
}

}  // namespace

void swiglu_add(linalg::Backend& be, const Mlp& w, const float* x, int n, int d, const float* scale,
                float* out, const model::ExpertActivation& act) {
  const int m = w.width;
  std::vector<float> g(std::size_t(n) * m), u(std::size_t(n) * m), y(std::size_t(n) * d);
  linear(be, x, n, d, w.gate, m, w.gate_bias, g.data());
  linear(be, x, n, d, w.up, m, w.up_bias, u.data());
  if (act.clamped) {
    clamped_glu(g, u, act);
  } else {
    for (std::size_t i = 0; i < g.size(); ++i) g[i] = silu(g[i]) * u[i];
  }
  linear(be, g.data(), n, m, w.down, d, w.down_bias, y.data());
  for (int r = 0; r < n; ++r) {
    const float c = scale ? scale[r] : 1.0f;
    for (int j = 0; j < d; ++j) out[std::size_t(r) * d + j] += c * y[std::size_t(r) * d + j];
  }
}

}  // namespace moerecal::engine
